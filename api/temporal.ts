// ProvisioningControl over @temporalio/client. Signal and query definitions, workflow ids, the
// task queue and the job's type name come from workflows/messages.ts (they are recorded in
// histories and never change); the API imports no workflow code (`import type` only).
import type { WorkflowClient } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type SignalDefinition } from '@temporalio/common';
import { WorkflowUpdateStage } from '@temporalio/client';
import type { OnDemandReport } from '../activities/types.ts';
import type { JobInput, provisioningJobWorkflow } from '../workflows/job.ts';
import {
  approveDeletionsSignal,
  configChangedSignal,
  JOB_WORKFLOW_TYPE,
  jobWorkflowId,
  onDemandUpdate,
  onDemandWorkflowId,
  pauseSignal,
  quarantineSignal,
  rejectDeletionsSignal,
  releaseSignal,
  restartSignal,
  resumeSignal,
  runNowSignal,
  statusQuery,
  TASK_QUEUE,
} from '../workflows/messages.ts';
import { ApiError, onDemandFailureCode } from './errors.ts';
import type {
  JobStatus,
  OnDemandOutcome,
  OnDemandRequest,
  ProvisioningControl,
  RestartReset,
  StartOptions,
} from './provisioning-control.ts';

/** First argument of provisioningJobWorkflow when the API starts it: `paused` starts the job paused. */
export type JobWorkflowInput = Pick<JobInput, 'appId' | 'appName' | 'paused'>;

export interface TemporalProvisioningControlOptions {
  client: WorkflowClient;
  taskQueue?: string;
  /** How long provisionOnDemand waits for the report by default (ms). */
  onDemandTimeoutMs?: number;
}

const isNotFound = (error: unknown): boolean =>
  error instanceof WorkflowNotFoundError || (error instanceof Error && error.name === 'WorkflowNotFoundError');

const isUnavailable = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'ServiceError' || error.name === 'TransportError');

/** The type of the ApplicationFailure at the root of a failed update or workflow (null: none). */
function failureType(error: unknown): { type: string; message: string } | null {
  let current: unknown = error;
  let found: { type: string; message: string } | null = null;
  while (current instanceof Error) {
    const type = (current as { type?: unknown }).type;
    if (current.name === 'ApplicationFailure' && typeof type === 'string' && type) {
      found = { type, message: current.message };
    }
    current = current.cause;
  }
  return found;
}

const isDeadline = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  if (error.name === 'WorkflowUpdateRPCTimeoutOrCancelledError') return true;
  const code = (error.cause as { code?: unknown } | undefined)?.code ?? (error as { code?: unknown }).code;
  return code === 4; // gRPC DEADLINE_EXCEEDED
};

/** A failed on-demand as the API error its failure type calls for (docs/operations.md lists them). */
function onDemandError(appId: string, request: OnDemandRequest, error: unknown): never {
  return onDemandFailure(appId, `${request.objectType} ${request.objectId}`, request.requestId, error);
}

function onDemandFailure(appId: string, object: string, requestId: string, error: unknown): never {
  if (error instanceof ApiError) throw error;
  if (isDeadline(error)) {
    throw new ApiError('timeout', `On-demand provisioning ${requestId} did not finish in time`, {
      cause: error,
    });
  }
  const failure = failureType(error);
  if (failure) {
    const code = onDemandFailureCode(failure.type);
    if (code === 'job_not_running') {
      throw new ApiError(code, `Provisioning of app ${appId} ended: ${failure.message}`, { cause: error });
    }
    throw new ApiError(code, `On-demand provisioning of ${object} failed: ${failure.message}`, { cause: error });
  }
  return translate(appId, error);
}

/** The API error of an on-demand workflow that closed without a report (failed, terminated, timed out). */
function failedOnDemand(appId: string, requestId: string, error: unknown): ApiError {
  if (failureType(error)) {
    try {
      onDemandFailure(appId, requestId, requestId, error);
    } catch (failure) {
      if (failure instanceof ApiError) return failure;
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError('on_demand_failed', `On-demand provisioning ${requestId} ended without a report: ${message}`, {
    cause: error,
  });
}

/** A Temporal client error as the API error it means (not found → 409 job_not_running, unreachable → 503). */
function translate(appId: string, error: unknown): never {
  if (error instanceof ApiError) throw error;
  if (isNotFound(error)) {
    throw new ApiError(
      'job_not_running',
      `Provisioning is not running for app ${appId}: start it first (POST /api/v1/apps/${appId}/provisioning/start)`,
      { cause: error },
    );
  }
  if (isUnavailable(error)) throw new ApiError('unavailable', 'Temporal is unavailable', { cause: error });
  throw error;
}

/** The on-demand workflow of a request: running, its report, its failure, or unknown (never started, or purged). */
async function readOnDemandOutcome(
  client: WorkflowClient,
  appId: string,
  requestId: string,
  timeoutMs = 5_000,
): Promise<OnDemandOutcome> {
  const handle = client.getHandle(onDemandWorkflowId(appId, requestId));
  const ask = async (): Promise<OnDemandOutcome> => {
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') return { state: 'running' };
    try {
      return { state: 'done', report: (await handle.result()) as OnDemandReport };
    } catch (error) {
      if (isUnavailable(error)) throw error;
      return { state: 'failed', error: failedOnDemand(appId, requestId, error) };
    }
  };
  try {
    return await client.connection.withDeadline(Date.now() + timeoutMs, ask);
  } catch (error) {
    if (isNotFound(error)) return { state: 'unknown' };
    return translate(appId, error);
  }
}

export function createTemporalProvisioningControl(options: TemporalProvisioningControlOptions): ProvisioningControl {
  const { client } = options;
  const taskQueue = options.taskQueue ?? TASK_QUEUE;
  const onDemandTimeoutMs = options.onDemandTimeoutMs ?? 60_000;

  const startOptions = (appId: string, start?: StartOptions) => {
    const input: JobWorkflowInput = {
      appId,
      ...(start?.appName ? { appName: start.appName } : {}),
      ...(start?.paused ? { paused: true } : {}),
    };
    return {
      taskQueue,
      workflowId: jobWorkflowId(appId),
      args: [input] as const,
      ...(start?.appName ? { memo: { appName: start.appName } } : {}),
    };
  };

  const signal = async <Args extends unknown[]>(
    appId: string,
    definition: SignalDefinition<Args>,
    ...args: Args
  ): Promise<void> => {
    try {
      await client.getHandle(jobWorkflowId(appId)).signal(definition, ...args);
    } catch (error) {
      translate(appId, error);
    }
  };

  return {
    async start(appId, start) {
      try {
        await client.signalWithStart<typeof provisioningJobWorkflow, []>(JOB_WORKFLOW_TYPE, {
          ...startOptions(appId, start),
          signal: resumeSignal,
          signalArgs: [],
        });
      } catch (error) {
        translate(appId, error);
      }
    },
    async ensure(appId, start) {
      try {
        await client.start<typeof provisioningJobWorkflow>(JOB_WORKFLOW_TYPE, {
          ...startOptions(appId, start),
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        });
      } catch (error) {
        translate(appId, error);
      }
    },
    pause: (appId) => signal(appId, pauseSignal),
    resume: (appId) => signal(appId, resumeSignal),
    runNow: (appId) => signal(appId, runNowSignal),
    restart: (appId, reset: RestartReset) => signal(appId, restartSignal, { reset }),
    configChanged: (appId) => signal(appId, configChangedSignal),
    quarantine: (appId, reason) => signal(appId, quarantineSignal, { reason }),
    release: (appId) => signal(appId, releaseSignal),
    approveDeletions: (appId) => signal(appId, approveDeletionsSignal),
    rejectDeletions: (appId) => signal(appId, rejectDeletionsSignal),

    async provisionOnDemand(appId, request: OnDemandRequest, opts) {
      // One Update on the job, its id the request id: a repeated call is answered once (no polling).
      const deadline = Date.now() + (opts?.timeoutMs ?? onDemandTimeoutMs);
      const args: [OnDemandRequest] = [{ ...request }];
      try {
        return await client.connection.withDeadline(deadline, () =>
          client.getHandle(jobWorkflowId(appId)).executeUpdate(onDemandUpdate, { args, updateId: request.requestId }),
        );
      } catch (error) {
        if (failureType(error)?.type !== 'OnDemandAlreadyStarted') return onDemandError(appId, request, error);
      }
      // The request id ran in an earlier run of the job: its child workflow has the report.
      try {
        return (await client.connection.withDeadline(deadline, () =>
          client.getHandle(onDemandWorkflowId(appId, request.requestId)).result(),
        )) as OnDemandReport;
      } catch (error) {
        return onDemandError(appId, request, error);
      }
    },

    async startOnDemand(appId, request: OnDemandRequest) {
      // The same Update as provisionOnDemand, answered once the job accepted it (its validator passed);
      // the progress route follows it. A repeated request id is the same Update.
      const args: [OnDemandRequest] = [{ ...request }];
      try {
        await client.getHandle(jobWorkflowId(appId)).startUpdate(onDemandUpdate, {
          args,
          updateId: request.requestId,
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        });
      } catch (error) {
        onDemandError(appId, request, error);
      }
    },

    onDemandOutcome: (appId, requestId, opts) => readOnDemandOutcome(client, appId, requestId, opts?.timeoutMs),

    async stop(appId) {
      const reason = `App ${appId} deleted`;
      const terminate = async (workflowId: string) => {
        try {
          // The latest run: a cycle may have continued-as-new since it was listed.
          await client.getHandle(workflowId).terminate(reason);
        } catch (error) {
          // Already closed (or never started): nothing to end.
          if (!isNotFound(error)) translate(appId, error);
        }
      };
      try {
        // The job first, so it starts no new child; cycle children close with it (parent close
        // policy TERMINATE), but on-demand children are abandoned by design and end here.
        const children = new Set<string>();
        try {
          const description = await client.getHandle(jobWorkflowId(appId)).describe();
          for (const child of description.raw.pendingChildren ?? []) {
            if (child.workflowId) children.add(child.workflowId);
          }
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
        await terminate(jobWorkflowId(appId));
        // Children of earlier runs (before a continue-as-new) are found by their id prefix.
        const query = `WorkflowId STARTS_WITH '${jobWorkflowId(appId)}:' AND ExecutionStatus = 'Running'`;
        for await (const run of client.list({ query })) children.add(run.workflowId);
        for (const workflowId of children) await terminate(workflowId);
      } catch (error) {
        translate(appId, error);
      }
    },

    async status(appId, options = {}): Promise<JobStatus | null> {
      const handle = client.getHandle(jobWorkflowId(appId));
      const ask = async (): Promise<JobStatus | null> => {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING') return null;
        return await handle.query(statusQuery);
      };
      try {
        const { timeoutMs } = options;
        return timeoutMs === undefined
          ? await ask()
          : await client.connection.withDeadline(Date.now() + timeoutMs, ask);
      } catch (error) {
        if (isNotFound(error)) return null;
        return translate(appId, error);
      }
    },
  };
}

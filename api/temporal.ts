// ProvisioningControl over @temporalio/client. Signal and query NAMES are plain strings that
// must equal those of workflows/messages.ts (they are recorded in histories and never change);
// the API does not import workflow code (DESIGN.md §6).
import type { WorkflowClient } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowNotFoundError } from '@temporalio/common';
import type { OnDemandReport } from '../activities/types.ts';
import { ApiError } from './errors.ts';
import { TIMED_OUT, withTimeout } from './timeout.ts';
import {
  jobWorkflowId,
  onDemandWorkflowId,
  type JobStatus,
  type OnDemandRequest,
  type ProvisioningControl,
  type RestartReset,
  type StartOptions,
} from './provisioning-control.ts';

export const JOB_WORKFLOW_TYPE = 'provisioningJobWorkflow';
export const DEFAULT_TASK_QUEUE = 'ferry';

/** Wire names of the job workflow's signals and query (issue 5, workflows/messages.ts). */
export const JOB_SIGNALS = {
  pause: 'pause',
  resume: 'resume',
  runNow: 'runNow',
  restart: 'restart',
  configChanged: 'configChanged',
  quarantine: 'quarantine',
  release: 'release',
  approveDeletions: 'approveDeletions',
  rejectDeletions: 'rejectDeletions',
  provisionOnDemand: 'provisionOnDemand',
} as const;
export const JOB_STATUS_QUERY = 'status';

/** First argument of provisioningJobWorkflow when the API starts it (a subset of its JobInput). */
export interface JobWorkflowInput {
  appId: string;
  appName?: string;
  /** The job starts paused (JobMemory.paused). */
  paused?: boolean;
}

export interface TemporalProvisioningControlOptions {
  client: WorkflowClient;
  taskQueue?: string;
  /** How long provisionOnDemand waits for the report by default (ms). */
  onDemandTimeoutMs?: number;
  /** Interval between looks for the on-demand child workflow before it exists (ms). */
  pollIntervalMs?: number;
}

const isNotFound = (error: unknown): boolean =>
  error instanceof WorkflowNotFoundError || (error instanceof Error && error.name === 'WorkflowNotFoundError');

const isUnavailable = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'ServiceError' || error.name === 'TransportError');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createTemporalProvisioningControl(options: TemporalProvisioningControlOptions): ProvisioningControl {
  const { client } = options;
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const onDemandTimeoutMs = options.onDemandTimeoutMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 100;

  const translate = (appId: string, error: unknown): never => {
    if (error instanceof ApiError) throw error;
    if (isNotFound(error)) {
      throw new ApiError('conflict', `Provisioning is not running for app ${appId}; start it first`, { cause: error });
    }
    if (isUnavailable(error)) throw new ApiError('unavailable', 'Temporal is unavailable', { cause: error });
    throw error;
  };

  const startOptions = (appId: string, start?: StartOptions) => ({
    taskQueue,
    workflowId: jobWorkflowId(appId),
    args: [
      {
        appId,
        ...(start?.appName ? { appName: start.appName } : {}),
        ...(start?.paused ? { paused: true } : {}),
      } satisfies JobWorkflowInput,
    ],
    ...(start?.appName ? { memo: { appName: start.appName } } : {}),
  });

  const signal = async (appId: string, name: string, ...args: unknown[]): Promise<void> => {
    try {
      await client.getHandle(jobWorkflowId(appId)).signal(name, ...args);
    } catch (error) {
      translate(appId, error);
    }
  };

  return {
    async start(appId, start) {
      try {
        await client.signalWithStart(JOB_WORKFLOW_TYPE, {
          ...startOptions(appId, start),
          signal: JOB_SIGNALS.resume,
          signalArgs: [],
        });
      } catch (error) {
        translate(appId, error);
      }
    },
    async ensure(appId, start) {
      try {
        await client.start(JOB_WORKFLOW_TYPE, {
          ...startOptions(appId, start),
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        });
      } catch (error) {
        translate(appId, error);
      }
    },
    pause: (appId) => signal(appId, JOB_SIGNALS.pause),
    resume: (appId) => signal(appId, JOB_SIGNALS.resume),
    runNow: (appId) => signal(appId, JOB_SIGNALS.runNow),
    restart: (appId, reset: RestartReset) => signal(appId, JOB_SIGNALS.restart, { reset }),
    configChanged: (appId) => signal(appId, JOB_SIGNALS.configChanged),
    quarantine: (appId, reason) => signal(appId, JOB_SIGNALS.quarantine, { reason }),
    release: (appId) => signal(appId, JOB_SIGNALS.release),
    approveDeletions: (appId) => signal(appId, JOB_SIGNALS.approveDeletions),
    rejectDeletions: (appId) => signal(appId, JOB_SIGNALS.rejectDeletions),

    async provisionOnDemand(appId, request: OnDemandRequest, opts) {
      await signal(appId, JOB_SIGNALS.provisionOnDemand, { ...request });
      const deadline = Date.now() + (opts?.timeoutMs ?? onDemandTimeoutMs);
      const child = client.getHandle(onDemandWorkflowId(appId, request.requestId));
      // The job starts the child from its main loop, so it may not exist yet when we first look.
      for (;;) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new ApiError('timeout', `On-demand provisioning ${request.requestId} did not finish in time`);
        }
        try {
          const report = await withTimeout(child.result() as Promise<OnDemandReport>, remaining);
          if (report !== TIMED_OUT) return report;
        } catch (error) {
          if (!isNotFound(error)) translate(appId, error);
          await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())));
        }
      }
    },

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

    async status(appId): Promise<JobStatus | null> {
      const handle = client.getHandle(jobWorkflowId(appId));
      try {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING') return null;
        return await handle.query<JobStatus>(JOB_STATUS_QUERY);
      } catch (error) {
        if (isNotFound(error)) return null;
        return translate(appId, error);
      }
    },
  };
}

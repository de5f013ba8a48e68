// One real Worker (on a fresh task queue) + Client on a Temporal backend (the in-repo test service with
// time skipping by default, or the real server: test/support/temporal.ts), serving Ferry's workflows
// with the recording fake activities.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { createTemporalTestEnv, inRepoBackend, type TemporalBackend } from '../support/temporal.ts';
import { createFakeActivities, type FakeApp } from './fake-activities.ts';
import { JOB_WORKFLOW_TYPE, jobWorkflowId, onDemandWorkflowId, statusQuery } from '../../workflows/messages.ts';
import { withCycleProgress, type ProvisioningJobStatus } from '../../api/cycle-progress.ts';
import type { OnDemandReport } from '../../activities/types.ts';
import type { JobInput } from '../../workflows/job.ts';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export type Harness = Awaited<ReturnType<typeof startHarness>>;

let runtimeInstalled = false;

/**
 * Both backends suggest continue-as-new from this many events in these tests (the default is 4,096):
 * the test that grows a history to it then sends ~250 signals, not 4,200, which a loaded machine's
 * workflow thread handles without piling them into one huge activation.
 */
export const SUGGEST_CONTINUE_AS_NEW_EVENTS = 500;

export interface HarnessOptions {
  backend?: TemporalBackend;
  /** Real server only: serve the Web UI. */
  ui?: boolean;
  /** Worker and client encrypt payloads with it (as Ferry's processes do). */
  payloadCodec?: PayloadCodec;
}

export async function startHarness(options: HarnessOptions = {}) {
  if (!runtimeInstalled) {
    // Keep test output readable: the worker logs bundling and state changes at INFO.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const env = await createTemporalTestEnv({
    backend: options.backend ?? inRepoBackend,
    timeSkipping: true,
    ui: options.ui,
    payloadCodec: options.payloadCodec,
    limits: { historyCountSuggestContinueAsNew: SUGGEST_CONTINUE_AS_NEW_EVENTS },
  });
  const fakes = createFakeActivities(() => env.now());
  const taskQueue = `ferry-wf-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowsPath,
    activities: fakes.activities,
    ...(options.payloadCodec ? { dataConverter: { payloadCodecs: [options.payloadCodec] } } : {}),
  });
  const running = worker.run();

  const started: WorkflowHandle[] = [];
  /** What the API answers: the job's status query and the running cycle's progress from the (fake) store. */
  const query = async (appId: string): Promise<ProvisioningJobStatus> =>
    withCycleProgress(appId, await jobHandle(appId).query(statusQuery), fakes.progress, () => env.now());
  const jobHandle = (appId: string): WorkflowHandle => env.client.workflow.getHandle(jobWorkflowId(appId));

  /**
   * Until the job has nothing in flight: on the in-repo service, a skip of 0 ms (the whole service is
   * quiescent); on the real server, until the job's latest run has no workflow task and no activity
   * pending (its cycle child, if any, may still run).
   */
  const settled = async (appId: string): Promise<void> => {
    if (env.backend.skipsTime) return env.skipTime(0);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { raw } = await jobHandle(appId).describe();
      if (!raw.pendingWorkflowTask && (raw.pendingActivities ?? []).length === 0) return;
      if (Date.now() > deadline) throw new Error(`job of ${appId} did not settle: ${JSON.stringify(raw)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  /** A compact dump of every run of a workflow id, to diagnose a test that timed out. */
  const describeRuns = async (workflowId: string): Promise<string> => {
    const lines: string[] = [];
    try {
      for await (const run of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
        const history = await env.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
        const events = (history.events ?? []).map((e) => {
          const detail =
            e.workflowExecutionSignaledEventAttributes?.signalName ??
            e.activityTaskScheduledEventAttributes?.activityType?.name ??
            e.workflowTaskFailedEventAttributes?.cause ??
            '';
          return `${e.eventId}:${e.eventType}${detail ? `(${detail})` : ''}`;
        });
        lines.push(`run ${run.runId} ${run.status.name}: ${events.join(' ')}`);
      }
    } catch (err) {
      lines.push(`(history unavailable: ${String(err)})`);
    }
    return lines.join('\n');
  };

  return {
    env,
    fakes,
    taskQueue,
    client: env.client,
    jobHandle,
    async startJob(app: Partial<FakeApp> = {}, input: Partial<JobInput> = {}) {
      const appId = `app-${randomUUID().slice(0, 8)}`;
      const fake = fakes.addApp(appId, app);
      const handle = await env.client.workflow.start(JOB_WORKFLOW_TYPE, {
        workflowId: jobWorkflowId(appId),
        taskQueue,
        args: [{ appId, appName: fake.appName, ...input }],
      });
      started.push(handle);
      return { appId, app: fake, handle };
    },
    status(appId: string): Promise<ProvisioningJobStatus> {
      return query(appId);
    },
    /**
     * What the API does for on-demand: signal the job, then await the child by its id. The child may
     * not exist yet right after the signal, so a not-found answer is retried for a while.
     */
    async onDemandResult(appId: string, requestId: string): Promise<OnDemandReport> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          return (await env.client.workflow.getHandle(onDemandWorkflowId(appId, requestId)).result()) as OnDemandReport;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    },
    /** Polls the job's status (real time) until `accept` holds. */
    async waitForStatus(
      appId: string,
      accept: (s: ProvisioningJobStatus) => boolean,
      what = 'status',
      { settle = true }: { settle?: boolean } = {},
    ): Promise<ProvisioningJobStatus> {
      const deadline = Date.now() + 30_000;
      let last: ProvisioningJobStatus | undefined;
      while (Date.now() < deadline) {
        try {
          last = await query(appId);
          if (accept(last)) {
            if (!settle) return last;
            // Let the job finish what it does after the status changed (notify, continue-as-new) so
            // the test's next signal finds it waiting, as a signal from a person would.
            await settled(appId);
            return await query(appId);
          }
        } catch {
          // the job may be between runs (continue-as-new) for a moment
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(
        `timed out waiting for ${what}; last status: ${JSON.stringify(last)}\n${await describeRuns(jobWorkflowId(appId))}`,
      );
    },
    /**
     * Terminates the jobs started so far: they never end on their own, and their timers would fire
     * during the next test's skipTime.
     */
    async stopJobs() {
      const handles = started.splice(0);
      await Promise.all(
        handles.map((handle) =>
          env.client.workflow
            .getHandle(handle.workflowId)
            .terminate('test over')
            .catch(() => undefined),
        ),
      );
    },
    async close() {
      worker.shutdown();
      await running;
      await env.close();
    },
  };
}

// One real Worker (on a fresh task queue) + Client on the in-repo Temporal test service with time
// skipping, serving Ferry's workflows with the recording fake activities.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { createTemporalTestEnv } from '../support/temporal.ts';
import { createFakeActivities, type FakeApp } from './fake-activities.ts';
import { jobWorkflowId, onDemandWorkflowId, statusQuery, type JobStatus } from '../../workflows/messages.ts';
import type { OnDemandReport } from '../../activities/types.ts';
import type { JobInput } from '../../workflows/job.ts';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export type Harness = Awaited<ReturnType<typeof startHarness>>;

let runtimeInstalled = false;

export async function startHarness() {
  if (!runtimeInstalled) {
    // Keep test output readable: the worker logs bundling and state changes at INFO.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const env = await createTemporalTestEnv({ timeSkipping: true });
  const fakes = createFakeActivities(() => env.now());
  const taskQueue = `ferry-wf-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowsPath,
    activities: fakes.activities,
  });
  const running = worker.run();

  const started: WorkflowHandle[] = [];
  const jobHandle = (appId: string): WorkflowHandle => env.client.workflow.getHandle(jobWorkflowId(appId));

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
      const handle = await env.client.workflow.start('provisioningJobWorkflow', {
        workflowId: jobWorkflowId(appId),
        taskQueue,
        args: [{ appId, appName: fake.appName, ...input }],
      });
      started.push(handle);
      return { appId, app: fake, handle };
    },
    status(appId: string): Promise<JobStatus> {
      return jobHandle(appId).query(statusQuery);
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
      accept: (s: JobStatus) => boolean,
      what = 'status',
      { settle = true }: { settle?: boolean } = {},
    ): Promise<JobStatus> {
      const deadline = Date.now() + 30_000;
      let last: JobStatus | undefined;
      while (Date.now() < deadline) {
        try {
          last = await jobHandle(appId).query(statusQuery);
          if (accept(last)) {
            if (!settle) return last;
            // Let the job finish what it does after the status changed (notify, continue-as-new) so
            // the test's next signal finds it waiting, as a signal from a person would.
            await env.skipTime(0);
            return await jobHandle(appId).query(statusQuery);
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

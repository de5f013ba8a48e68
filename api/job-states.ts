// The job states behind `ferry_jobs` and `ferry_job_state` (telemetry/metrics.ts), read when
// /metrics is scraped: one paged visibility list of the running provisioning jobs (their
// FerryJobState search attribute) and the apps with provisioning on from the store, all within one
// deadline. Past it the read rejects: that scrape has no job gauges, and /metrics still answers.
import type { WorkflowClient, WorkflowExecutionInfo } from '@temporalio/client';
import type { Store } from '../store/index.ts';
import type { JobStatesSnapshot } from '../telemetry/metrics.ts';
import { TIMED_OUT, withTimeout } from './timeout.ts';
import { appIdSearchAttribute, JOB_WORKFLOW_TYPE, jobStateSearchAttribute } from '../workflows/messages.ts';

/** How long a scrape waits for Temporal and the store by default (ms). */
export const JOB_STATES_TIMEOUT_MS = 2_000;
const PAGE_SIZE = 500;

/** The running jobs visible to the client, each with its app id and state (jobs not yet showing a state are left out). */
export const RUNNING_JOBS_QUERY = `WorkflowType = '${JOB_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;

/**
 * A Keyword search attribute of a listed run, read through the untyped view: it reads values
 * with and without type metadata alike (as the job itself does, workflows/job.ts).
 */
function keyword(run: WorkflowExecutionInfo, name: string): string | null {
  const value = run.searchAttributes[name]?.[0];
  return typeof value === 'string' && value ? value : null;
}

export function jobStatesReader(options: {
  client: WorkflowClient;
  store?: Store | null;
  timeoutMs?: number;
}): () => Promise<JobStatesSnapshot> {
  const { client, store } = options;
  const timeoutMs = options.timeoutMs ?? JOB_STATES_TIMEOUT_MS;

  const read = async (): Promise<JobStatesSnapshot> => {
    const jobs: { appId: string; state: string }[] = [];
    const [, enabled] = await Promise.all([
      (async () => {
        for await (const run of client.list({ query: RUNNING_JOBS_QUERY, pageSize: PAGE_SIZE })) {
          const state = keyword(run, jobStateSearchAttribute.name);
          const appId = keyword(run, appIdSearchAttribute.name);
          if (state && appId) jobs.push({ appId, state });
        }
      })(),
      store ? store.apps.listProvisioningEnabled() : Promise.resolve(null),
    ]);
    const running = new Set(jobs.map((job) => job.appId));
    const notRunning = enabled ? enabled.filter((app) => !running.has(app.id)).length : null;
    return { jobs, notRunning };
  };

  return async () => {
    // The deadline ends the gRPC calls; withTimeout ends the wait whatever they do (a connection
    // still being made, the store).
    const reading = client.connection.withDeadline(Date.now() + timeoutMs, read);
    // After the timeout nobody awaits it; its late failure must not become an unhandled rejection.
    reading.catch(() => undefined);
    const snapshot = await withTimeout(reading, timeoutMs);
    if (snapshot === TIMED_OUT) throw new Error(`job states not read within ${timeoutMs} ms`);
    return snapshot;
  };
}

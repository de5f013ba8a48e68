// Ferry's Prometheus metrics: one registry per process, built in workers/ and passed to the
// activities and the API (never imported by workflows/ or engine/). Labels are bounded: app ids,
// cycle kinds, SCIM methods, status codes, object actions — never object ids or paths.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ScimClientEvent } from '../scim/index.ts';

/** What a finished cycle reports to the metrics. */
export interface CycleFinishedFacts {
  appId: string;
  kind: string;
  /** succeeded | failed | stopped */
  result: string;
  durationSeconds: number;
  /** The cycle's work by action (Create, Update…) and status (done, failed, escrowed…). */
  work: readonly { action: string | null; status: string; count: number }[];
  /** Objects of the app in escrow (failed, waiting for a retry) once the cycle ended. */
  escrowed: number;
  endedAt: Date;
}

/** What Temporal's visibility says about the provisioning jobs at one scrape. */
export interface JobStatesSnapshot {
  /** Each running job's app id and state (FerryJobState: initial, steady, paused, quarantined, disabled). */
  jobs: readonly { appId: string; state: string }[];
  /** Apps with provisioning on whose job is not running (null: not known). */
  notRunning: number | null;
}

/** The job states every job can be in: `ferry_jobs` shows each, 0 when no job is in it. */
export const JOB_STATES = ['initial', 'steady', 'paused', 'quarantined', 'disabled'] as const;

export interface FerryMetrics {
  readonly registry: Registry;
  /**
   * `ferry_jobs{state}` and `ferry_job_state{app_id,state}`, read from `read` at each scrape (one call
   * shared by both gauges). A read that fails or rejects leaves both without samples for that scrape
   * and counts `ferry_job_states_scrape_errors_total`; bounding its time is the reader's job. Called
   * again, the new reader replaces the old one.
   */
  jobStatesFrom(read: () => Promise<JobStatesSnapshot>): void;
  scimEvent(appId: string, event: ScimClientEvent): void;
  cycleStarted(appId: string, kind: string): void;
  cycleFinished(facts: CycleFinishedFacts): void;
  apiRequest(method: string, route: string, status: number, seconds: number): void;
  /** The Prometheus text exposition of everything registered. */
  text(): Promise<string>;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const CYCLE_BUCKETS = [1, 5, 15, 60, 300, 900, 1800, 3600, 4 * 3600];

/**
 * The metrics on a new registry (default: a fresh one with the process metrics). Two processes in
 * one (npm start) share one: pass the same object to the worker and the API.
 */
export function createFerryMetrics(options: { registry?: Registry; processMetrics?: boolean } = {}): FerryMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'ferry_process_' });
  const registers = [registry];
  type Labels = readonly string[];
  const counter = (name: string, help: string, labelNames: Labels) =>
    new Counter({ name, help, labelNames, registers });
  const gauge = (name: string, help: string, labelNames: Labels) => new Gauge({ name, help, labelNames, registers });
  const histogram = (name: string, help: string, labelNames: Labels, buckets: number[]) =>
    new Histogram({ name, help, labelNames, buckets, registers });

  const cyclesStarted = counter(
    'ferry_cycles_started_total',
    'Provisioning cycles begun, by app and kind (initial, incremental)',
    ['app_id', 'kind'],
  );
  const cycles = counter(
    'ferry_cycles_total',
    'Provisioning cycles ended, by app, kind and result (succeeded, failed, stopped)',
    ['app_id', 'kind', 'result'],
  );
  const cycleDuration = histogram(
    'ferry_cycle_duration_seconds',
    'Duration of ended cycles, by kind and result',
    ['kind', 'result'],
    CYCLE_BUCKETS,
  );
  const objects = counter(
    'ferry_objects_total',
    'Objects handled by ended cycles, by app, action (Create, Update, Disable, Delete, Skip…) and status',
    ['app_id', 'action', 'status'],
  );
  const escrow = gauge(
    'ferry_escrow_objects',
    'Objects of the app in escrow (failed, retried on a schedule), as of its last ended cycle',
    ['app_id'],
  );
  const lastSuccess = gauge(
    'ferry_last_successful_cycle_timestamp_seconds',
    'Unix time the last successful cycle of the app ended',
    ['app_id'],
  );
  const scimRequests = counter(
    'ferry_scim_requests_total',
    'HTTP requests to SCIM targets, by app, method and status (network errors: status "error")',
    ['app_id', 'method', 'status'],
  );
  const scimLatency = histogram(
    'ferry_scim_request_duration_seconds',
    'Latency of SCIM requests, by app and method',
    ['app_id', 'method'],
    SECONDS_BUCKETS,
  );
  const scimRetries = counter('ferry_scim_retries_total', 'SCIM requests repeated after a transient failure, by app', [
    'app_id',
  ]);
  const rateWait = counter(
    'ferry_scim_rate_limit_wait_seconds_total',
    "Time requests waited for the app's rate and concurrency limits",
    ['app_id'],
  );
  const retryAfterPauses = counter(
    'ferry_scim_retry_after_pauses_total',
    'Times a target answered 429/503 with a pause (Retry-After) and the app was held back',
    ['app_id'],
  );
  const retryAfterSeconds = counter(
    'ferry_scim_retry_after_seconds_total',
    'Seconds of pause targets asked for with Retry-After',
    ['app_id'],
  );
  const apiRequests = counter('ferry_api_requests_total', 'Control API requests, by method, route pattern and status', [
    'method',
    'route',
    'status',
  ]);
  const apiLatency = histogram(
    'ferry_api_request_duration_seconds',
    'Control API latency, by method and route pattern',
    ['method', 'route'],
    SECONDS_BUCKETS,
  );

  let readJobStates: (() => Promise<JobStatesSnapshot>) | null = null;
  let jobStateErrors: Counter | null = null;
  let jobStatesRegistered = false;
  /** The snapshot of the scrape in progress: both gauges' collect() run together and share it. */
  let inFlight: Promise<JobStatesSnapshot | null> | null = null;
  const jobStatesOfScrape = (): Promise<JobStatesSnapshot | null> => {
    if (!readJobStates) return Promise.resolve(null);
    const read = readJobStates;
    inFlight ??= (async () => {
      try {
        return await read();
      } catch {
        jobStateErrors?.inc();
        return null;
      }
    })().finally(() => {
      // Settled: the next scrape reads again (registry.metrics() calls every collect() in one go,
      // so both gauges hold this promise by now).
      inFlight = null;
    });
    return inFlight;
  };
  const registerJobStates = () => {
    jobStateErrors = new Counter({
      name: 'ferry_job_states_scrape_errors_total',
      help: 'Scrapes without ferry_jobs and ferry_job_state: Temporal visibility (or the database) did not answer in time or failed',
      registers,
      async collect() {
        // Counts this scrape's read too.
        await jobStatesOfScrape();
      },
    });
    new Gauge({
      name: 'ferry_jobs',
      help: 'Provisioning jobs by state (initial, steady, paused, quarantined, disabled), and apps with provisioning on whose job is not running (not_running), from Temporal at scrape time',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await jobStatesOfScrape();
        if (!snapshot) return;
        const counts = new Map<string, number>(JOB_STATES.map((state) => [state, 0]));
        for (const job of snapshot.jobs) counts.set(job.state, (counts.get(job.state) ?? 0) + 1);
        for (const [state, count] of counts) this.set({ state }, count);
        if (snapshot.notRunning !== null) this.set({ state: 'not_running' }, snapshot.notRunning);
      },
    });
    new Gauge({
      name: 'ferry_job_state',
      help: 'The state of the running provisioning job of each app (1), from Temporal at scrape time',
      labelNames: ['app_id', 'state'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await jobStatesOfScrape();
        for (const job of snapshot?.jobs ?? []) this.set({ app_id: job.appId, state: job.state }, 1);
      },
    });
  };

  return {
    registry,
    jobStatesFrom(read) {
      readJobStates = read;
      if (!jobStatesRegistered) registerJobStates();
      jobStatesRegistered = true;
    },
    scimEvent(appId, event) {
      if (event.type === 'request') {
        scimRequests.inc({ app_id: appId, method: event.method, status: String(event.status ?? 'error') });
        scimLatency.observe({ app_id: appId, method: event.method }, event.durationMs / 1000);
        if (event.waitMs) rateWait.inc({ app_id: appId }, event.waitMs / 1000);
      } else if (event.type === 'retry') {
        scimRetries.inc({ app_id: appId });
      } else if (event.type === 'throttled') {
        retryAfterPauses.inc({ app_id: appId });
        retryAfterSeconds.inc({ app_id: appId }, event.retryAfterMs / 1000);
      }
    },
    cycleStarted(appId, kind) {
      cyclesStarted.inc({ app_id: appId, kind });
    },
    cycleFinished(f) {
      cycles.inc({ app_id: f.appId, kind: f.kind, result: f.result });
      cycleDuration.observe({ kind: f.kind, result: f.result }, f.durationSeconds);
      for (const w of f.work) {
        if (w.count > 0) objects.inc({ app_id: f.appId, action: w.action ?? 'none', status: w.status }, w.count);
      }
      escrow.set({ app_id: f.appId }, f.escrowed);
      if (f.result === 'succeeded') lastSuccess.set({ app_id: f.appId }, f.endedAt.getTime() / 1000);
    },
    apiRequest(method, route, status, seconds) {
      apiRequests.inc({ method, route, status: String(status) });
      apiLatency.observe({ method, route }, seconds);
    },
    text: () => registry.metrics(),
  };
}

// The provisioning job of one app (id `provisioning:<appId>`): an entity workflow that runs the initial
// cycle, then waits for the cadence timer or a signal, runs the next cycle as a child workflow, judges
// it (backoff, quarantine, deletion threshold) and continues-as-new with compact state.
// Signal handlers only record intent in `inbox`; the main loop acts on it, in arrival order. An intent
// that must not wait for a long cycle (INTERRUPTING_INTENTS) first stops the running cycle.
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  log,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AppSummary, CycleSummary, FerryActivities } from '../activities/types.ts';
import type { JobState } from '../engine/types.ts';
import { shortActivity } from './activity-options.ts';
import { provisioningCycleWorkflow } from './cycle.ts';
import { provisionOnDemandWorkflow } from './on-demand.ts';
import {
  DEFAULT_INTERVAL_MINUTES,
  backoffLevel,
  evaluateQuarantine,
  nextCycleDelayMs,
  type QuarantineDecision,
} from '../engine/policies/index.ts';
import {
  appIdSearchAttribute,
  jobStateSearchAttribute,
  approveDeletionsSignal,
  configChangedSignal,
  cycleProgressSignal,
  cycleWorkflowId,
  onDemandWorkflowId,
  pauseSignal,
  provisionOnDemandSignal,
  quarantineSignal,
  rejectDeletionsSignal,
  releaseSignal,
  restartSignal,
  resumeSignal,
  runNowSignal,
  statusQuery,
  stopCycleSignal,
} from './messages.ts';
import type {
  CurrentCycleStatus,
  JobStatus,
  LastCycleStatus,
  OnDemandRequest,
  QuarantineStatus,
  RestartReset,
} from './messages.ts';

/** A recorded signal, waiting for the main loop. Plain JSON: it travels through continue-as-new. */
export type JobIntent =
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'runNow' }
  | { type: 'restart'; reset: RestartReset }
  | { type: 'configChanged' }
  | { type: 'quarantine'; reason: string }
  | { type: 'release' }
  | { type: 'approveDeletions' }
  | { type: 'rejectDeletions' };

/** Everything the job remembers between runs (continue-as-new). Small and plain JSON. */
export interface JobMemory {
  /** Number of the last cycle started (cycle ids are never reused). */
  cycleNumber: number;
  /** The next cycle must be initial (first run, restart, configuration change). */
  initialDue: boolean;
  /** Directory change-log sequence provisioned so far; null before the first successful cycle. */
  watermark: number | null;
  paused: boolean;
  disabled: boolean;
  /** Whole-cycle failures in a row; drives the backoff. */
  consecutiveFailures: number;
  quarantine: QuarantineStatus | null;
  pendingDeletions: number;
  /** The admin approved the staged deletions: the next cycle exports them. */
  deletionsApproved: boolean;
  /** The admin rejected the staged deletions: the next cycle drops them. */
  deletionsRejected: boolean;
  lastCycle: LastCycleStatus | null;
  /** ISO time the next cycle is due; null = as soon as possible. */
  nextCycleAt: string | null;
  /** Last configuration version seen; a different one makes the next cycle initial. */
  configVersion: string | null;
  /** The app as last loaded (interval, notification address); kept when a reload fails. */
  app: AppSummary | null;
  inbox: JobIntent[];
  onDemandQueue: OnDemandRequest[];
}

export interface JobInput extends Partial<JobMemory> {
  appId: string;
  appName?: string;
  /** Objects per processBatch call, passed to every cycle (default: the cycle's). */
  batchSize?: number;
  /** Batches per cycle run before the cycle continues-as-new (default: the cycle's). */
  maxBatchesPerRun?: number;
  /** Least workflow time between two progress reports of a cycle (default: the cycle's). */
  progressIntervalMs?: number;
}

const CYCLE_OPTION_KEYS = ['batchSize', 'maxBatchesPerRun', 'progressIntervalMs'] as const;

const { loadApp, resetApp, notify } = proxyActivities<FerryActivities>(shortActivity);

/**
 * Patch id: a job whose app no longer exists (loadApp fails with NotFoundError) ends, disabled,
 * instead of running failing cycles for ever. Histories recorded before it replay the old way.
 */
export const APP_GONE_ENDS_JOB_PATCH = 'app-gone-ends-job';

/** loadApp failed because the app was deleted from the database (activities/failures.ts type). */
function appGone(err: unknown): boolean {
  return (
    err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'NotFoundError'
  );
}

export function initialJobMemory(): JobMemory {
  return {
    cycleNumber: 0,
    initialDue: true,
    watermark: null,
    paused: false,
    disabled: false,
    consecutiveFailures: 0,
    quarantine: null,
    pendingDeletions: 0,
    deletionsApproved: false,
    deletionsRejected: false,
    lastCycle: null,
    nextCycleAt: null,
    configVersion: null,
    app: null,
    inbox: [],
    onDemandQueue: [],
  };
}

/**
 * The memory after a restart: progress and health start afresh (as in `initialJobMemory`); the job keeps
 * its history (cycle numbers, last cycle), the app as loaded and what is still queued.
 */
export function restartedJobMemory(m: JobMemory): JobMemory {
  const { cycleNumber, lastCycle, nextCycleAt, configVersion, app, inbox, onDemandQueue } = m;
  return { ...initialJobMemory(), cycleNumber, lastCycle, nextCycleAt, configVersion, app, inbox, onDemandQueue };
}

export function jobState(m: JobMemory): JobState {
  if (m.disabled) return 'disabled';
  if (m.paused) return 'paused';
  if (m.quarantine) return 'quarantined';
  return m.initialDue ? 'initial' : 'steady';
}

/**
 * Intents that stop a running cycle (after its batch in flight) instead of waiting up to hours for its
 * end. runNow, resume, release and the deletion decisions wait: they change nothing a running cycle does.
 */
export const INTERRUPTING_INTENTS: readonly JobIntent['type'][] = ['pause', 'restart', 'configChanged', 'quarantine'];

/**
 * The state once the recorded intents are acted on. The status query shows it, so a pause reads `paused`
 * while the running cycle is still stopping. Only what decides the state is applied here; `act` does the
 * rest (reset, reload, notices, schedule).
 */
export function intendedJobState(m: JobMemory, now: Date): JobState {
  let v: JobMemory = { ...m };
  for (const intent of m.inbox) {
    if (intent.type === 'pause') v.paused = true;
    else if (intent.type === 'resume') v.paused = false;
    else if (intent.type === 'restart') v = restartedJobMemory(v);
    else if (intent.type === 'configChanged') v.initialDue = true;
    else if (intent.type === 'quarantine')
      v.quarantine = evaluateQuarantine({ current: v.quarantine, manual: 'quarantine', now }).quarantine;
    else if (intent.type === 'release') v = { ...v, disabled: false, quarantine: null };
  }
  return jobState(v);
}

export async function provisioningJobWorkflow(input: JobInput): Promise<void> {
  const { appId } = input;
  // Cycle tuning passed through to every cycle and to the next run.
  const cycleOptions: Pick<JobInput, 'batchSize' | 'maxBatchesPerRun' | 'progressIntervalMs'> = {};
  for (const key of CYCLE_OPTION_KEYS) if (input[key] !== undefined) cycleOptions[key] = input[key];
  const m: JobMemory = { ...initialJobMemory(), ...stripUndefined(input) };
  let appName = input.appName ?? memoAppName() ?? appId;
  let running: CurrentCycleStatus | null = null;
  let dispatching = false;

  const record = (intent: JobIntent) => () => void m.inbox.push(intent);
  setHandler(pauseSignal, record({ type: 'pause' }));
  setHandler(resumeSignal, record({ type: 'resume' }));
  setHandler(runNowSignal, record({ type: 'runNow' }));
  setHandler(configChangedSignal, record({ type: 'configChanged' }));
  setHandler(releaseSignal, record({ type: 'release' }));
  setHandler(approveDeletionsSignal, record({ type: 'approveDeletions' }));
  setHandler(rejectDeletionsSignal, record({ type: 'rejectDeletions' }));
  setHandler(
    restartSignal,
    ({ reset }) => void m.inbox.push({ type: 'restart', reset: reset === 'full' ? 'full' : 'watermark' }),
  );
  setHandler(quarantineSignal, ({ reason }) => void m.inbox.push({ type: 'quarantine', reason: String(reason) }));
  setHandler(provisionOnDemandSignal, (request) => void m.onDemandQueue.push(request));
  setHandler(cycleProgressSignal, (p) => {
    if (!running || p.cycleNumber !== running.number) return;
    running.processed = p.processed;
    running.total = p.total;
    running.percent = p.total > 0 ? Math.min(100, Math.floor((p.processed * 100) / p.total)) : 0;
    const elapsedSeconds = (Date.now() - Date.parse(p.startedAt)) / 1000;
    running.etaSeconds =
      p.processed > 0 ? Math.max(0, Math.round((elapsedSeconds * (p.total - p.processed)) / p.processed)) : null;
  });
  setHandler(statusQuery, (): JobStatus => {
    const state = intendedJobState(m, new Date());
    return {
      appId,
      appName,
      state,
      cycle: running ? { ...running } : null,
      lastCycle: m.lastCycle,
      nextCycleAt: running || state === 'paused' || state === 'disabled' ? null : m.nextCycleAt,
      backoffLevel: backoffLevel(m.consecutiveFailures, intervalMinutes()),
      quarantine: m.quarantine,
      pendingDeletions: m.pendingDeletions,
    };
  });

  // On-demand requests start at once, even while a cycle runs (the activity serializes per object).
  const dispatcher = async (): Promise<void> => {
    for (;;) {
      await condition(() => m.onDemandQueue.length > 0);
      dispatching = true;
      const request = m.onDemandQueue[0];
      try {
        await startChild(provisionOnDemandWorkflow, {
          workflowId: onDemandWorkflowId(appId, request.requestId),
          args: [{ appId, ...request }],
          // The API awaits the child by id; it must outlive this run of the job.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          // The request id names one provisioning: a repeated signal must not provision twice.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (err) {
        // A repeated signal for the same request: the first child answers it. Anything else is logged
        // and the request dropped: one bad request must not stop the job.
        if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) {
          log.warn('on-demand child not started', { appId, requestId: request.requestId, error: String(err) });
        }
      }
      m.onDemandQueue.shift();
      dispatching = false;
    }
  };
  void dispatcher();

  /** Set when the app was deleted: the job is disabled and ends instead of continuing-as-new. */
  let ended = false;
  /**
   * Reloads the app; a failure (database down) must not end the job, so it keeps the last copy.
   * An app that no longer exists ends the job.
   */
  const refreshApp = async (): Promise<void> => {
    let app: AppSummary;
    try {
      app = await loadApp({ appId });
    } catch (err) {
      if (appGone(err) && patched(APP_GONE_ENDS_JOB_PATCH)) {
        log.info('the app no longer exists; the job ends', { appId });
        m.disabled = true;
        ended = true;
        return;
      }
      log.warn('loadApp failed; keeping the last known app settings', { appId, error: String(err) });
      return;
    }
    m.app = app;
    appName = app.appName;
    if (m.configVersion !== null && m.configVersion !== app.configVersion) m.initialDue = true;
    m.configVersion = app.configVersion;
  };
  const intervalMinutes = (): number => m.app?.cycleIntervalMinutes ?? DEFAULT_INTERVAL_MINUTES;
  const continueAsNewSuggested = (): boolean => workflowInfo().continueAsNewSuggested;

  /** Next cycle time from the end of the last cycle (or now) and the cadence of the current state. */
  const schedule = (): void => {
    if (m.lastCycle === null) {
      m.nextCycleAt = new Date().toISOString(); // the initial cycle comes first
      return;
    }
    const state = jobState(m);
    // A stopped cycle was due and did not finish: it runs again as soon as the job may run (no backoff,
    // no interval); in quarantine the daily cadence still holds.
    const stillDue = m.lastCycle.status === 'stopped' && (state === 'initial' || state === 'steady');
    const delay = stillDue
      ? 0
      : nextCycleDelayMs({ state, consecutiveFailures: m.consecutiveFailures, intervalMinutes: intervalMinutes() });
    if (delay === null) return;
    m.nextCycleAt = new Date(Date.parse(m.lastCycle.endedAt) + delay).toISOString();
  };

  let lastPublishedState: JobState | null = null;
  const searchAttributes = (state: JobState) => [
    { key: appIdSearchAttribute, value: appId },
    { key: jobStateSearchAttribute, value: state },
  ];
  const publish = (): void => {
    const state = jobState(m);
    if (state === lastPublishedState) return;
    lastPublishedState = state;
    // The untyped view reads both encodings (with and without type metadata) the same way.
    const current = workflowInfo().searchAttributes ?? {};
    const has = (name: string, value: string) => current[name]?.[0] === value;
    if (!has(jobStateSearchAttribute.name, state) || !has(appIdSearchAttribute.name, appId)) {
      upsertSearchAttributes(searchAttributes(state));
    }
  };

  const sendQuarantineNotice = async (q: QuarantineStatus): Promise<void> => {
    const to = m.app?.notificationEmail;
    if (!to) return;
    const sent = notify({
      appId,
      to,
      subject: `Ferry: provisioning of ${appName} is quarantined (${q.reason})`,
      text: [
        `The provisioning job of ${appName} (${appId}) is in quarantine since ${q.since}, reason: ${q.reason}.`,
        q.message ?? m.lastCycle?.failure?.message ?? '',
        'Cycles now run once a day. Fix the cause, then release or restart the job; after 4 weeks in',
        'quarantine the job is disabled.',
      ]
        .filter(Boolean)
        .join('\n'),
      notificationId: `quarantine:${appId}:${q.since}:${q.reason}`,
    });
    try {
      await sent;
    } catch (err) {
      // A mail server that is down must not stop provisioning; the quarantine is visible in the status.
      log.warn('quarantine notification failed', { appId, error: String(err) });
    }
  };

  /** Applies the engine's quarantine decision; `message` is an admin's words for a manual quarantine. */
  const applyQuarantine = async (decision: QuarantineDecision, message?: string): Promise<void> => {
    const kept = decision.quarantine?.reason === m.quarantine?.reason ? m.quarantine?.message : undefined;
    const note = message ?? kept;
    m.quarantine = decision.quarantine ? { ...decision.quarantine, ...(note ? { message: note } : {}) } : null;
    if (decision.disable) m.disabled = true;
    schedule();
    if (decision.notify && m.quarantine) await sendQuarantineNotice(m.quarantine);
  };

  /** Acts on one recorded signal; returns true when a cycle should run now. */
  const act = async (intent: JobIntent): Promise<boolean> => {
    switch (intent.type) {
      case 'pause':
        m.paused = true;
        return false;
      case 'resume':
        m.paused = false;
        schedule();
        return false;
      case 'runNow':
        return true;
      case 'configChanged':
        await refreshApp();
        m.initialDue = true;
        return true;
      case 'restart':
        try {
          await resetApp({ appId, reset: intent.reset });
        } catch (err) {
          // The initial cycle that follows still re-reads everything from no watermark.
          log.warn('resetApp failed; running the initial cycle anyway', { appId, error: String(err) });
        }
        Object.assign(m, restartedJobMemory(m));
        return true;
      case 'quarantine':
        await applyQuarantine(
          evaluateQuarantine({ current: m.quarantine, manual: 'quarantine', now: new Date() }),
          intent.reason,
        );
        return false;
      case 'release':
        m.disabled = false;
        m.consecutiveFailures = 0;
        await applyQuarantine(evaluateQuarantine({ current: m.quarantine, manual: 'release', now: new Date() }));
        return false;
      case 'approveDeletions':
        if (m.pendingDeletions === 0) return false;
        m.deletionsApproved = true;
        m.deletionsRejected = false;
        return true;
      case 'rejectDeletions':
        if (m.pendingDeletions === 0 && m.quarantine?.reason !== 'TooManyDeletes') return false;
        m.pendingDeletions = 0;
        m.deletionsRejected = true;
        m.deletionsApproved = false;
        if (m.quarantine?.reason === 'TooManyDeletes') m.quarantine = null;
        schedule();
        return false;
    }
  };

  const runCycle = async (): Promise<void> => {
    const number = m.cycleNumber + 1;
    m.cycleNumber = number;
    const kind = m.initialDue ? 'initial' : 'incremental';
    const startedAt = new Date().toISOString();
    running = { kind, number, processed: 0, total: 0, percent: 0, etaSeconds: null };
    m.nextCycleAt = null;
    let summary: CycleSummary;
    try {
      const child = await startChild(provisioningCycleWorkflow, {
        workflowId: cycleWorkflowId(appId, number),
        args: [
          {
            appId,
            cycleNumber: number,
            kind,
            watermark: kind === 'initial' ? null : m.watermark,
            deletionsApproved: m.deletionsApproved,
            deletionsRejected: m.deletionsRejected,
            ...cycleOptions,
          },
        ],
      });
      const result = child.result();
      let ended = false;
      void result.then(
        () => (ended = true),
        () => (ended = true),
      );
      await condition(() => ended || m.inbox.some((i) => INTERRUPTING_INTENTS.includes(i.type)));
      if (!ended) {
        try {
          await child.signal(stopCycleSignal);
        } catch (err) {
          // The cycle ended between the intent and the signal: its result stands.
          log.info('stopCycle not delivered; the cycle had ended', { appId, cycle: number, error: String(err) });
        }
      }
      summary = await result;
    } catch (err) {
      // A failed/terminated cycle, or a cycle id still taken: a whole-cycle failure, the job backs off.
      if (
        !(err instanceof ChildWorkflowFailure) &&
        !(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')
      )
        throw err;
      summary = failedSummary(number, kind, startedAt, err);
    }
    running = null;

    m.lastCycle = {
      number,
      kind,
      status: summary.status,
      startedAt: summary.startedAt,
      // The job's clock, not the activity's: the next cycle and a quarantine's `since` count from here.
      endedAt: new Date().toISOString(),
      counts: summary.counts,
      failure: summary.failure ? { code: summary.failure.code, message: summary.failure.message } : null,
    };
    // A stopped cycle is neither done nor failed: watermark, initialDue, backoff, the deletion decisions
    // and quarantine stay as they were, so the cycle that is still due runs with them.
    if (summary.status === 'stopped') return;
    const succeeded = summary.status === 'succeeded';
    m.deletionsApproved = false;
    m.deletionsRejected = false;
    if (succeeded) {
      m.consecutiveFailures = 0;
      m.watermark = summary.watermarkTo;
      m.initialDue = false;
    } else {
      m.consecutiveFailures += 1;
    }
    m.pendingDeletions = summary.deletionThresholdExceeded ? summary.pendingDeletions : 0;

    await applyQuarantine(
      evaluateQuarantine({ current: m.quarantine, cycle: { ...summary, status: summary.status }, now: new Date() }),
    );
  };

  await refreshApp();
  if (memoAppName() !== appName) upsertMemo({ appName });
  publish();
  if (m.nextCycleAt === null) schedule();

  let cycleNow = false;
  while (!ended) {
    while (m.inbox.length > 0 && !ended) {
      const intent = m.inbox.shift() as JobIntent;
      if (await act(intent)) cycleNow = true;
      publish();
    }
    if (ended) break;
    const state = jobState(m);
    if (state === 'paused' || state === 'disabled') {
      cycleNow = false;
      await condition(() => m.inbox.length > 0 || continueAsNewSuggested());
      if (m.inbox.length === 0) break;
      continue;
    }
    if (!cycleNow) {
      if (m.nextCycleAt === null) schedule();
      const waitMs = m.nextCycleAt === null ? 0 : Date.parse(m.nextCycleAt) - Date.now();
      if (waitMs > 0) {
        const woken = await condition(() => m.inbox.length > 0 || continueAsNewSuggested(), waitMs);
        if (woken) {
          if (m.inbox.length === 0) break;
          continue;
        }
      }
    }
    await runCycle();
    publish();
    break;
  }

  // Hand over: every queued on-demand request started, every handler done, then a fresh run.
  await condition(() => m.onDemandQueue.length === 0 && !dispatching);
  await condition(allHandlersFinished);
  if (ended) return;
  const next = makeContinueAsNewFunc<typeof provisioningJobWorkflow>({
    memo: { appName },
    typedSearchAttributes: searchAttributes(jobState(m)),
  });
  await next({ appId, appName, ...cycleOptions, ...m });
}

function failedSummary(number: number, kind: 'initial' | 'incremental', startedAt: string, err: Error): CycleSummary {
  return {
    cycleId: '',
    cycleNumber: number,
    kind,
    status: 'failed',
    startedAt,
    endedAt: new Date().toISOString(),
    counts: { created: 0, updated: 0, disabled: 0, deleted: 0, skipped: 0, failed: 0, escrowed: 0, stagedDeletes: 0 },
    operations: 0,
    watermarkTo: 0,
    failure: {
      kind: 'transient',
      code: 'Unknown',
      message: err.cause instanceof Error ? err.cause.message : err.message,
    },
    pendingDeletions: 0,
    deletionThresholdExceeded: false,
  };
}

function memoAppName(): string | undefined {
  const value = workflowInfo().memo?.appName;
  return typeof value === 'string' ? value : undefined;
}

function stripUndefined(input: JobInput): Partial<JobMemory> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (
      value !== undefined &&
      key !== 'appId' &&
      key !== 'appName' &&
      !(CYCLE_OPTION_KEYS as readonly string[]).includes(key)
    ) {
      out[key] = value;
    }
  }
  return out as Partial<JobMemory>;
}

// The provisioning job of one app (id `provisioning:<appId>`): an entity workflow that runs the initial
// cycle, then waits for the cadence timer or a signal, runs the next cycle as a child workflow, judges
// it (backoff, quarantine, deletion threshold) and continues-as-new with compact state.
// Signal handlers only record intent in `inbox`; the main loop acts on it, in arrival order. An intent
// that must not wait for a long cycle (INTERRUPTING_INTENTS) first stops the running cycle.
// The memory and its pure rules are in job-memory.ts, one cycle in job-cycle.ts, on-demand in
// job-on-demand.ts.
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AppSummary, FerryActivities, JobStateChange } from '../activities/types.ts';
import type { JobState } from '../engine/types.ts';
import { backoffLevel, evaluateQuarantine, type QuarantineDecision } from '../engine/policies/index.ts';
import { announceActivity, shortActivity } from './activity-options.ts';
import { runJobCycle } from './job-cycle.ts';
import {
  INTERRUPTING_INTENTS,
  cycleOptionsFromInput,
  intendedJobMemory,
  intervalMinutes,
  jobMemoryFromInput,
  jobState,
  jobStateChange,
  nextCycleNumber,
  pushDelayMs,
  recordCycleOutcome,
  restartedJobMemory,
  scheduleNextCycle,
  type CycleOptions,
  type JobInput,
  type JobIntent,
  type JobMemory,
} from './job-memory.ts';
import { dispatchSignalledOnDemand, provisionOnDemandNow, validateOnDemand } from './job-on-demand.ts';
import {
  appIdSearchAttribute,
  jobStateSearchAttribute,
  approveDeletionsSignal,
  configChangedSignal,
  cycleProgressSignal,
  directoryChangedSignal,
  onDemandUpdate,
  pauseSignal,
  provisionOnDemandSignal,
  quarantineSignal,
  rejectDeletionsSignal,
  releaseSignal,
  restartSignal,
  resumeSignal,
  runNowSignal,
  statusQuery,
} from './messages.ts';
import type { JobStatus, QuarantineStatus, RunningCycleStatus } from './messages.ts';

export type { JobInput, JobIntent, JobMemory } from './job-memory.ts';

const { loadApp, resetApp, notify } = proxyActivities<FerryActivities>(shortActivity);
const { announceJobState } = proxyActivities<FerryActivities>(announceActivity);

/**
 * Patch id: a job whose app no longer exists (loadApp fails with NotFoundError) ends, disabled,
 * instead of running failing cycles for ever. Histories recorded before it replay the old way.
 */
export const APP_GONE_ENDS_JOB_PATCH = 'app-gone-ends-job';

/**
 * Patch id: release runs a cycle at once (as the API documents), instead of waiting for the
 * cadence's next time from the last cycle. Histories recorded before it replay the old way.
 */
export const RELEASE_RUNS_CYCLE_PATCH = 'release-runs-cycle';

/**
 * Patch id: the job remembers `directoryChanged` signals and runs an incremental cycle for them after the
 * push window. A run recorded before it, had it received the signal, left it unhandled: on replay the
 * handler records nothing, so the old commands come back.
 */
export const PUSH_CHANGES_PATCH = 'push-changes';

/**
 * Patch id: the job announces each state change and quarantine entered or left (webhook events) with
 * an activity after publishing it. Histories recorded before it replay without those activities.
 */
export const JOB_STATE_EVENTS_PATCH = 'job-state-events';

/** loadApp failed because the app was deleted from the database (activities/failures.ts type). */
function appGone(err: unknown): boolean {
  return (
    err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'NotFoundError'
  );
}

export async function provisioningJobWorkflow(input: JobInput): Promise<void> {
  const job = new Job(input);
  job.handleMessages();
  void dispatchSignalledOnDemand(job.appId, job.m.onDemandQueue, (inFlight) => (job.dispatching = inFlight));
  await job.start();
  await job.runOnce();

  // Hand over: every queued on-demand request started, every handler done, then a fresh run.
  await condition(() => job.m.onDemandQueue.length === 0 && !job.dispatching);
  await condition(allHandlersFinished);
  if (job.ended) return;
  const next = makeContinueAsNewFunc<typeof provisioningJobWorkflow>({
    memo: { appName: job.appName },
    typedSearchAttributes: job.searchAttributes(jobState(job.m)),
  });
  await next({ appId: job.appId, appName: job.appName, ...job.cycleOptions, ...job.m });
}

/** One run of the job: its memory, the messages it handles, and the loop that acts on them. */
class Job {
  readonly appId: string;
  readonly cycleOptions: CycleOptions;
  readonly m: JobMemory;
  appName: string;
  running: RunningCycleStatus | null = null;
  /** A signalled on-demand request's child is being started. */
  dispatching = false;
  /** Set when the app was deleted: the job is disabled and ends instead of continuing-as-new. */
  ended = false;
  private lastPublishedState: JobState | null = null;
  /** The quarantine as last published: the input's at first (the run before published its own). */
  private publishedQuarantine: QuarantineStatus | null;

  constructor(input: JobInput) {
    this.appId = input.appId;
    this.cycleOptions = cycleOptionsFromInput(input);
    this.m = jobMemoryFromInput(input);
    this.publishedQuarantine = this.m.quarantine;
    this.appName = input.appName ?? memoAppName() ?? input.appId;
  }

  /** Signals record intent; the Update and the query answer at once. */
  handleMessages(): void {
    const { m, appId } = this;
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
    // One flag for any number of signals: the first sets the window's start, the rest change nothing.
    setHandler(directoryChangedSignal, () => {
      if (!m.changesPendingSince && patched(PUSH_CHANGES_PATCH)) m.changesPendingSince = new Date().toISOString();
    });
    setHandler(provisionOnDemandSignal, (request) => void m.onDemandQueue.push(request));
    // On-demand as an Update: the caller gets the report (or a typed failure) from this handler. It
    // adds commands only when an update arrives, so histories recorded before it replay unchanged.
    // setHandler runs the validator at once for an update that came with the run's first task.
    setHandler(onDemandUpdate, (request) => provisionOnDemandNow(appId, request), {
      validator: (request) => validateOnDemand(request, this.ended),
    });
    // Only cycles begun before the patch `progress-in-store` still send it; their progress, like every
    // cycle's, is read from the store. Handled (and dropped) so the signal is not left pending.
    setHandler(cycleProgressSignal, () => undefined);
    setHandler(statusQuery, (): JobStatus => this.status());
  }

  private status(): JobStatus {
    const { m, running } = this;
    const intended = intendedJobMemory(m, new Date());
    const state = jobState(intended);
    return {
      appId: this.appId,
      appName: this.appName,
      state,
      cycle: running ? { ...running } : null,
      lastCycle: m.lastCycle,
      nextCycleAt: running || state === 'paused' || state === 'disabled' ? null : m.nextCycleAt,
      backoffLevel: backoffLevel(m.consecutiveFailures, intervalMinutes(m)),
      quarantine: intended.quarantine,
      pendingDeletions: intended.pendingDeletions,
    };
  }

  /** Loads the app, names the run in the memo and search attributes, and schedules the next cycle. */
  async start(): Promise<void> {
    await this.refreshApp();
    if (memoAppName() !== this.appName) upsertMemo({ appName: this.appName });
    await this.publish('start');
    if (this.m.nextCycleAt === null) this.schedule();
  }

  /**
   * Acts on the recorded intents and waits for the next cycle; runs at most one cycle, then returns so
   * the job continues-as-new (also when Temporal suggests it while waiting).
   */
  async runOnce(): Promise<void> {
    const { m } = this;
    let cycleNow = false;
    while (!this.ended) {
      while (m.inbox.length > 0 && !this.ended) {
        const intent = m.inbox.shift() as JobIntent;
        if (await this.act(intent)) cycleNow = true;
        await this.publish(intent.type);
      }
      if (this.ended) return;
      const state = jobState(m);
      if (state === 'paused' || state === 'disabled') {
        cycleNow = false;
        await condition(() => m.inbox.length > 0 || continueAsNewSuggested());
        if (m.inbox.length === 0) return;
        continue;
      }
      if (!cycleNow) {
        if (m.nextCycleAt === null) this.schedule();
        const waitMs = m.nextCycleAt === null ? 0 : Date.parse(m.nextCycleAt) - Date.now();
        if (waitMs > 0) {
          const woken = await condition(
            () => m.inbox.length > 0 || continueAsNewSuggested() || this.pushPending(),
            waitMs,
          );
          if (woken) {
            if (m.inbox.length > 0) continue;
            if (!this.pushPending()) return;
            // Pending directory changes: an incremental cycle once the push window is over, unless an
            // intent arrives first (the loop acts on it, then comes back here).
            if (!(await this.awaitPushWindow())) continue;
          }
        }
      }
      await this.runCycle();
      await this.publish('cycle');
      return;
    }
  }

  /** Directory changes are pending and the job may push them now or after the window. */
  private pushPending(): boolean {
    return pushDelayMs(this.m, new Date()) !== null;
  }

  /** Waits for the end of the push window; false when an intent arrived first. */
  private async awaitPushWindow(): Promise<boolean> {
    const delay = pushDelayMs(this.m, new Date()) ?? 0;
    if (delay === 0) return true;
    return !(await condition(() => this.m.inbox.length > 0, delay));
  }

  /**
   * Reloads the app; a failure (database down) must not end the job, so it keeps the last copy.
   * An app that no longer exists ends the job.
   */
  private async refreshApp(): Promise<void> {
    const { m, appId } = this;
    let app: AppSummary;
    try {
      app = await loadApp({ appId });
    } catch (err) {
      if (appGone(err) && patched(APP_GONE_ENDS_JOB_PATCH)) {
        log.info('the app no longer exists; the job ends', { appId });
        m.disabled = true;
        this.ended = true;
        return;
      }
      log.warn('loadApp failed; keeping the last known app settings', { appId, error: String(err) });
      return;
    }
    m.app = app;
    this.appName = app.appName;
    if (m.configVersion !== null && m.configVersion !== app.configVersion) m.initialDue = true;
    m.configVersion = app.configVersion;
  }

  private schedule(): void {
    scheduleNextCycle(this.m, new Date());
  }

  searchAttributes(state: JobState) {
    return [
      { key: appIdSearchAttribute, value: this.appId },
      { key: jobStateSearchAttribute, value: state },
    ];
  }

  /**
   * Shows a changed state in the search attributes (the Web UI's list and the API's queries) and
   * announces it, with a quarantine entered or left, to webhook subscribers. `cause`: what the job
   * just acted on. The search attribute holds the state published last, also across continue-as-new.
   */
  private async publish(cause: string): Promise<void> {
    const state = jobState(this.m);
    const quarantineBefore = this.publishedQuarantine;
    this.publishedQuarantine = this.m.quarantine;
    const quarantineMoved = (quarantineBefore === null) !== (this.m.quarantine === null);
    if (state === this.lastPublishedState && !quarantineMoved) return;
    this.lastPublishedState = state;
    // The untyped view reads both encodings (with and without type metadata) the same way.
    const current = workflowInfo().searchAttributes ?? {};
    const has = (name: string, value: string) => current[name]?.[0] === value;
    const from = (current[jobStateSearchAttribute.name]?.[0] as JobState | undefined) ?? null;
    if (!has(jobStateSearchAttribute.name, state)) {
      // The workflow logger is replay-aware: the line is written once, not again at each replay.
      log.info('job state changed', { appId: this.appId, from, to: state });
    }
    if (!has(jobStateSearchAttribute.name, state) || !has(appIdSearchAttribute.name, this.appId)) {
      upsertSearchAttributes(this.searchAttributes(state));
    }
    // A new job (no state published yet) has not changed state: only later steps are announced.
    const change = jobStateChange({
      appId: this.appId,
      from: from ?? state,
      to: state,
      quarantineBefore,
      quarantineAfter: this.m.quarantine,
      cause,
      at: new Date().toISOString(),
    });
    if (change) await this.announce(change);
  }

  /** A failed announcement (database down for its few tries) is logged; provisioning goes on. */
  private async announce(change: JobStateChange): Promise<void> {
    if (!patched(JOB_STATE_EVENTS_PATCH)) return;
    try {
      await announceJobState(change);
    } catch (err) {
      log.warn('announcing the job state change failed', {
        appId: this.appId,
        from: change.from,
        to: change.to,
        error: String(err),
      });
    }
  }

  private async sendQuarantineNotice(q: QuarantineStatus): Promise<void> {
    const { m, appId, appName } = this;
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
  }

  /** Applies the engine's quarantine decision; `message` is an admin's words for a manual quarantine. */
  private async applyQuarantine(decision: QuarantineDecision, message?: string): Promise<void> {
    const { m } = this;
    const kept = decision.quarantine?.reason === m.quarantine?.reason ? m.quarantine?.message : undefined;
    const note = message ?? kept;
    const before = m.quarantine;
    m.quarantine = decision.quarantine ? { ...decision.quarantine, ...(note ? { message: note } : {}) } : null;
    if (m.quarantine && m.quarantine.reason !== before?.reason) {
      log.warn('job quarantined', { appId: this.appId, reason: m.quarantine.reason, since: m.quarantine.since });
    } else if (!m.quarantine && before) {
      log.info('job left quarantine', { appId: this.appId, reason: before.reason });
    }
    if (decision.disable) m.disabled = true;
    this.schedule();
    if (decision.notify && m.quarantine) await this.sendQuarantineNotice(m.quarantine);
  }

  /** Acts on one recorded signal; returns true when a cycle should run now. */
  private async act(intent: JobIntent): Promise<boolean> {
    const { m, appId } = this;
    switch (intent.type) {
      case 'pause':
        m.paused = true;
        return false;
      case 'resume':
        m.paused = false;
        this.schedule();
        return false;
      case 'runNow':
        return true;
      case 'configChanged':
        await this.refreshApp();
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
        await this.applyQuarantine(
          evaluateQuarantine({ current: m.quarantine, manual: 'quarantine', now: new Date() }),
          intent.reason,
        );
        return false;
      case 'release':
        m.disabled = false;
        m.consecutiveFailures = 0;
        await this.applyQuarantine(evaluateQuarantine({ current: m.quarantine, manual: 'release', now: new Date() }));
        return patched(RELEASE_RUNS_CYCLE_PATCH);
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
        this.schedule();
        return false;
    }
  }

  /** Runs the next cycle, records its outcome and judges it (backoff, quarantine). */
  private async runCycle(): Promise<void> {
    const { m } = this;
    const number = nextCycleNumber(m);
    m.cycleNumber = number;
    const kind = m.initialDue ? 'initial' : 'incremental';
    this.running = { kind, number };
    m.nextCycleAt = null;
    // Any cycle reads the change log up to its start: the changes signalled so far are its. A signal that
    // arrives while it runs sets the flag again, and the changes behind it get the next push cycle.
    if (m.changesPendingSince) m.changesPendingSince = null;
    const summary = await runJobCycle({
      appId: this.appId,
      number,
      kind,
      watermark: m.watermark,
      deletionsApproved: m.deletionsApproved,
      deletionsRejected: m.deletionsRejected,
      options: this.cycleOptions,
      interrupted: () => m.inbox.some((i) => INTERRUPTING_INTENTS.includes(i.type)),
    });
    this.running = null;
    recordCycleOutcome(m, { number, kind, summary, endedAt: new Date() });
    // A stopped cycle is neither done nor failed: quarantine is not judged on it.
    if (summary.status === 'stopped') return;
    await this.applyQuarantine(
      evaluateQuarantine({ current: m.quarantine, cycle: { ...summary, status: summary.status }, now: new Date() }),
    );
  }
}

function continueAsNewSuggested(): boolean {
  return workflowInfo().continueAsNewSuggested;
}

function memoAppName(): string | undefined {
  const value = workflowInfo().memo?.appName;
  return typeof value === 'string' ? value : undefined;
}

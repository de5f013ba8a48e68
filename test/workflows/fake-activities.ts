// In-test implementations of FerryActivities: they record every call and answer from a small,
// controllable model of each app, so the workflow tests exercise the ORCHESTRATION only.
import { ApplicationFailure } from '@temporalio/common';
import type {
  AppSummary,
  BeginCycleInput,
  CycleFailure,
  CycleSummary,
  FerryActivities,
  JobStateChange,
  NotifyInput,
  RetentionInput,
  RetentionSummary,
  OnDemandInput,
  OnDemandReport,
} from '../../activities/types.ts';
import type { CycleProgressSource } from '../../api/cycle-progress.ts';

export type TargetHealth = 'healthy' | 'down' | 'unauthorized';

export interface FakeApp {
  appName: string;
  cycleIntervalMinutes: number;
  notificationEmail: string | null;
  configVersion: string;
  target: TargetHealth;
  /** Users staged per cycle. */
  users: number;
  groups: number;
  /** Disables/deletes the next cycle would make, and the threshold above which they are staged. */
  deletions: number;
  deletionThreshold: number;
  /** Change-log sequence of the directory (becomes the cycle's watermarkTo). */
  changeSeq: number;
  /** processBatch throws this Ferry error (as activities/failures.ts converts it), non-retryable. */
  batchError: { type: 'ConfigurationError' | 'PermanentError'; code: string; status: number } | null;
  /** loadApp / notify fail for good (database or mail server down). */
  loadFails: boolean;
  /** Cycles the database already holds for the app (e.g. from before a restart): numbers 1..n. */
  storedCycles: number;
  notifyFails: boolean;
}

export interface RecordedCall {
  name: keyof FerryActivities;
  input: unknown;
  /** Wall-clock order only; never asserted as a duration. */
  at: number;
}

interface CycleRow {
  input: BeginCycleInput;
  startedAt: string;
  total: number;
  finished: boolean;
  processed: number;
  operations: number;
  pendingDeletions: number;
  exceeded: boolean;
  deletionsSent: number;
}

export interface FakeActivities {
  activities: FerryActivities;
  calls: RecordedCall[];
  apps: Map<string, FakeApp>;
  addApp(appId: string, app?: Partial<FakeApp>): FakeApp;
  callsOf(name: keyof FerryActivities, appId?: string): RecordedCall[];
  /**
   * Lets a test hold processBatch of an app until released (to observe a running cycle); the first
   * `passing` calls from now on still go through.
   */
  gate(appId: string, passing?: number): { release(): void };
  /** Holds provisionOnDemand of an app until released (to observe a running on-demand child). */
  gateOnDemand(appId: string): { release(): void };
  /** The running cycle's progress, as the store's cycle row holds it (the API's CycleProgressSource). */
  progress: CycleProgressSource;
}

const zeroCounts = () => ({
  created: 0,
  updated: 0,
  disabled: 0,
  deleted: 0,
  skipped: 0,
  failed: 0,
  escrowed: 0,
  stagedDeletes: 0,
});

export function createFakeActivities(now: () => Date): FakeActivities {
  const calls: RecordedCall[] = [];
  const apps = new Map<string, FakeApp>();
  const cycles = new Map<string, CycleRow>();
  const gates = new Map<string, { passing: number; closed: Promise<void> }>();
  const onDemandGates = new Map<string, Promise<void>>();

  const record = (name: keyof FerryActivities, input: unknown) => calls.push({ name, input, at: calls.length });
  const appOf = (appId: string): FakeApp => {
    const app = apps.get(appId);
    if (!app) throw new Error(`unknown app ${appId}`);
    return app;
  };
  const cycleNumbersOf = (appId: string): number[] =>
    [...cycles.values()].filter((c) => c.input.appId === appId).map((c) => c.input.cycleNumber);
  const health = (app: FakeApp): CycleFailure | null => {
    if (app.target === 'down')
      return { kind: 'transient', code: 'ServiceUnavailable', message: 'connect ECONNREFUSED' };
    if (app.target === 'unauthorized')
      return { kind: 'configuration', code: 'Unauthorized', message: '401 Unauthorized' };
    return null;
  };

  const activities: FerryActivities = {
    async loadApp({ appId }): Promise<AppSummary> {
      record('loadApp', { appId });
      if (!apps.has(appId)) {
        // What activities/failures.ts makes of the store's NotFoundError: the app was deleted.
        throw ApplicationFailure.create({
          type: 'NotFoundError',
          message: `App ${appId} does not exist.`,
          nonRetryable: true,
          details: [{ kind: 'notFound', code: 'NotFound', status: null }],
        });
      }
      const app = appOf(appId);
      if (app.loadFails) throw ApplicationFailure.create({ message: 'database unavailable', nonRetryable: true });
      return {
        appId,
        appName: app.appName,
        provisioningEnabled: true,
        cycleIntervalMinutes: app.cycleIntervalMinutes,
        notificationEmail: app.notificationEmail,
        configVersion: app.configVersion,
        // As the store answers: after every cycle begun, including those from before a restart.
        nextCycleNumber: Math.max(app.storedCycles, ...cycleNumbersOf(appId)) + 1,
      };
    },
    async checkTarget({ appId }) {
      record('checkTarget', { appId });
      return health(appOf(appId));
    },
    async beginCycle(input) {
      record('beginCycle', input);
      const app = appOf(input.appId);
      const cycleId = `${input.appId}#${input.cycleNumber}`;
      if (!cycles.has(cycleId)) {
        cycles.set(cycleId, {
          input,
          startedAt: now().toISOString(),
          total: app.users + app.groups,
          finished: false,
          processed: 0,
          operations: 0,
          pendingDeletions: 0,
          exceeded: false,
          deletionsSent: 0,
        });
      }
      return { cycleId, cycleNumber: input.cycleNumber, total: app.users + app.groups, watermarkTo: app.changeSeq };
    },
    async deletionGuard(input) {
      record('deletionGuard', input);
      const app = appOf(input.appId);
      const row = cycles.get(input.cycleId)!;
      const rejected = row.input.deletionsRejected;
      const pending = rejected ? 0 : app.deletions;
      row.pendingDeletions = pending;
      row.exceeded = !input.deletionsApproved && pending > app.deletionThreshold;
      if (!row.exceeded) row.deletionsSent = pending;
      if (rejected || !row.exceeded) app.deletions = 0;
      return { pendingDeletions: pending, exceeded: row.exceeded };
    },
    async processBatch(input) {
      record('processBatch', input);
      const gate = gates.get(input.appId);
      if (gate && gate.passing-- <= 0) await gate.closed;
      const app = appOf(input.appId);
      if (app.batchError) {
        const { type, code, status } = app.batchError;
        throw ApplicationFailure.create({
          type,
          message: `${status} from the target`,
          nonRetryable: true,
          details: [{ kind: type === 'ConfigurationError' ? 'configuration' : 'permanent', code, status }],
        });
      }
      const row = cycles.get(input.cycleId)!;
      const failure = health(app);
      if (failure) return { nextCursor: input.cursor, processed: 0, done: true, failure };
      const size = input.phase === 'users' ? app.users : input.phase === 'groups' ? app.groups : 0;
      const processed = Math.max(0, Math.min(input.batchSize, size - input.cursor));
      const nextCursor = input.cursor + processed;
      if (input.phase !== 'references') row.processed += processed;
      row.operations += processed;
      return { nextCursor, processed, done: nextCursor >= size, failure: null };
    },
    async finishCycle({ appId, cycleId, failure, stopped }): Promise<CycleSummary> {
      record('finishCycle', { appId, cycleId, failure, stopped });
      const app = appOf(appId);
      const row = cycles.get(cycleId)!;
      row.finished = true;
      const counts = zeroCounts();
      if (row.input.kind === 'initial') counts.created = row.processed;
      else counts.updated = row.processed;
      counts.stagedDeletes = row.exceeded ? row.pendingDeletions : 0;
      counts.disabled = row.deletionsSent;
      return {
        cycleId,
        cycleNumber: row.input.cycleNumber,
        kind: row.input.kind,
        status: failure ? 'failed' : stopped ? 'stopped' : 'succeeded',
        startedAt: row.startedAt,
        endedAt: now().toISOString(),
        counts,
        operations: row.operations,
        watermarkTo: app.changeSeq,
        failure,
        pendingDeletions: row.pendingDeletions,
        deletionThresholdExceeded: row.exceeded,
      };
    },
    async resetApp(input) {
      record('resetApp', input);
    },
    async provisionOnDemand(input: OnDemandInput): Promise<OnDemandReport> {
      record('provisionOnDemand', input);
      await onDemandGates.get(input.appId);
      // Object ids that fail the way the real activity does (activities/failures.ts onDemandFailure).
      const failures: Record<string, [string, string]> = {
        'busy-user': ['ObjectBusy', 'user busy-user is being provisioned by a cycle; try again shortly'],
        'big-group': ['TooManyMembers', 'group big-group has 9 users; on-demand provisions a group with at most 5'],
        'down-user': ['TransientError', 'the target did not answer'],
        'config-user': ['ConfigurationError', 'the target refused the credentials (401)'],
      };
      const failure = failures[input.objectId];
      if (failure) throw ApplicationFailure.create({ type: failure[0], message: failure[1], nonRetryable: true });
      return {
        requestId: input.requestId,
        objectType: input.objectType,
        objectId: input.objectId,
        action: 'Create',
        status: 'Success',
        targetId: `target-${input.objectId}`,
        steps: [
          { name: 'testConnection', status: 'Success', details: {} },
          { name: 'import', status: 'Success', details: { objectId: input.objectId } },
          { name: 'scoping', status: 'Success', details: { inScope: true } },
          { name: 'matching', status: 'Success', details: { found: false } },
          { name: 'action', status: 'Success', details: { action: 'Create' } },
        ],
        modifiedAttributes: [{ name: 'userName', oldValue: null, newValue: `${input.objectId}@example.com` }],
        requests: [{ method: 'POST', path: '/Users', status: 201 }],
        counts: { requests: 1, members: 0, membersFailed: 0 },
        logId: `log-${input.requestId}`,
        durationMs: 1,
      };
    },
    async notify(input: NotifyInput) {
      record('notify', input);
      if (appOf(input.appId).notifyFails) {
        throw ApplicationFailure.create({ message: 'SMTP connection refused', nonRetryable: true });
      }
    },

    async applyRetention(input: RetentionInput): Promise<RetentionSummary> {
      record('applyRetention', input);
      return {
        provisioningLogs: 0,
        directoryChanges: 0,
        cycleWork: 0,
        auditLog: 0,
        webhooks: 0,
        announcements: 0,
        onDemandProgress: 0,
      };
    },

    async announceJobState(change: JobStateChange) {
      record('announceJobState', change);
    },

    async dispatchWebhooks(): Promise<string[]> {
      record('dispatchWebhooks', {});
      return [];
    },

    async deliverWebhook(input: { deliveryId: string }) {
      record('deliverWebhook', input);
      return { status: 'skipped' as const, responseStatus: null };
    },
    async reconcileApp(input: { appId: string; passId: string }) {
      record('reconcileApp', input);
      return { passId: input.passId, counts: {} };
    },
    async failReconcilePass(input: { passId: string; error: string }) {
      record('failReconcilePass', input);
    },
  };

  return {
    activities,
    calls,
    apps,
    progress: {
      async runningCycle(appId, number) {
        const row = cycles.get(`${appId}#${number}`);
        return row && !row.finished ? { processed: row.processed, total: row.total, startedAt: row.startedAt } : null;
      },
    },
    addApp(appId, app = {}) {
      const full: FakeApp = {
        appName: `App ${appId}`,
        cycleIntervalMinutes: 40,
        notificationEmail: 'ops@example.com',
        configVersion: 'v1',
        target: 'healthy',
        users: 3,
        groups: 1,
        deletions: 0,
        deletionThreshold: 500,
        changeSeq: 1,
        batchError: null,
        loadFails: false,
        storedCycles: 0,
        notifyFails: false,
        ...app,
      };
      apps.set(appId, full);
      return full;
    },
    callsOf(name, appId) {
      return calls.filter(
        (c) => c.name === name && (appId === undefined || (c.input as { appId?: string }).appId === appId),
      );
    },
    gateOnDemand(appId) {
      let release!: () => void;
      onDemandGates.set(
        appId,
        new Promise<void>((resolve) => {
          release = resolve;
        }),
      );
      return {
        release() {
          onDemandGates.delete(appId);
          release();
        },
      };
    },
    gate(appId, passing = 0) {
      let release!: () => void;
      const closed = new Promise<void>((resolve) => {
        release = resolve;
      });
      gates.set(appId, { passing, closed });
      return {
        release() {
          gates.delete(appId);
          release();
        },
      };
    },
  };
}

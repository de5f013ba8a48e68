// A source's long-running workflow `source:<sourceId>`: an import at start (full, as none ran),
// then one every intervalMinutes; after a failure the wait backs off (1, 2, 4… minutes, at most
// the interval). Signals only record intent: pause, resume, syncSource (import now).
// Quarantine (engine/policies/sourceQuarantine.ts decides, after every import): a source failing
// for 24 h (3 imports at least) stops importing on its cadence; resume, or a manual sync that
// succeeds, ends it. The decision is written to the store by `quarantineSource`, so the API shows it.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { SourceActivities } from '../activities/source-import.ts';
import { evaluateSourceQuarantine, NO_FAILURES, type SourceFailureStreak } from '../engine/policies/index.ts';
import {
  pauseSignal,
  resumeSignal,
  syncSourceSignal,
  type SourceSyncMode,
  type SourceWorkflowInput,
} from './messages.ts';
import { NON_RETRYABLE_ERROR_TYPES } from './activity-options.ts';

const { importSource } = proxyActivities<SourceActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds', nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

const { quarantineSource } = proxyActivities<SourceActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, initialInterval: '5 seconds' },
});

/** Imports before the history is handed to a new run. */
const IMPORTS_PER_RUN = 100;

/** Histories recorded before quarantine existed replay without its activity call. */
export const SOURCE_QUARANTINE_PATCH = 'source-quarantine';

/** The wait after `failures` failed imports in a row, in minutes. */
export const backoffMinutes = (failures: number, intervalMinutes: number): number =>
  failures === 0 ? intervalMinutes : Math.min(intervalMinutes, 2 ** (failures - 1));

/** The code of an activity failure: `details[0].code` (activities/failures.ts), else its type. */
function failureCode(error: Error): string {
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure)) return cause instanceof Error ? cause.name : error.name;
  const details = cause.details?.[0] as { code?: unknown } | undefined;
  return typeof details?.code === 'string' ? details.code : (cause.type ?? 'Unknown');
}

export async function sourceWorkflow(input: SourceWorkflowInput): Promise<void> {
  let paused = input.paused ?? false;
  let pending: SourceSyncMode | null = input.pending === undefined ? 'auto' : input.pending;
  let streak: SourceFailureStreak = input.streak ?? NO_FAILURES;
  let quarantined = input.quarantined ?? false;
  let releaseAsked = false;
  let intervalMinutes = 60;
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => {
    paused = false;
    if (quarantined) releaseAsked = true;
  });
  setHandler(syncSourceSignal, ({ mode }) => void (pending = mode));

  for (let i = 0; i < IMPORTS_PER_RUN; i++) {
    if (releaseAsked) {
      // The API cleared the stored quarantine before signalling; import at once.
      releaseAsked = false;
      ({ streak, quarantined } = evaluateSourceQuarantine({
        streak,
        quarantined,
        outcome: 'resumed',
        now: new Date(),
      }));
      pending ??= 'auto';
    }
    if (pending !== null && !paused) {
      const mode: SourceSyncMode = pending;
      pending = null;
      try {
        const result = await importSource({ sourceId: input.sourceId, mode });
        if (result.outcome === 'gone') return;
        intervalMinutes = result.intervalMinutes;
        // A successful import also cleared the stored quarantine (sources/run.ts). `disabled`: the API ends this workflow.
        if (result.outcome === 'imported') {
          ({ streak, quarantined } = evaluateSourceQuarantine({
            streak,
            quarantined,
            outcome: 'succeeded',
            now: new Date(),
          }));
        }
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        const decision = evaluateSourceQuarantine({ streak, quarantined, outcome: 'failed', now: new Date() });
        streak = decision.streak;
        if (decision.event === 'entered' && patched(SOURCE_QUARANTINE_PATCH)) {
          quarantined = true;
          await recordQuarantine(input.sourceId, failureCode(error), streak);
        }
      }
    }
    const ready = () => releaseAsked || (pending !== null && !paused);
    if (quarantined) {
      await condition(ready); // no cadence in quarantine: only resume or a manual sync
      continue;
    }
    const woken = await condition(ready, backoffMinutes(streak.failures, intervalMinutes) * 60_000);
    if (!woken && !paused) pending = 'auto';
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof sourceWorkflow>({ sourceId: input.sourceId, paused, pending, streak, quarantined });
}

/** Writes the decision for the API; a store that cannot be written is logged, the workflow goes on. */
async function recordQuarantine(sourceId: string, code: string, streak: SourceFailureStreak): Promise<void> {
  try {
    await quarantineSource({
      sourceId,
      code,
      failures: streak.failures,
      failingSince: streak.failingSince ?? new Date().toISOString(),
      since: new Date().toISOString(),
    });
  } catch (error) {
    log.warn('Recording the source quarantine failed', { sourceId, error: String(error) });
  }
}

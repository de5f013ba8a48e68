// A source's long-running workflow `source:<sourceId>`: an import at start (full, as none ran),
// then one every intervalMinutes; after a failure the wait backs off (1, 2, 4… minutes, at most
// the interval). Signals only record intent: pause, resume, syncSource (import now).
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler } from '@temporalio/workflow';
import type { SourceActivities } from '../activities/source-import.ts';
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

/** Imports before the history is handed to a new run. */
const IMPORTS_PER_RUN = 100;

/** The wait after `failures` failed imports in a row, in minutes. */
export const backoffMinutes = (failures: number, intervalMinutes: number): number =>
  failures === 0 ? intervalMinutes : Math.min(intervalMinutes, 2 ** (failures - 1));

export async function sourceWorkflow(input: SourceWorkflowInput): Promise<void> {
  let paused = input.paused ?? false;
  let pending: SourceSyncMode | null = input.pending === undefined ? 'auto' : input.pending;
  let failures = 0;
  let intervalMinutes = 60;
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  setHandler(syncSourceSignal, ({ mode }) => void (pending = mode));

  for (let i = 0; i < IMPORTS_PER_RUN; i++) {
    if (pending !== null && !paused) {
      const mode: SourceSyncMode = pending;
      pending = null;
      try {
        const result = await importSource({ sourceId: input.sourceId, mode });
        if (result.outcome === 'gone') return;
        intervalMinutes = result.intervalMinutes;
        failures = 0;
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        failures++;
      }
    }
    const wait = backoffMinutes(failures, intervalMinutes) * 60_000;
    const woken = await condition(() => pending !== null && !paused, wait);
    if (!woken && !paused) pending = 'auto';
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof sourceWorkflow>({ sourceId: input.sourceId, paused, pending });
}

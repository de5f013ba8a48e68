// Change push: tails the directory change log and signals `directoryChanged` to the job of every app a
// new change may affect, so the change reaches the target within seconds instead of at the next cycle
// of the cadence. Tailing the log (not hooking each writer) sees every committed change whoever wrote it:
// the REST API, a directory import, a source import in the worker process, the inbound SCIM source.
// A job coalesces signals into one flag and one cycle per push window (workflows/job.ts); this side sends
// an app at most one signal per CHANGE_PUSH_MIN_GAP_MS, so a burst of changes adds few events to its history.
import { WorkflowNotFoundError } from '@temporalio/common';
import type { WorkflowClient } from '@temporalio/client';
import type { Store } from '../store/index.ts';
import { directoryChangedSignal, jobWorkflowId } from '../workflows/messages.ts';

/** How often the change log is read for new changes. */
export const CHANGE_PUSH_POLL_MS = 200;
/** Least time between two signals to the same job. */
export const CHANGE_PUSH_MIN_GAP_MS = 1000;

export interface ChangePushOptions {
  pollMs?: number;
  minGapMs?: number;
  /** A read of the log or a signal failed (it is tried again at the next poll). */
  onError?: (error: unknown) => void;
}

/** Sends `directoryChanged` to an app's job; a job that is not running is no error (nothing to push to). */
export function signalDirectoryChanged(client: Pick<WorkflowClient, 'getHandle'>) {
  return async (appId: string): Promise<void> => {
    try {
      await client.getHandle(jobWorkflowId(appId)).signal(directoryChangedSignal);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || (error as Error)?.name === 'WorkflowNotFoundError') return;
      throw error;
    }
  };
}

/**
 * Starts tailing the change log from its current end (changes committed before the start are left to the
 * cadence's cycles). `send` signals one app's job.
 */
export function startChangePush(
  store: Pick<Store, 'changes'>,
  send: (appId: string) => Promise<void>,
  options: ChangePushOptions = {},
): { stop(): Promise<void> } {
  const pollMs = options.pollMs ?? CHANGE_PUSH_POLL_MS;
  const minGapMs = options.minGapMs ?? CHANGE_PUSH_MIN_GAP_MS;
  let seen: number | null = null;
  /** Apps with changes not yet signalled (waiting for the gap since their last signal). */
  const pending = new Set<string>();
  const lastSent = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();

  const readLog = async () => {
    const latest = await store.changes.latestSeq();
    if (seen !== null && latest > seen) {
      for (const appId of await store.changes.appsToPush(seen, latest)) pending.add(appId);
    }
    seen = latest;
  };

  const signalDue = async () => {
    const now = Date.now();
    const due = [...pending].filter((appId) => now - (lastSent.get(appId) ?? -Infinity) >= minGapMs);
    for (const [appId, at] of lastSent) if (now - at >= minGapMs) lastSent.delete(appId);
    await Promise.all(
      due.map(async (appId) => {
        pending.delete(appId);
        lastSent.set(appId, now);
        try {
          await send(appId);
        } catch (error) {
          pending.add(appId); // tried again once the gap is over
          options.onError?.(error);
        }
      }),
    );
  };

  const round = () => {
    timer = null;
    inFlight = readLog()
      .catch((error: unknown) => options.onError?.(error))
      .then(signalDue)
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(round, pollMs);
          timer.unref();
        }
      });
  };
  round();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}

// The intent to create, recorded before the POST: a crash between the POST and the saved outcome
// leaves the mark on the object's link, so the next attempt that finds the account knows Ferry made it
// and logs a Create, not a pre-existing account matched (see pipeline.ts).
import type { ObjectType } from '../engine/types.ts';
import type { Store } from '../store/index.ts';

/** Records create intents; resolves once the intent is durable. */
export type RecordCreateIntent = (objectType: ObjectType, sourceId: string) => Promise<void>;

/**
 * Batches the intents of concurrent exports: the intents that arrive while one write runs go in the
 * next write, so a page exported at the app's concurrency costs one statement per round, not per object.
 */
export function createIntentRecorder(store: Store, appId: string, now: () => Date): RecordCreateIntent {
  let queued: { objectType: ObjectType; sourceId: string; done: () => void; failed: (e: unknown) => void }[] = [];
  let writing: Promise<void> | null = null;

  const writeQueued = async (): Promise<void> => {
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      const at = now();
      try {
        for (const objectType of ['user', 'group'] as const) {
          const ids = batch.filter((q) => q.objectType === objectType).map((q) => q.sourceId);
          await store.links.markCreateRequested(appId, objectType, ids, at);
        }
        for (const q of batch) q.done();
      } catch (error) {
        for (const q of batch) q.failed(error);
      }
    }
    writing = null;
  };

  return (objectType, sourceId) =>
    new Promise<void>((done, failed) => {
      queued.push({ objectType, sourceId, done, failed });
      writing ??= writeQueued();
    });
}

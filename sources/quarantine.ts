// A source entering or leaving quarantine: the stored state the API shows and the webhook event
// saying so (`source.quarantine.entered` / `source.quarantine.left`, for subscriptions of every app:
// a source belongs to none) are written in one transaction, with the source's row locked. A write
// that changes nothing emits nothing, so a retried activity, a resume racing a successful import, or
// a second clear announce a change once. A decision is known by its `since` (the workflow's clock
// when it decided, the same in every attempt of the activity): once its quarantine ended, the same
// decision written again (an attempt retried after the release) changes nothing. Sources have no
// notification address: no e-mail is sent.
import type { SourceQuarantine, SourceRecord, Store } from '../store/index.ts';

/** What ended a quarantine: `resume` (POST …/resume), `import` (an import that worked), `enabled` (disabled, then enabled). */
export type QuarantineLeftCause = 'resume' | 'import' | 'enabled';

const about = (source: SourceRecord) => ({ sourceId: source.id, name: source.name, type: source.type });

/**
 * Records the workflow's decision. Emits `source.quarantine.entered` only when the source was not
 * quarantined (the same decision written again — a retried attempt — emits nothing). A decision
 * whose quarantine ended already is not recorded again. Returns whether it entered.
 */
export async function enterSourceQuarantine(
  store: Store,
  sourceId: string,
  quarantine: SourceQuarantine,
  at = new Date(),
): Promise<boolean> {
  return store.transaction(async (tx) => {
    const source = await tx.sources.getForUpdate(sourceId);
    if (!source || source.state.releasedQuarantineSince === quarantine.since) return false;
    const entered = !source.state.quarantine;
    await tx.sources.setState(sourceId, { quarantine });
    if (entered) {
      await tx.webhooks.emit({
        appId: null,
        type: 'source.quarantine.entered',
        data: { ...about(source), ...quarantine, at: at.toISOString() },
      });
    }
    return entered;
  });
}

/**
 * Ends the source's quarantine, if it has one, with `source.quarantine.left` naming the quarantine
 * it left and `cause`. Returns whether it left one.
 */
export async function leaveSourceQuarantine(
  store: Store,
  sourceId: string,
  cause: QuarantineLeftCause,
  at = new Date(),
): Promise<boolean> {
  return store.transaction(async (tx) => {
    const source = await tx.sources.getForUpdate(sourceId);
    const left = source?.state.quarantine;
    if (!source || !left) return false;
    await tx.sources.setState(sourceId, { quarantine: null, releasedQuarantineSince: left.since });
    await tx.webhooks.emit({
      appId: null,
      type: 'source.quarantine.left',
      data: { ...about(source), cause, ...left, at: at.toISOString() },
    });
    return true;
  });
}

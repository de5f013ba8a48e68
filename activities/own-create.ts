// A create whose outcome was lost: Ferry sent the POST (its intent is on the link), then the worker
// died before the outcome was saved. The next attempt matches the account Ferry made; the log must
// say Ferry created it, not that a pre-existing account was matched and skipped.
import type { MatchDecision } from '../engine/matching/index.ts';
import type { LogStep, ModifiedAttribute } from '../engine/types.ts';
import type { LinkRecord } from '../store/index.ts';

/** The object was matched (not linked) while an earlier create of Ferry's for it is still unsaved. */
export function matchedOwnCreate(link: LinkRecord | null, linked: boolean, matching: MatchDecision | null): boolean {
  return !linked && link?.createRequestedAt != null && matching?.outcome.outcome === 'matched';
}

/** Records the adoption in the log: the export step names it, the attributes are those the create set. */
export function logOwnCreate(
  rec: {
    modified: ModifiedAttribute[];
    step(name: LogStep['name'], status: LogStep['status'], details: Record<string, unknown>): void;
  },
  targetId: string,
  link: LinkRecord | null,
  created: readonly ModifiedAttribute[],
): void {
  rec.step('export', 'Success', {
    detail: `created by Ferry at ${link?.createRequestedAt}; the outcome was not saved (the attempt was interrupted), so the account ${targetId} was matched and adopted`,
    targetId,
  });
  // Attributes an update sent now come after the ones the create set.
  rec.modified.unshift(...created.filter((c) => !rec.modified.some((m) => m.name === c.name)));
}

// A source's deletion threshold: the share of its live objects one import may soft-delete
// without approval. Full imports (objects no longer returned) and Graph delta removals
// (`@removed`) are both measured against it.

/** Default share of a source's live objects an import may soft-delete without approval. */
export const DEFAULT_SOURCE_DELETION_THRESHOLD_PERCENT = 20;

/** True when `deletions` is MORE than `percent` of `liveObjects` (exactly the threshold is allowed). */
export function sourceDeletionsNeedApproval(input: {
  deletions: number;
  liveObjects: number;
  percent?: number;
}): boolean {
  const percent = input.percent ?? DEFAULT_SOURCE_DELETION_THRESHOLD_PERCENT;
  return input.deletions > Math.floor((Math.max(0, input.liveObjects) * percent) / 100);
}

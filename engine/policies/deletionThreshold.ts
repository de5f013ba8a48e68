// Accidental-deletion prevention: if a cycle would disable or delete more objects
// than the app's threshold, none of those are exported (they are staged for approval).

/** Same shape as the app configuration's `deletionThreshold`: a count, or a percentage of linked objects. */
export type DeletionThresholdSetting = { count: number } | { percent: number };

export const DEFAULT_DELETION_THRESHOLD: DeletionThresholdSetting = { count: 500 };

export interface DeletionThresholdInput {
  /** Disables + deletes this cycle would export. */
  deletions: number;
  /** Objects of the app that are linked (the base of a percentage). */
  linkedObjects: number;
  /** The app's threshold; undefined = the default (500); null = no guard. */
  threshold?: DeletionThresholdSetting | null;
}

/** The most disables + deletes a cycle may export; null when there is no guard. */
export function deletionLimit(
  threshold: DeletionThresholdSetting | null | undefined,
  linkedObjects: number,
): number | null {
  if (threshold === null) return null;
  const setting = threshold ?? DEFAULT_DELETION_THRESHOLD;
  if ('count' in setting) return setting.count;
  return Math.floor((Math.max(0, linkedObjects) * setting.percent) / 100);
}

/** True when the deletions are MORE than the threshold (exactly the threshold is allowed). */
export function exceedsDeletionThreshold(input: DeletionThresholdInput): boolean {
  const limit = deletionLimit(input.threshold, input.linkedObjects);
  return limit !== null && input.deletions > limit;
}

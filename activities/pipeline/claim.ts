// Fencing before a write (activities/object-locks.ts): an attempt that lost its claim on the object
// to a later attempt must not write to the target. Checked once per object, right before its first
// write; the object's later writes follow within the same export.
import type { ObjectContext } from './types.ts';
import type { OutcomeWriter } from './writer.ts';

const checked = new WeakMap<OutcomeWriter, Promise<void>>();

/** Resolves when this attempt still holds the object's claim; throws (ClaimLostError) when it lost it. */
export function claimBeforeWrite(ctx: ObjectContext, out: OutcomeWriter): Promise<void> {
  let check = checked.get(out);
  if (!check) {
    check = ctx.assertClaimHeld?.() ?? Promise.resolve();
    checked.set(out, check);
  }
  return check;
}

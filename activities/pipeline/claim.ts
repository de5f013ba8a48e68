// Fencing before a write (activities/object-locks.ts): an attempt that lost its claim on the object
// to a later attempt must not write to the target. Checked once per object, right before its first
// write; the object's later writes follow within the same export.
import type { ObjectContext, SourceObject } from './types.ts';
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

/**
 * Before a create: the claim is checked as for any write, and the create intent made durable
 * (create-intents.ts). Where the context can do both in one query and the claim was not checked yet
 * for this object, it does.
 */
export async function claimBeforeCreate(ctx: ObjectContext, source: SourceObject, out: OutcomeWriter): Promise<void> {
  if (ctx.assertClaimHeldRecordingCreate && !checked.has(out)) {
    const check = ctx.assertClaimHeldRecordingCreate();
    checked.set(out, check);
    return check;
  }
  await claimBeforeWrite(ctx, out);
  await ctx.recordCreateIntent(source.type, source.id);
}

// The errors of the activities layer. What an activity throws is one of the five kinds of
// engine/errors.ts (SCIM failures classified by scim/classify.ts, database ones by store/errors.ts,
// the activities' own made here), or CycleStop and ClaimLostError, which never leave an activity as
// an object's failure: the cycle and on-demand code turn them into the run's failure or its end.
// failures.ts turns them into Temporal failures.
import { NotFoundError } from '../engine/errors.ts';
import type { CycleFailure } from './types.ts';

/** Thrown out of the pipeline when the target rejects the app as a whole (401/403, non-SCIM). */
export class CycleStop extends Error {
  constructor(readonly failure: CycleFailure) {
    super(failure.message);
    this.name = 'CycleStop';
  }
}

/** The cycle row an activity was given is not in the database (a retry cannot bring it back). */
export const cycleNotFound = (cycleId: string): NotFoundError =>
  new NotFoundError(`Cycle ${cycleId} does not exist`, { code: 'NotFound' });

/**
 * The attempt's claim on the object was taken over (by a later attempt of its holder, or by another
 * holder after it expired): the attempt must not write to the target for it. Not a FerryError on
 * purpose: the pipeline must not log it as the object's failure; it ends the attempt.
 */
export class ClaimLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClaimLostError';
  }
}

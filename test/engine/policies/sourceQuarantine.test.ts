// The source quarantine rule: failures for 24 h in a row and at least 3 failed imports; a success or
// a resume ends it.
import { describe, expect, it } from 'vitest';
import { evaluateSourceQuarantine, NO_FAILURES } from '../../../engine/policies/index.ts';

const at = (hours: number) => new Date(Date.UTC(2025, 0, 1) + hours * 3_600_000);

describe('evaluateSourceQuarantine', () => {
  it('quarantines only after 24 h of failures and 3 failed imports', () => {
    let state = { streak: NO_FAILURES, quarantined: false };
    const fail = (hours: number) => {
      const decision = evaluateSourceQuarantine({ ...state, outcome: 'failed', now: at(hours) });
      state = decision;
      return decision;
    };
    expect(fail(0)).toMatchObject({ quarantined: false, streak: { failures: 1, failingSince: at(0).toISOString() } });
    // A weekly source: its second failure is a day later, still not enough failures.
    expect(fail(25)).toMatchObject({ quarantined: false, event: null });
    expect(fail(26)).toMatchObject({ quarantined: true, event: 'entered', streak: { failures: 3 } });
    expect(fail(27)).toMatchObject({ quarantined: true, event: null, streak: { failures: 4 } });
    expect(evaluateSourceQuarantine({ ...state, outcome: 'resumed', now: at(28) })).toEqual({
      streak: NO_FAILURES,
      quarantined: false,
      event: 'released',
    });
  });

  it('many failures within a day do not quarantine; a success starts the streak again', () => {
    let state = { streak: NO_FAILURES, quarantined: false };
    for (let minute = 0; minute < 20; minute++) {
      state = evaluateSourceQuarantine({
        ...state,
        outcome: 'failed',
        now: new Date(at(0).getTime() + minute * 60_000),
      });
    }
    expect(state).toMatchObject({ quarantined: false, streak: { failures: 20 } });
    state = evaluateSourceQuarantine({ ...state, outcome: 'succeeded', now: at(1) });
    expect(state).toMatchObject({ quarantined: false, streak: NO_FAILURES, event: null });
    state = evaluateSourceQuarantine({ ...state, outcome: 'failed', now: at(24.5) });
    expect(state).toMatchObject({ quarantined: false, streak: { failures: 1, failingSince: at(24.5).toISOString() } });
  });
});

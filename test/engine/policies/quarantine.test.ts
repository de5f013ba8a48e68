import { describe, expect, it } from 'vitest';
import {
  evaluateQuarantine,
  type QuarantineCycleOutcome,
  type QuarantineInput,
} from '../../../engine/policies/index.ts';

const DAY = 86_400_000;
const now = new Date('2024-05-01T12:00:00.000Z');
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

function cycle(overrides: Partial<QuarantineCycleOutcome> & { failed?: number } = {}): QuarantineCycleOutcome {
  const { failed = 0, ...rest } = overrides;
  return {
    status: 'succeeded',
    failure: null,
    counts: { failed },
    operations: 10_000,
    deletionThresholdExceeded: false,
    ...rest,
  };
}

const unauthorized = cycle({ status: 'failed', failure: { kind: 'configuration', code: 'Unauthorized' } });
const nonScim = cycle({ status: 'failed', failure: { kind: 'configuration', code: 'NonScimResponse' } });
const unreachable = cycle({ status: 'failed', failure: { kind: 'transient', code: 'Timeout' } });

describe('quarantine criteria (after a cycle, job not quarantined)', () => {
  it.each<[name: string, outcome: QuarantineCycleOutcome, reason: string | null]>([
    ['a healthy cycle', cycle({ failed: 12 }), null],
    ['invalid credentials', unauthorized, 'Unauthorized'],
    ['a non-SCIM answer', nonScim, 'NonScimResponse'],
    ['an unreachable target (backoff, not quarantine)', unreachable, null],
    ['the deletion threshold exceeded', cycle({ deletionThresholdExceeded: true }), 'TooManyDeletes'],
    ['5,000 failures and 40 % exactly', cycle({ failed: 5000, operations: 12_500 }), null],
    ['5,000 failures and just over 40 %', cycle({ failed: 5000, operations: 12_499 }), 'HighFailureRate'],
    ['4,999 failures of 4,999', cycle({ failed: 4999, operations: 4999 }), null],
    ['5,000 failures of 5,000', cycle({ failed: 5000, operations: 5000 }), 'HighFailureRate'],
    ['40,000 failures at 10 %', cycle({ failed: 40_000, operations: 400_000 }), null],
    ['40,001 failures at 10 %', cycle({ failed: 40_001, operations: 400_010 }), 'TooManyFailures'],
    ['credentials beat deletes', cycle({ ...unauthorized, deletionThresholdExceeded: true }), 'Unauthorized'],
  ])('%s → %s', (_name, outcome, reason) => {
    const decision = evaluateQuarantine({ current: null, cycle: outcome, now });
    expect(decision.quarantine?.reason ?? null).toBe(reason);
    expect(decision.notify).toBe(reason !== null);
    expect(decision.event).toBe(reason === null ? null : 'entered');
    if (decision.quarantine) expect(decision.quarantine.since).toBe(now.toISOString());
    expect(decision.disable).toBe(false);
  });
});

describe('while quarantined', () => {
  const base: Omit<QuarantineInput, 'cycle'> = { current: { reason: 'Unauthorized', since: ago(3 * DAY) }, now };

  it('a successful cycle ends the quarantine, without an e-mail', () => {
    expect(evaluateQuarantine({ ...base, cycle: cycle() })).toEqual({
      quarantine: null,
      disable: false,
      notify: false,
      event: 'released',
    });
  });

  it('the same reason again keeps it without a new e-mail', () => {
    expect(evaluateQuarantine({ ...base, cycle: unauthorized })).toEqual({
      quarantine: { reason: 'Unauthorized', since: ago(3 * DAY) },
      disable: false,
      notify: false,
      event: null,
    });
  });

  it('a new reason e-mails again but keeps when the quarantine began', () => {
    expect(evaluateQuarantine({ ...base, cycle: nonScim })).toEqual({
      quarantine: { reason: 'NonScimResponse', since: ago(3 * DAY) },
      disable: false,
      notify: true,
      event: 'reasonChanged',
    });
  });

  it('a cycle that failed for another reason (target unreachable) does not release it', () => {
    expect(evaluateQuarantine({ ...base, cycle: unreachable }).quarantine).toEqual(base.current);
  });

  it.each<[name: string, since: number, disable: boolean]>([
    ['27 days', 27 * DAY, false],
    ['just under 4 weeks', 28 * DAY - 1, false],
    ['exactly 4 weeks', 28 * DAY, true],
    ['5 weeks', 35 * DAY, true],
  ])('after %s in quarantine, disable = %s', (_name, since, disable) => {
    const decision = evaluateQuarantine({
      current: { reason: 'Unauthorized', since: ago(since) },
      cycle: unauthorized,
      now,
    });
    expect(decision.disable).toBe(disable);
  });

  it('the four weeks are checked without a cycle too', () => {
    expect(evaluateQuarantine({ current: { reason: 'TooManyDeletes', since: ago(28 * DAY) }, now }).disable).toBe(true);
  });

  it('a successful cycle after four weeks still releases instead of disabling', () => {
    expect(
      evaluateQuarantine({ current: { reason: 'Unauthorized', since: ago(40 * DAY) }, cycle: cycle(), now }),
    ).toMatchObject({
      quarantine: null,
      disable: false,
    });
  });
});

describe('manual quarantine', () => {
  it('an admin can quarantine a healthy job, and is e-mailed', () => {
    expect(evaluateQuarantine({ current: null, manual: 'quarantine', now })).toEqual({
      quarantine: { reason: 'Manual', since: now.toISOString() },
      disable: false,
      notify: true,
      event: 'entered',
    });
  });

  it('holds through successful and failing cycles until released', () => {
    const current = { reason: 'Manual', since: ago(DAY) };
    expect(evaluateQuarantine({ current, cycle: cycle(), now }).quarantine).toEqual(current);
    expect(evaluateQuarantine({ current, cycle: unauthorized, now }).quarantine).toEqual(current);
    expect(evaluateQuarantine({ current, manual: 'release', now })).toEqual({
      quarantine: null,
      disable: false,
      notify: false,
      event: 'released',
    });
  });

  it('turns an automatic quarantine into a manual one', () => {
    const decision = evaluateQuarantine({
      current: { reason: 'Unauthorized', since: ago(DAY) },
      manual: 'quarantine',
      now,
    });
    expect(decision.quarantine).toEqual({ reason: 'Manual', since: ago(DAY) });
    expect(decision.event).toBe('reasonChanged');
  });

  it('releasing a job that is not quarantined changes nothing', () => {
    expect(evaluateQuarantine({ current: null, manual: 'release', now })).toEqual({
      quarantine: null,
      disable: false,
      notify: false,
      event: null,
    });
  });
});

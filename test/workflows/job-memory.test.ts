// The job's pure rules (workflows/job-memory.ts): what a cycle's outcome does to the job and when the
// next cycle is due, without Temporal.
import { describe, expect, it } from 'vitest';
import type { CycleSummary } from '../../activities/types.ts';
import type { JobState } from '../../engine/types.ts';
import type { QuarantineStatus } from '../../workflows/messages.ts';
import { EMPTY_COUNTS } from '../../store/index.ts';
import {
  initialJobMemory,
  intendedJobMemory,
  jobState,
  jobStateChange,
  jobMemoryFromInput,
  cycleOptionsFromInput,
  recordCycleOutcome,
  scheduleNextCycle,
  type JobMemory,
} from '../../workflows/job-memory.ts';

const ended = new Date('2026-11-30T10:00:00.000Z');
const counts = { ...EMPTY_COUNTS, created: 1 };
const summary = (status: CycleSummary['status'], extra: Partial<CycleSummary> = {}): CycleSummary => ({
  cycleId: 'c',
  cycleNumber: 0,
  kind: 'incremental',
  status,
  startedAt: '2026-11-30T09:59:00.000Z',
  endedAt: '2026-11-30T09:59:59.000Z',
  counts,
  operations: 1,
  watermarkTo: 42,
  failure: status === 'failed' ? { kind: 'transient', code: 'ServiceUnavailable' as const, message: 'down' } : null,
  pendingDeletions: 0,
  deletionThresholdExceeded: false,
  ...extra,
});
const steady = (): JobMemory => ({ ...initialJobMemory(), initialDue: false, watermark: 7, consecutiveFailures: 2 });

describe('recordCycleOutcome', () => {
  it('a succeeded cycle moves the watermark, clears the backoff and the deletion decisions', () => {
    const m = { ...steady(), deletionsApproved: true };
    recordCycleOutcome(m, { number: 3, kind: 'incremental', summary: summary('succeeded'), endedAt: ended });
    expect(m).toMatchObject({ watermark: 42, consecutiveFailures: 0, initialDue: false, deletionsApproved: false });
    expect(m.lastCycle).toMatchObject({ number: 3, status: 'succeeded', endedAt: ended.toISOString(), failure: null });
  });

  it('a failed cycle keeps the watermark and counts one more failure', () => {
    const m = steady();
    recordCycleOutcome(m, { number: 3, kind: 'incremental', summary: summary('failed'), endedAt: ended });
    expect(m).toMatchObject({ watermark: 7, consecutiveFailures: 3 });
    expect(m.lastCycle?.failure).toEqual({ code: 'ServiceUnavailable', message: 'down' });
  });

  it('a stopped cycle changes nothing but the last cycle: watermark, backoff and decisions stay', () => {
    const m = { ...steady(), deletionsApproved: true, pendingDeletions: 5 };
    recordCycleOutcome(m, { number: 3, kind: 'incremental', summary: summary('stopped'), endedAt: ended });
    expect(m).toMatchObject({ watermark: 7, consecutiveFailures: 2, deletionsApproved: true, pendingDeletions: 5 });
    expect(m.lastCycle?.status).toBe('stopped');
  });

  it('takes the number the cycle ran as when the store gave it another, and never numbers backwards', () => {
    const m = { ...steady(), cycleNumber: 3 };
    recordCycleOutcome(m, {
      number: 3,
      kind: 'incremental',
      summary: summary('succeeded', { cycleNumber: 9 }),
      endedAt: ended,
    });
    expect([m.cycleNumber, m.lastCycle?.number]).toEqual([9, 9]);
  });

  it('keeps the pending deletions only when the threshold was exceeded', () => {
    const m = steady();
    const over = summary('succeeded', { deletionThresholdExceeded: true, pendingDeletions: 12 });
    recordCycleOutcome(m, { number: 1, kind: 'incremental', summary: over, endedAt: ended });
    expect(m.pendingDeletions).toBe(12);
    recordCycleOutcome(m, { number: 2, kind: 'incremental', summary: summary('succeeded'), endedAt: ended });
    expect(m.pendingDeletions).toBe(0);
  });
});

describe('scheduleNextCycle', () => {
  const afterCycle = (status: CycleSummary['status'], m = steady()): JobMemory => {
    recordCycleOutcome(m, { number: 1, kind: 'incremental', summary: summary(status), endedAt: ended });
    return m;
  };

  it('the first cycle is due now', () => {
    const m = initialJobMemory();
    scheduleNextCycle(m, ended);
    expect(m.nextCycleAt).toBe(ended.toISOString());
  });

  it('a healthy job waits its interval from the end of the last cycle', () => {
    const m = afterCycle('succeeded', { ...steady(), app: { cycleIntervalMinutes: 10 } as JobMemory['app'] });
    scheduleNextCycle(m, new Date(ended.getTime() + 5_000));
    expect(m.nextCycleAt).toBe(new Date(ended.getTime() + 10 * 60_000).toISOString());
  });

  it('a stopped cycle is still due: it runs again at once', () => {
    const m = afterCycle('stopped');
    scheduleNextCycle(m, ended);
    expect(m.nextCycleAt).toBe(ended.toISOString());
  });

  it('a paused job keeps the time it had', () => {
    const m = { ...afterCycle('succeeded'), paused: true, nextCycleAt: 'kept' };
    scheduleNextCycle(m, ended);
    expect(m.nextCycleAt).toBe('kept');
  });
});

describe('the input of a run', () => {
  it('carries the memory and the cycle tuning apart, leaving unset keys at their first-run values', () => {
    const input = { appId: 'a', appName: 'A', batchSize: 5, watermark: 9, paused: undefined };
    expect(jobMemoryFromInput(input)).toEqual({ ...initialJobMemory(), watermark: 9 });
    expect(cycleOptionsFromInput(input)).toEqual({ batchSize: 5 });
  });
});

describe('what the job announces to webhook subscribers (jobStateChange)', () => {
  const q = { reason: 'Unauthorized', since: '2026-11-30T09:00:00.000Z' };
  const step = (from: JobState, to: JobState, before: QuarantineStatus | null, after: QuarantineStatus | null) =>
    jobStateChange({
      appId: 'a',
      from,
      to,
      quarantineBefore: before,
      quarantineAfter: after,
      cause: 'x',
      at: '2026-11-30T10:00:00.000Z',
    });

  it.each([
    ['a state that did not move, no quarantine', 'steady', 'steady', null, null, null],
    ['a quarantine whose reason changed', 'quarantined', 'quarantined', q, { ...q, reason: 'NonScimResponse' }, null],
  ] as const)('tells nothing of %s', (_, from, to, before, after, expected) => {
    expect(step(from, to, before, after)).toBe(expected);
  });

  it('tells a quarantine entered with the state change, and one entered while paused without one', () => {
    expect(step('steady', 'quarantined', null, q)).toMatchObject({
      from: 'steady',
      to: 'quarantined',
      quarantineEntered: q,
      quarantineLeft: null,
    });
    expect(step('paused', 'paused', null, { ...q, message: 'audit' })).toMatchObject({
      from: 'paused',
      to: 'paused',
      quarantineEntered: { ...q, message: 'audit' },
    });
  });

  it('tells the quarantine left as it was', () => {
    expect(step('quarantined', 'steady', q, null)).toMatchObject({ quarantineEntered: null, quarantineLeft: q });
    // Four weeks in quarantine: disabled, and still quarantined.
    expect(step('quarantined', 'disabled', q, q)).toMatchObject({ quarantineEntered: null, quarantineLeft: null });
  });
});

describe('what the status query shows while intents wait to be acted on (intendedJobMemory)', () => {
  const now = new Date('2026-11-30T10:00:00.000Z');

  it('a quarantine asked for reads quarantined in both the state and the reason, so a release is not refused', () => {
    const m = { ...steady(), inbox: [{ type: 'quarantine' as const, reason: 'target migration' }] };
    const intended = intendedJobMemory(m, now);
    expect(jobState(intended)).toBe('quarantined');
    expect(intended.quarantine).toEqual({ reason: 'Manual', since: now.toISOString(), message: 'target migration' });
    expect(m.quarantine).toBeNull(); // the job's own memory is left to its act
  });

  it('a release after it reads neither', () => {
    const m = { ...steady(), inbox: [{ type: 'quarantine' as const, reason: 'x' }, { type: 'release' as const }] };
    const intended = intendedJobMemory(m, now);
    expect([jobState(intended), intended.quarantine]).toEqual(['steady', null]);
  });

  it('rejected deletions read as none staged and out of the TooManyDeletes quarantine; a manual one stays', () => {
    const staged = { reason: 'TooManyDeletes', since: now.toISOString() };
    const m = { ...steady(), pendingDeletions: 2, quarantine: staged, inbox: [{ type: 'rejectDeletions' as const }] };
    expect(intendedJobMemory(m, now)).toMatchObject({ pendingDeletions: 0, quarantine: null });
    const manual = { reason: 'Manual', since: now.toISOString() };
    expect(intendedJobMemory({ ...m, quarantine: manual }, now)).toMatchObject({
      pendingDeletions: 0,
      quarantine: manual,
    });
  });
});

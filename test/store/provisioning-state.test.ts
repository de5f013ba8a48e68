import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ProvisioningLogEntry } from '../../engine/types.ts';
import { logEntryId, logsToCsv } from '../../store/index.ts';
import { storeBackends, useStore } from '../support/postgres.ts';

const uid = () => randomUUID();

describe.each(storeBackends)('links, cycles, cycle work and logs on $name', (backend) => {
  const ctx = useStore(backend);
  const newApp = async () =>
    (await ctx.store.apps.create({ name: 'App', template: 'generic-scim', configuration: {} })).id;

  it('link upsert is idempotent and keeps fields it was not given', async () => {
    const appId = await newApp();
    const key = { appId, objectType: 'user' as const, sourceId: uid() };
    const first = await ctx.store.links.upsert({ ...key, targetId: 't-1', exportedHash: 'h1' });
    const again = await ctx.store.links.upsert({ ...key, targetId: 't-1', exportedHash: 'h1' });
    expect({ ...again, updatedAt: first.updatedAt }).toEqual(first);
    const disabled = await ctx.store.links.upsert({ ...key, active: false });
    expect(disabled).toMatchObject({ targetId: 't-1', exportedHash: 'h1', active: false });
    expect(await ctx.store.links.list(appId)).toMatchObject({ items: [{ sourceId: key.sourceId }], nextCursor: null });
    expect((await ctx.store.links.getByTargetId(appId, 'user', 't-1'))?.sourceId).toBe(key.sourceId);
  });

  it('escrow: failures count up from the first failure, come due at their retry time, and clear', async () => {
    const appId = await newApp();
    const key = { appId, objectType: 'user' as const, sourceId: uid() };
    const t0 = new Date('2026-01-01T00:00:00Z');
    await ctx.store.links.markFailure(key, {
      error: '503 from target',
      errorCode: 'ServiceUnavailable',
      nextRetryAt: new Date('2026-01-01T06:00:00Z'),
      at: t0,
    });
    const second = await ctx.store.links.markFailure(key, {
      error: 'timeout',
      errorCode: 'Timeout',
      nextRetryAt: '2026-01-01T18:00:00.000Z',
      at: new Date('2026-01-01T06:00:00Z'),
    });
    expect(second).toMatchObject({
      failureCount: 2,
      firstFailedAt: t0.toISOString(),
      lastError: 'timeout',
      nextRetryAt: '2026-01-01T18:00:00.000Z',
    });
    expect(await ctx.store.links.escrowDue(appId, new Date('2026-01-01T12:00:00Z'))).toEqual([]);
    expect((await ctx.store.links.escrowDue(appId, new Date('2026-01-01T18:00:00Z'))).map((l) => l.sourceId)).toEqual([
      key.sourceId,
    ]);
    await ctx.store.links.clearFailure(key);
    expect(await ctx.store.links.get(appId, 'user', key.sourceId)).toMatchObject({
      failureCount: 0,
      firstFailedAt: null,
      nextRetryAt: null,
    });
  });

  it('counts active links, bulk-gets by source ids, and forgets them on a full reset', async () => {
    const appId = await newApp();
    const ids = Array.from({ length: 30 }, () => uid());
    await ctx.store.links.bulkUpsert(
      ids.map((sourceId, i) => ({
        appId,
        objectType: 'user' as const,
        sourceId,
        targetId: `t${i}`,
        active: i % 3 !== 0,
      })),
    );
    expect(await ctx.store.links.countActive(appId, 'user')).toBe(20);
    const found = await ctx.store.links.getMany(appId, 'user', [ids[1], ids[2], uid()]);
    expect([...found.keys()].sort()).toEqual([ids[1], ids[2]].sort());
    // As references: the target id and active flag only.
    const targets = await ctx.store.links.targetsOf(appId, 'user', [ids[2], ids[3], uid()]);
    expect(Object.fromEntries(targets)).toEqual({
      [ids[2]]: { targetId: 't2', active: true },
      [ids[3]]: { targetId: 't3', active: false },
    });
    expect(await ctx.store.links.deleteAll(appId)).toBe(30);
  });

  it('creates a cycle once per (app, number), whoever asks twice', async () => {
    const appId = await newApp();
    expect(await ctx.store.cycles.nextNumber(appId)).toBe(1);
    const a = await ctx.store.cycles.create({ appId, number: 1, kind: 'initial', watermarkTo: 10 });
    const b = await ctx.store.cycles.create({ appId, number: 1, kind: 'initial', watermarkTo: 99 });
    expect(a.created).toBe(true);
    expect(b).toEqual({ cycle: a.cycle, created: false });
    expect(await ctx.store.cycles.nextNumber(appId)).toBe(2);
    await ctx.store.cycles.update(a.cycle.id, { processed: 5, total: 8, counts: { ...a.cycle.counts, created: 5 } });
    const done = await ctx.store.cycles.finish(a.cycle.id, { status: 'succeeded' });
    expect(done).toMatchObject({
      status: 'succeeded',
      processed: 5,
      total: 8,
      watermarkTo: 10,
      counts: { created: 5, failed: 0 },
    });
    expect(done.endedAt).not.toBeNull();
    await ctx.store.cycles.create({ appId, number: 2, kind: 'incremental' });
    expect((await ctx.store.cycles.list(appId)).items.map((c) => c.number)).toEqual([2, 1]);
    expect((await ctx.store.cycles.latest(appId))?.number).toBe(2);
  });

  it('stages an initial cycle from assignments (nested) and links, and reads it in batches by cursor', async () => {
    const { directory, assignments, cycles, cycleWork, links } = ctx.store;
    const appId = await newApp();
    const group = await directory.createGroup({ displayName: 'Assigned' });
    const sub = await directory.createGroup({ displayName: 'Nested' });
    const members = await Promise.all(
      [1, 2, 3].map(() => directory.createUser({ userPrincipalName: `${uid()}@contoso.com` })),
    );
    const outsider = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    await directory.addMember(group.id, sub.id);
    for (const m of members) await directory.addMember(sub.id, m.id);
    await assignments.assign(appId, group.id);
    const gone = uid(); // linked earlier, since hard-deleted
    await links.upsert({ appId, objectType: 'user', sourceId: gone, targetId: 'x' });

    const { cycle } = await cycles.create({ appId, number: 1, kind: 'initial' });
    expect(await cycleWork.stageInitial(cycle.id, 'assigned')).toBe(6);
    expect(await cycleWork.stageInitial(cycle.id, 'assigned')).toBe(0);
    const staged: string[] = [];
    let cursor = 0;
    for (;;) {
      const batch = await cycleWork.readBatch(cycle.id, { afterSeq: cursor, limit: 2, objectType: 'user' });
      if (batch.length === 0) break;
      staged.push(...batch.map((w) => w.objectId));
      cursor = batch[batch.length - 1].seq;
    }
    expect(staged.sort()).toEqual([...members.map((m) => m.id), gone].sort());
    expect(staged).not.toContain(outsider.id);

    const first = await cycleWork.readBatch(cycle.id, { afterSeq: 0, limit: 2 });
    await cycleWork.mark(
      cycle.id,
      first.map((w) => w.seq),
      { status: 'done', action: 'Create' },
    );
    expect(await cycleWork.count(cycle.id, { status: 'pending' })).toBe(4);
    expect(await cycleWork.tally(cycle.id)).toEqual([
      { status: 'done', action: 'Create', count: 2 },
      { status: 'pending', action: null, count: 4 },
    ]);
  });

  it('stages an incremental cycle from the changes since the watermark, with the change id', async () => {
    const { directory, assignments, cycles, cycleWork, changes } = ctx.store;
    const appId = await newApp();
    const parent = await directory.createGroup({ displayName: 'Parent' });
    const child = await directory.createGroup({ displayName: 'Child' });
    const u1 = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    const u2 = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    const quiet = await directory.createUser({ userPrincipalName: `${uid()}@contoso.com` });
    await directory.addMember(parent.id, child.id);
    await directory.addMember(child.id, u1.id);
    const watermark = await changes.latestSeq();

    await directory.patchUser(u1.id, { jobTitle: 'New' }); // u1, and the groups containing it
    await assignments.assign(appId, child.id); // child and its members
    await directory.addMember(child.id, u2.id); // child (+ parents) and u2
    const otherApp = await newApp();
    await assignments.assign(otherApp, quiet.id); // another app's assignment: not staged here
    const upTo = await changes.latestSeq();

    const { cycle } = await cycles.create({
      appId,
      number: 2,
      kind: 'incremental',
      watermarkFrom: watermark,
      watermarkTo: upTo,
    });
    await cycleWork.stageChanges(cycle.id, watermark, upTo);
    const work = await cycleWork.readBatch(cycle.id, { afterSeq: 0, limit: 100 });
    expect(work.map((w) => `${w.objectType}:${w.objectId}`).sort()).toEqual(
      [`user:${u1.id}`, `user:${u2.id}`, `group:${child.id}`, `group:${parent.id}`].sort(),
    );
    const u1Work = work.find((w) => w.objectId === u1.id)!;
    expect(u1Work.changeSeq).toBeGreaterThan(watermark);
    expect(work.find((w) => w.objectId === parent.id)?.changeSeq).toBeNull();
  });

  it('stages due escrows', async () => {
    const appId = await newApp();
    const sourceId = uid();
    await ctx.store.links.markFailure(
      { appId, objectType: 'user', sourceId },
      { error: 'x', nextRetryAt: new Date('2026-01-01T00:00:00Z') },
    );
    await ctx.store.links.markFailure(
      { appId, objectType: 'user', sourceId: uid() },
      { error: 'x', nextRetryAt: new Date('2027-01-01T00:00:00Z') },
    );
    const { cycle } = await ctx.store.cycles.create({ appId, number: 1, kind: 'incremental' });
    expect(await ctx.store.cycleWork.stageEscrowDue(cycle.id, new Date('2026-06-01T00:00:00Z'))).toBe(1);
    expect(await ctx.store.cycleWork.get(cycle.id, 'user', sourceId)).toMatchObject({ status: 'pending' });
  });

  it('stages the groups containing due escrows, through nesting, in one statement for every escrow', async () => {
    const { directory } = ctx.store;
    const appId = await newApp();
    const [parent, child, other] = await Promise.all(
      ['Parent', 'Child', 'Other'].map((name) => directory.createGroup({ displayName: `${name} ${uid()}` })),
    );
    const [due, notDue] = await Promise.all(
      [0, 1].map(() => directory.createUser({ userPrincipalName: `${uid()}@contoso.com` })),
    );
    await directory.addMember(parent.id, child.id);
    await directory.addMember(child.id, due.id);
    await directory.addMember(other.id, notDue.id);
    await ctx.store.links.markFailure(
      { appId, objectType: 'user', sourceId: due.id },
      { error: 'x', nextRetryAt: new Date('2026-01-01T00:00:00Z') },
    );
    await ctx.store.links.markFailure(
      { appId, objectType: 'user', sourceId: notDue.id },
      { error: 'x', nextRetryAt: new Date('2027-01-01T00:00:00Z') },
    );
    const { cycle } = await ctx.store.cycles.create({ appId, number: 1, kind: 'incremental' });
    expect(await ctx.store.cycleWork.stageEscrowDue(cycle.id, new Date('2026-06-01T00:00:00Z'))).toBe(3);
    const work = await ctx.store.cycleWork.readBatch(cycle.id, { afterSeq: 0, limit: 100 });
    expect(work.map((w) => `${w.objectType}:${w.objectId}`)).toEqual([
      `user:${due.id}`,
      ...[child.id, parent.id].sort().map((id) => `group:${id}`),
    ]);
  });

  it('counts, stages and resolves the disables/deletes every earlier cycle of the app holds, each object once', async () => {
    const appId = await newApp();
    const other = await newApp();
    const ids = [uid(), uid(), uid(), uid()];
    const hold = async (app: string, number: number, objectIds: string[], stagedAt: number[]) => {
      const { cycle } = await ctx.store.cycles.create({ appId: app, number, kind: 'incremental' });
      await ctx.store.cycleWork.stage(
        cycle.id,
        objectIds.map((objectId, i) => ({ objectType: 'user' as const, objectId, changeSeq: number * 10 + i })),
      );
      const work = await ctx.store.cycleWork.readBatch(cycle.id, { afterSeq: 0, limit: 10 });
      await ctx.store.cycleWork.mark(
        cycle.id,
        stagedAt.map((i) => work[i].seq),
        { status: 'staged', action: 'StagedDelete' },
      );
      return cycle;
    };
    // Cycle 1 holds ids 0 and 2; cycle 2 holds 2 again and 3; another app holds id 1.
    await hold(appId, 1, [ids[0], ids[1], ids[2]], [0, 2]);
    const second = await hold(appId, 2, [ids[2], ids[3]], [0, 1]);
    await hold(other, 1, [ids[1]], [0]);
    expect(await ctx.store.cycleWork.heldCount(appId)).toBe(3);
    expect(await ctx.store.cycleWork.heldCount(appId, { exceptCycleId: second.id })).toBe(2);

    const { cycle } = await ctx.store.cycles.create({ appId, number: 3, kind: 'incremental' });
    expect(await ctx.store.cycleWork.stageHeld(cycle.id, appId)).toBe(3);
    expect(await ctx.store.cycleWork.stageHeld(cycle.id, appId)).toBe(0);
    const work = await ctx.store.cycleWork.readBatch(cycle.id, { afterSeq: 0, limit: 10 });
    expect(work.map((w) => [w.objectId, w.changeSeq, w.status])).toEqual([
      [ids[0], 10, 'pending'],
      [ids[2], 12, 'pending'],
      [ids[3], 21, 'pending'],
    ]);
    expect(await ctx.store.cycleWork.resolveHeld(appId, cycle.id, 'approved')).toBe(4);
    expect(await ctx.store.cycleWork.heldCount(appId)).toBe(0);
    expect(await ctx.store.cycleWork.heldCount(other)).toBe(1);
  });

  const entry = (appId: string, over: Partial<ProvisioningLogEntry>): ProvisioningLogEntry => ({
    id: uid(),
    time: '2026-03-01T10:00:00.000Z',
    appId,
    cycleId: null,
    changeId: null,
    objectType: 'user',
    sourceId: uid(),
    sourceDisplayName: 'Ada, "the first"',
    targetId: null,
    action: 'Create',
    status: 'Success',
    errorCode: null,
    errorMessage: null,
    steps: [{ name: 'scoping', status: 'Success', details: { 'scopingFilter[0]': 'department EQUALS Sales: true' } }],
    modifiedAttributes: [{ name: 'userName', oldValue: null, newValue: 'ada@contoso.com' }],
    durationMs: 12,
    onDemand: false,
    ...over,
  });

  it('inserts a log entry once, however often the same decision is logged', async () => {
    const appId = await newApp();
    const id = logEntryId('cycle-1', 'user', 'u-1', 'Create');
    expect(logEntryId('cycle-1', 'user', 'u-1', 'Create')).toBe(id);
    expect(await ctx.store.logs.insert([entry(appId, { id })])).toBe(1);
    expect(await ctx.store.logs.insert([entry(appId, { id, status: 'Failure' })])).toBe(0);
    const stored = await ctx.store.logs.get(id);
    expect(stored).toMatchObject({ id, status: 'Success', sourceDisplayName: 'Ada, "the first"' });
    expect(stored?.steps[0].details).toEqual({ 'scopingFilter[0]': 'department EQUALS Sales: true' });
  });

  it('filters logs by cycle, object, action, status, time and on-demand, newest first with a cursor', async () => {
    const appId = await newApp();
    const { cycle } = await ctx.store.cycles.create({ appId, number: 1, kind: 'initial' });
    const target = uid();
    const rows = [
      entry(appId, { time: '2026-03-01T10:00:00.000Z', cycleId: cycle.id }),
      entry(appId, { time: '2026-03-01T11:00:00.000Z', cycleId: cycle.id, action: 'Update', targetId: target }),
      entry(appId, { time: '2026-03-01T12:00:00.000Z', action: 'Disable', status: 'Failure', errorCode: 'Timeout' }),
      entry(appId, { time: '2026-03-02T09:00:00.000Z', onDemand: true, action: 'Skip', status: 'Skipped' }),
    ];
    await ctx.store.logs.insert(rows);
    await ctx.store.logs.insert([entry(await newApp(), {})]);
    const ids = async (q: Omit<Parameters<typeof ctx.store.logs.query>[0], 'appId'>) =>
      (await ctx.store.logs.query({ appId, ...q })).items.map((e) => rows.findIndex((r) => r.id === e.id));

    expect(await ids({})).toEqual([3, 2, 1, 0]);
    expect(await ids({ cycleId: cycle.id })).toEqual([1, 0]);
    expect(await ids({ objectId: rows[2].sourceId })).toEqual([2]);
    expect(await ids({ objectId: target })).toEqual([1]);
    expect(await ids({ action: 'Disable' })).toEqual([2]);
    expect(await ids({ action: ['Create', 'Skip'] })).toEqual([3, 0]);
    expect(await ids({ status: 'Failure' })).toEqual([2]);
    expect(await ids({ since: '2026-03-01T11:00:00Z', until: '2026-03-02T00:00:00Z' })).toEqual([2, 1]);
    expect(await ids({ onDemand: true })).toEqual([3]);

    const page1 = await ctx.store.logs.query({ appId, limit: 3 });
    const page2 = await ctx.store.logs.query({ appId, limit: 3, cursor: page1.nextCursor });
    expect([...page1.items, ...page2.items].map((e) => e.id)).toEqual([3, 2, 1, 0].map((i) => rows[i].id));
    expect(page2.nextCursor).toBeNull();
  });

  it('serialises logs as CSV that quotes commas and quotes and defuses formulas', () => {
    const csv = logsToCsv([entry('app', { id: 'e1', errorMessage: '=HYPERLINK("x")' })]);
    const [header, row] = csv.trimEnd().split('\r\n');
    expect(header.split(',').slice(0, 3)).toEqual(['id', 'time', 'appId']);
    expect(row).toContain('"Ada, ""the first"""');
    expect(row).toContain(`"'=HYPERLINK(""x"")"`);
  });

  it('key-values: setIfAbsent sets once', async () => {
    const key = uid();
    expect(await ctx.store.keyValues.setIfAbsent('notifications', key, { sentAt: 'now' })).toBe(true);
    expect(await ctx.store.keyValues.setIfAbsent('notifications', key, { sentAt: 'later' })).toBe(false);
    expect(await ctx.store.keyValues.get('notifications', key)).toEqual({ sentAt: 'now' });
  });
});

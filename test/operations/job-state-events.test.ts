// What an operator subscribing to the job's events relies on: each pause, resume, quarantine and
// release made through the API reaches the subscribed receiver as `job.state_changed` with the right
// `from` and `to`, a quarantine as `quarantine.entered` / `quarantine.left` (also while the job is
// paused, when the state stays `paused`), each exactly once; and an announcement the worker retries
// after its first attempt committed is written once.
import { MockActivityEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// api/app.ts first: it extends zod with .openapi() before any schema module loads.
import '../../api/app.ts';
import { createActivities } from '../../activities/index.ts';
import type { JobStateChange } from '../../activities/types.ts';
import { createTemporalProvisioningControl } from '../../api/temporal.ts';
import { webhookEvents } from '../../store/schema.ts';
import type { ProvisioningHarness } from '../provisioning/harness.ts';
import { startWebhookWorld, waitUntil, type WebhookWorld } from './webhook-world.ts';

const API_KEY = 'fk_job_events_test_key_0123456789abcdef';
const SHAPE = { users: 3, groups: 1 };

interface Delivered {
  id: number;
  type: string;
  appId: string;
  data: Record<string, unknown>;
}

describe('job state events: the job announces its state changes to webhook subscribers', () => {
  let world: WebhookWorld;
  let h: ProvisioningHarness;
  let appId: string;
  const call = (method: string, path: string, body?: unknown) => world.call(method, path, body);
  /** What the receiver got, parsed. */
  const delivered = (): Delivered[] =>
    world.received.map((r) => {
      const event = JSON.parse(r.body) as Omit<Delivered, 'id'> & { id: string };
      return { ...event, id: Number(event.id) };
    });
  const act = async (action: string, state: string, body?: unknown) => {
    const res = await call('POST', `/apps/${appId}/provisioning/${action}`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return h.waitFor(appId, (s) => s.state === state && s.cycle === null, `${action} → ${state}`);
  };
  /**
   * Waits for `count` events at the receiver. Each delivery is its own activity, run side by side, so
   * events arrive in any order: the last one made may come before an earlier one.
   */
  const allDelivered = (count: number) =>
    waitUntil(`${count} events at the receiver`, () => (delivered().length >= count ? true : null));
  /** What the receiver got, in the order the job made it (event ids), as [type, from/reason, to]. */
  const inOrder = () => delivered().sort((a, b) => a.id - b.id);
  const told = () =>
    inOrder().map((e) =>
      e.type === 'job.state_changed' ? [e.type, e.data.from, e.data.to] : [e.type, e.data.reason, e.data.message],
    );

  beforeAll(async () => {
    world = await startWebhookWorld({
      apiKey: API_KEY,
      shape: SHAPE,
      provisioning: (harness) =>
        createTemporalProvisioningControl({ client: harness.env.client.workflow, taskQueue: harness.taskQueue }),
      pollMs: 300,
    });
    ({ h, appId } = world);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('pause, resume, quarantine and release each reach the receiver once, with the states before and after', async () => {
    const created = await call('POST', '/webhooks', {
      url: world.receiverUrl,
      events: ['job.state_changed', 'quarantine.entered', 'quarantine.left'],
      appId,
    });
    expect(created.status).toBe(201);

    await h.startJob(appId);
    await h.waitForCycle(appId, 1);
    await act('pause', 'paused');
    await act('resume', 'steady');
    await act('quarantine', 'quarantined', { reason: 'Target migration' });
    // Release runs a cycle at once; the job is steady again after it.
    await act('release', 'steady');
    await allDelivered(7);

    expect(told()).toEqual([
      // The first cycle ends the initial state.
      ['job.state_changed', 'initial', 'steady'],
      ['job.state_changed', 'steady', 'paused'],
      ['job.state_changed', 'paused', 'steady'],
      ['job.state_changed', 'steady', 'quarantined'],
      ['quarantine.entered', 'Manual', 'Target migration'],
      ['job.state_changed', 'quarantined', 'steady'],
      ['quarantine.left', 'Manual', 'Target migration'],
    ]);
    const byType = (type: string) =>
      inOrder()
        .filter((e) => e.type === type)
        .map((e) => e.data);
    expect(byType('job.state_changed').map((d) => d.cause)).toEqual([
      'cycle',
      'pause',
      'resume',
      'quarantine',
      'release',
    ]);
    for (const event of delivered()) expect(event.appId).toBe(appId);
    const [entered] = byType('quarantine.entered');
    expect(entered).toMatchObject({ appId, reason: 'Manual' });
    expect(byType('quarantine.left')[0]).toMatchObject({ appId, reason: 'Manual', since: entered.since });
  });

  it('a quarantine while paused is entered and left although the state shows paused until resume', async () => {
    world.received.length = 0;
    await act('pause', 'paused');
    const quarantined = await call('POST', `/apps/${appId}/provisioning/quarantine`, { reason: 'Audit' });
    expect(quarantined.status).toBe(202);
    await h.waitFor(appId, (s) => s.state === 'paused' && s.quarantine !== null, 'quarantined while paused');
    await act('resume', 'quarantined');
    await act('release', 'steady');
    await allDelivered(5);

    expect(told()).toEqual([
      ['job.state_changed', 'steady', 'paused'],
      ['quarantine.entered', 'Manual', 'Audit'],
      ['job.state_changed', 'paused', 'quarantined'],
      ['job.state_changed', 'quarantined', 'steady'],
      ['quarantine.left', 'Manual', 'Audit'],
    ]);
  });

  it('an announcement retried after its first attempt committed is written once; the next one is written', async () => {
    const { announceJobState } = createActivities({ store: h.store, allowInsecureLoopback: true });
    const change: JobStateChange = {
      appId,
      from: 'steady',
      to: 'paused',
      cause: 'retry-test',
      at: new Date().toISOString(),
      quarantineEntered: null,
      quarantineLeft: null,
    };
    const attempt = (activityId: string, n: number) =>
      new MockActivityEnvironment({
        activityId,
        attempt: n,
        workflowExecution: { workflowId: `provisioning:${appId}`, runId: 'run-of-the-retry-test' },
      }).run(announceJobState, change);
    await attempt('17', 1);
    await attempt('17', 2);
    const written = async () =>
      (await h.store.db.select().from(webhookEvents).where(eq(webhookEvents.appId, appId))).filter(
        (e) => e.data.cause === 'retry-test',
      ).length;
    expect(await written()).toBe(1);
    // Another announcement of the same run (another activity id) is another change.
    await attempt('18', 1);
    expect(await written()).toBe(2);
  });
});

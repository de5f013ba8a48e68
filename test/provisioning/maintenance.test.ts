// The maintenance workflow with the real worker and activities on the in-repo Temporal service: it
// applies retention when it starts and again a day later — here a day of skipped time — so a log
// entry that passes its app's 30 days in between is gone, a younger one stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMaintenanceWorkflow } from '../../api/maintenance.ts';
import type { ProvisioningLogEntry } from '../../engine/types.ts';
import { MAINTENANCE_WORKFLOW_ID } from '../../workflows/messages.ts';
import { startProvisioningHarness, type ProvisioningHarness } from './harness.ts';

const DAY = 24 * 60 * 60_000;

let h: ProvisioningHarness;
beforeAll(async () => {
  h = await startProvisioningHarness();
});
afterAll(async () => {
  await h?.close();
});

const entry = (id: string, time: number): ProvisioningLogEntry => ({
  id,
  time: new Date(time).toISOString(),
  appId: 'kept-app',
  cycleId: null,
  changeId: null,
  objectType: 'user',
  sourceId: id,
  sourceDisplayName: null,
  targetId: null,
  action: 'Update',
  status: 'Success',
  errorCode: null,
  errorMessage: null,
  steps: [],
  modifiedAttributes: [],
  durationMs: 1,
  onDemand: false,
});

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('maintenance workflow', () => {
  it('deletes provisioning logs past 30 days at start and again a day later, by the workflow clock', async () => {
    await h.store.apps.create({ id: 'kept-app', name: 'Kept', template: 'generic-scim', configuration: {} });
    const now = h.env.now().getTime();
    await h.store.logs.insert([
      entry('expired', now - 31 * DAY),
      entry('expires-tomorrow', now - 29.5 * DAY),
      entry('young', now - 5 * DAY),
    ]);
    const ids = async () => (await h.store.logs.query({ appId: 'kept-app' })).items.map((e) => e.id).sort();

    await ensureMaintenanceWorkflow(h.env.client.workflow, h.taskQueue);
    // Ensured again (every start of Ferry does): the running workflow is left as it is.
    await ensureMaintenanceWorkflow(h.env.client.workflow, h.taskQueue);
    await until('the first run', async () => !(await ids()).includes('expired'));
    expect(await ids()).toEqual(['expires-tomorrow', 'young']);

    await h.env.skipTime(DAY + 60_000);
    await until('the run a day later', async () => !(await ids()).includes('expires-tomorrow'));
    expect(await ids()).toEqual(['young']);

    const runs = [];
    for await (const run of h.env.client.workflow.list({ query: `WorkflowId = '${MAINTENANCE_WORKFLOW_ID}'` })) {
      runs.push(run.status.name);
    }
    // One run per day (continue-as-new), one of them running.
    expect(runs.filter((s) => s === 'RUNNING')).toHaveLength(1);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    await h.env.client.workflow.getHandle(MAINTENANCE_WORKFLOW_ID).terminate('test done');
  });
});

// Ferry's maintenance: one long-running workflow (id `ferry:maintenance`) that applies retention at
// start and then once a day, continuing as new after each run so its history stays a few events
// long. Ensured at every start of Ferry like the provisioning jobs (a running one is left as it is).
import { continueAsNew, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { FerryActivities } from '../activities/types.ts';
import { retentionActivity } from './activity-options.ts';

const { applyRetention } = proxyActivities<FerryActivities>(retentionActivity);

const DAY_MS = 24 * 60 * 60_000;

export interface MaintenanceInput {
  /** Time between runs (ms); default one day. */
  everyMs?: number;
}

export async function maintenanceWorkflow(input: MaintenanceInput = {}): Promise<void> {
  try {
    const summary = await applyRetention({ now: new Date().toISOString() });
    log.info('retention applied', { ...summary });
  } catch (error) {
    // An eternal workflow must not fail: the next run tries again (every step is idempotent).
    log.warn('retention failed; trying again at the next run', { error: String(error) });
  }
  await sleep(input.everyMs ?? DAY_MS);
  await continueAsNew<typeof maintenanceWorkflow>(input);
}

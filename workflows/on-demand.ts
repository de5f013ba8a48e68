// On-demand provisioning of one user or group (with its members): the whole pipeline now, as one
// activity that serializes itself against a running cycle on the same object and reports each step.
import { proxyActivities } from '@temporalio/workflow';
import type { FerryActivities, OnDemandInput, OnDemandReport } from '../activities/types.ts';
import { onDemandActivity } from './activity-options.ts';

const { provisionOnDemand } = proxyActivities<FerryActivities>(onDemandActivity);

export async function provisionOnDemandWorkflow(input: OnDemandInput): Promise<OnDemandReport> {
  return provisionOnDemand(input);
}

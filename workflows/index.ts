// The Worker's `workflowsPath`: every function exported here is registered as a workflow type.
export { provisioningJobWorkflow } from './job.ts';
export { provisioningCycleWorkflow } from './cycle.ts';
export { provisionOnDemandWorkflow } from './on-demand.ts';
export { maintenanceWorkflow } from './maintenance.ts';
export { sourceWorkflow } from './source.ts';
export { webhooksWorkflow } from './webhooks.ts';
export { reconcileWorkflow } from './reconcile.ts';

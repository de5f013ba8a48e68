// The Worker's `workflowsPath`: every function exported here is registered as a workflow type.
export { provisioningJobWorkflow } from './job.ts';
export { provisioningCycleWorkflow } from './cycle.ts';
export { provisionOnDemandWorkflow } from './on-demand.ts';

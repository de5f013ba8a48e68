// The Worker can bundle workflows/: nothing in it pulls a Node built-in or an I/O layer into the
// deterministic sandbox (the bundler fails on those).
import { describe, expect, it } from 'vitest';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from './harness.ts';

describe('workflows bundle', () => {
  it('bundles the three provisioning workflows with no forbidden import', async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath, logger: silentLogger });
    for (const name of ['provisioningJobWorkflow', 'provisioningCycleWorkflow', 'provisionOnDemandWorkflow']) {
      expect(bundle.code).toContain(name);
    }
  });
});

const silentLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

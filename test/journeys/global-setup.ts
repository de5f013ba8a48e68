// Builds the workflow bundle once for the whole journey suite; every Ferry process the journeys start
// gets it through FERRY_WORKFLOW_BUNDLE (a documented variable) instead of bundling at each start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundle: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(root, 'workflows', 'index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-journey-bundle-'));
  const file = path.join(dir, 'workflows.js');
  writeFileSync(file, code);
  project.provide('workflowBundle', file);
  return () => rmSync(dir, { recursive: true, force: true });
}

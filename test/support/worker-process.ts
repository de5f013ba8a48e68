// `workers/worker.ts` as its own process, as `npm run worker` starts it: for tests that kill a
// worker (SIGKILL) and start another. A prebuilt workflow bundle makes it poll within a second or two.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../../workers/worker.ts';
import { payloadCodecFromEnv } from '../../workers/temporal-connection.ts';
import { TEST_ENCRYPTION_KEY } from './postgres.ts';

/**
 * The payload codec a worker process started here uses (derived from TEST_ENCRYPTION_KEY, as
 * `npm run worker` derives it from FERRY_ENCRYPTION_KEY): the test's client and in-process worker
 * need it to read what that process wrote.
 */
export const workerProcessCodec = () => payloadCodecFromEnv({ payloadKeys: [] }, TEST_ENCRYPTION_KEY)!;

/** Bundles the workflows once into `dir`; returns the bundle's path (FERRY_WORKFLOW_BUNDLE). */
export async function writeWorkflowBundle(dir: string): Promise<string> {
  const bundle = await bundleWorkflowCode({
    workflowsPath,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const bundlePath = path.join(dir, 'workflows.js');
  await writeFile(bundlePath, bundle.code);
  return bundlePath;
}

export interface WorkerProcessOptions {
  temporalAddress: string;
  databaseUrl: string;
  taskQueue: string;
  bundlePath: string;
  /** Every process started is added, and removed when it exits (the suite kills what is left). */
  children: Set<ChildProcess>;
  /** More environment variables for the process (e.g. FERRY_WORKER_HTTP_PORT). */
  env?: Record<string, string>;
}

/** Starts `workers/worker.ts` as its own process; resolves once it polls the task queue. */
export function startWorkerProcess(options: WorkerProcessOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/worker.ts'], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: options.temporalAddress,
      DATABASE_URL: options.databaseUrl,
      FERRY_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      FERRY_TASK_QUEUE: options.taskQueue,
      FERRY_ALLOW_INSECURE_LOOPBACK: '1',
      FERRY_WORKFLOW_BUNDLE: options.bundlePath,
      SMTP_URL: '',
      SMTP_HOST: '',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.children.add(child);
  child.on('exit', () => options.children.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('polling task queue')) resolve(child);
    });
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${output}`)));
  });
}

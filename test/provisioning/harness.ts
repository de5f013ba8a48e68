// End-to-end provisioning: the REAL Ferry worker (workers/worker.ts createFerryWorker, real
// activities) and Client on the in-repo Temporal test service, a fresh Postgres database, a
// third-party SCIM peer and an in-process SMTP server catching notification e-mail.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { createSmtpMailer, type ActivityDeps } from '../../activities/index.ts';
import type { OnDemandReport } from '../../activities/types.ts';
import { openStore, type Store } from '../../store/index.ts';
import {
  JOB_WORKFLOW_TYPE,
  jobWorkflowId,
  onDemandWorkflowId,
  provisionOnDemandSignal,
  statusQuery,
  type JobStatus,
} from '../../workflows/messages.ts';
import { createFerryWorker, type FerryWorker } from '../../workers/worker.ts';
import { createTestDatabase, TEST_ENCRYPTION_KEY, type TestDatabase } from '../support/postgres.ts';
import {
  createTemporalTestEnv,
  inRepoBackend,
  type TemporalBackend,
  type TemporalTestEnv,
} from '../support/temporal.ts';

export interface ReceivedMail {
  to: string[];
  raw: string;
}

export async function startSmtpServer(): Promise<{ port: number; messages: ReceivedMail[]; close(): Promise<void> }> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let runtimeInstalled = false;

export interface ProvisioningHarness {
  env: TemporalTestEnv;
  store: Store;
  db: TestDatabase;
  smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  taskQueue: string;
  ferry: FerryWorker;
  startJob(appId: string, options?: { batchSize?: number; taskQueue?: string }): Promise<WorkflowHandle>;
  status(appId: string): Promise<JobStatus>;
  /** Polls the job's status until `accept` holds (real time, up to 60 s). */
  waitFor(appId: string, accept: (s: JobStatus) => boolean, what: string): Promise<JobStatus>;
  /** Waits until cycle `n` of the job has ended. */
  waitForCycle(appId: string, n: number): Promise<JobStatus>;
  onDemand(appId: string, objectType: 'user' | 'group', objectId: string): Promise<OnDemandReport>;
  close(): Promise<void>;
}

/**
 * `deps`: activity dependencies to override (e.g. `batchTimeBudgetMs`); `payloadCodec`: the worker
 * and the client encrypt payloads with it, as Ferry does; `backend`: the in-repo service (default)
 * or the real server.
 */
export async function startProvisioningHarness(
  options: { deps?: Partial<ActivityDeps>; payloadCodec?: PayloadCodec; backend?: TemporalBackend } = {},
): Promise<ProvisioningHarness> {
  if (!runtimeInstalled) {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // The test installed its own runtime logger first (test/operations reads the workflows' log lines).
    }
    runtimeInstalled = true;
  }
  const env = await createTemporalTestEnv({
    timeSkipping: true,
    backend: options.backend ?? inRepoBackend,
    payloadCodec: options.payloadCodec,
  });
  const db = await createTestDatabase('provisioning');
  const store = await openStore({ databaseUrl: db.url, encryptionKey: TEST_ENCRYPTION_KEY, poolSize: 8 });
  await store.migrate();
  const smtp = await startSmtpServer();
  const mailer = createSmtpMailer({ host: '127.0.0.1', port: smtp.port, from: 'Ferry <ferry@localhost>' });
  const taskQueue = `ferry-e2e-${randomUUID()}`;
  const ferry = await createFerryWorker({
    connection: env.nativeConnection,
    taskQueue,
    payloadCodec: options.payloadCodec,
    deps: { store, mailer, allowInsecureLoopback: true, ...options.deps },
  });
  const running = ferry.run();

  const status = (appId: string) => env.client.workflow.getHandle(jobWorkflowId(appId)).query(statusQuery);
  const waitFor = async (appId: string, accept: (s: JobStatus) => boolean, what: string) => {
    const deadline = Date.now() + 60_000;
    let last: JobStatus | undefined;
    while (Date.now() < deadline) {
      try {
        last = await status(appId);
        if (accept(last)) return last;
      } catch {
        // Not started yet, or between runs (continue-as-new): ask again.
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last)}`);
  };

  return {
    env,
    store,
    db,
    smtp,
    taskQueue,
    ferry,
    startJob: (appId, options = {}) =>
      env.client.workflow.start(JOB_WORKFLOW_TYPE, {
        workflowId: jobWorkflowId(appId),
        taskQueue: options.taskQueue ?? taskQueue,
        args: [{ appId, appName: 'Test app', batchSize: options.batchSize ?? 50 }],
      }),
    status,
    waitFor,
    waitForCycle: (appId, n) =>
      waitFor(appId, (s) => (s.lastCycle?.number ?? 0) >= n && s.cycle === null, `cycle ${n} to end`),
    async onDemand(appId, objectType, objectId) {
      const requestId = randomUUID();
      await env.client.workflow
        .getHandle(jobWorkflowId(appId))
        .signal(provisionOnDemandSignal, { requestId, objectType, objectId });
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          return (await env.client.workflow.getHandle(onDemandWorkflowId(appId, requestId)).result()) as OnDemandReport;
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError) || Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    },
    async close() {
      await ferry.shutdown().catch(() => {});
      await running.catch(() => {});
      mailer.close();
      await smtp.close();
      await env.close();
      await store.close();
      await db.drop();
    },
  };
}

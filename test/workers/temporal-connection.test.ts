// workers/temporal-connection.ts: the worker and the client reach a Temporal that asks for TLS, a
// client certificate and an API key (the in-repo service serving mTLS on loopback, as a Temporal
// behind mTLS or Temporal Cloud would), and a connection that cannot be made says why.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { startTemporalTestService, type TemporalTestService } from '../../dev/temporal-service/index.ts';
import { loadEnv } from '../../workers/env.ts';
import { EncryptionCodec } from '../../workers/payload-codec.ts';
import {
  connectTemporalClient,
  connectTemporalWorker,
  ferryDataConverter,
  temporalConnectionOptions,
  type TemporalSettings,
} from '../../workers/temporal-connection.ts';
import { createActivities } from '../fixtures/temporal-workflows/activities.ts';
import { loopbackPki, type LoopbackPki } from '../support/certificates.ts';

const workflowsPath = fileURLToPath(new URL('../fixtures/temporal-workflows/index.ts', import.meta.url));
const API_KEY = `temporal-api-key-${randomUUID()}`;

let pki: LoopbackPki;
let dir: string;
let service: TemporalTestService;
const file = (name: string, text: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
};

/** The settings workers/env.ts gives for these variables (as a deployment would set them). */
function settings(variables: Record<string, string>): TemporalSettings {
  const env = loadEnv({ TEMPORAL_ADDRESS: service.address, ...variables });
  return { ...env.temporal, address: env.temporal.address! };
}

const mtlsVariables = () => ({
  TEMPORAL_TLS_CA: path.join(dir, 'ca.pem'),
  TEMPORAL_TLS_CERT: path.join(dir, 'client.pem'),
  TEMPORAL_TLS_KEY: path.join(dir, 'client.key'),
  TEMPORAL_API_KEY: API_KEY,
});

async function connectionError(connect: () => Promise<unknown>): Promise<string> {
  try {
    await connect();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the connection was made');
}

beforeAll(async () => {
  pki = loopbackPki();
  dir = mkdtempSync(path.join(tmpdir(), 'ferry-temporal-tls-'));
  file('ca.pem', pki.ca);
  file('client.pem', pki.client.cert);
  file('client.key', pki.client.key);
  service = await startTemporalTestService({
    tls: { key: pki.server.key, cert: pki.server.cert, clientCa: pki.ca },
    apiKey: API_KEY,
  });
}, 60_000);

afterAll(async () => {
  await service?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('connection options from the environment', () => {
  it('reads the CA, the client pair and the server name from PEM files, or from PEM text with \\n escapes', () => {
    const fromFiles = temporalConnectionOptions(
      settings({ ...mtlsVariables(), TEMPORAL_TLS_SERVER_NAME: 'temporal.test' }),
    );
    expect(fromFiles.apiKey).toBe(API_KEY);
    expect(fromFiles.tls?.serverNameOverride).toBe('temporal.test');
    expect(Buffer.from(fromFiles.tls!.serverRootCACertificate!).toString()).toBe(pki.ca);
    expect(Buffer.from(fromFiles.tls!.clientCertPair!.crt).toString()).toBe(pki.client.cert);
    expect(Buffer.from(fromFiles.tls!.clientCertPair!.key).toString()).toBe(pki.client.key);
    const inline = temporalConnectionOptions(settings({ TEMPORAL_TLS_CA: pki.ca.replace(/\n/g, '\\n') }));
    expect(Buffer.from(inline.tls!.serverRootCACertificate!).toString()).toBe(pki.ca);
    expect(inline.tls?.clientCertPair).toBeUndefined();
  });

  it('is plain gRPC without TLS settings, and TLS with the system CAs for an API key alone', () => {
    expect(temporalConnectionOptions(settings({}))).toEqual({ address: service.address });
    expect(temporalConnectionOptions(settings({ TEMPORAL_API_KEY: API_KEY }))).toEqual({
      address: service.address,
      tls: {},
      apiKey: API_KEY,
    });
  });

  it('names the variable whose file is missing or holds no PEM', () => {
    expect(() => temporalConnectionOptions(settings({ TEMPORAL_TLS_CA: path.join(dir, 'nope.pem') }))).toThrow(
      /^TEMPORAL_TLS_CA: cannot read .*nope\.pem \(ENOENT\)$/,
    );
    const notPem = file('not.pem', 'hello');
    expect(() => temporalConnectionOptions(settings({ TEMPORAL_TLS_CA: notPem }))).toThrow(
      /^TEMPORAL_TLS_CA: .*not\.pem holds no PEM CERTIFICATE$/,
    );
    expect(() =>
      temporalConnectionOptions(settings({ ...mtlsVariables(), TEMPORAL_TLS_KEY: path.join(dir, 'client.pem') })),
    ).toThrow(/^TEMPORAL_TLS_KEY: .* holds no PEM PRIVATE KEY$/);
  });
});

describe('a Temporal asking for mTLS and an API key', () => {
  it('runs a workflow through the worker and the client connected with TLS_CA, TLS_CERT, TLS_KEY and API_KEY, payloads encrypted', async () => {
    const tls = settings(mtlsVariables());
    const codec = new EncryptionCodec([{ id: 'k', key: Buffer.alloc(32, 9) }]);
    const nativeConnection = await connectTemporalWorker(tls);
    const { connection, client } = await connectTemporalClient(tls, codec);
    const taskQueue = `tls-${randomUUID()}`;
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath,
      activities: createActivities().activities,
      dataConverter: ferryDataConverter(codec),
    });
    try {
      const result = await worker.runUntil(
        client.workflow.execute('sequentialActivities', { taskQueue, workflowId: `tls-${randomUUID()}`, args: [3] }),
      );
      expect(result).toBe(3);
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  }, 60_000);

  it('keeps failure messages out of the history in clear: an activity and a workflow failing with an attribute value in their message', async () => {
    const tls = settings(mtlsVariables());
    const codec = new EncryptionCodec([{ id: 'k', key: Buffer.alloc(32, 7) }]);
    const secret = `Quarterstaff-${randomUUID()}`;
    const nativeConnection = await connectTemporalWorker(tls);
    const { connection, client } = await connectTemporalClient(tls, codec);
    const taskQueue = `tls-failure-${randomUUID()}`;
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath,
      activities: {
        async reject(message: string): Promise<never> {
          throw ApplicationFailure.nonRetryable(`the target refused displayName ${message}`, 'PermanentError');
        },
      },
      dataConverter: ferryDataConverter(codec),
    });
    try {
      await worker.runUntil(async () => {
        const activityRun = await client.workflow.start('runActivity', {
          taskQueue,
          workflowId: `tls-activity-${randomUUID()}`,
          args: ['reject', [secret], { startToCloseTimeout: '10s' }],
        });
        // Ferry's client decrypts what the workflow saw of the failure.
        const outcome = (await activityRun.result()) as { failure?: { causeMessage?: string } };
        expect(outcome.failure?.causeMessage).toBe(`the target refused displayName ${secret}`);
        const workflowRun = await client.workflow.start('failingWorkflow', {
          taskQueue,
          workflowId: `tls-failing-${randomUUID()}`,
          args: [`no such manager: ${secret}`],
        });
        const failure = await workflowRun.result().catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(WorkflowFailedError);
        expect((failure as WorkflowFailedError).cause?.message).toBe(`no such manager: ${secret}`);
        for (const handle of [activityRun, workflowRun]) {
          const bytes = Buffer.from(temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish());
          expect(bytes.includes(Buffer.from(secret)), handle.workflowId).toBe(false);
          expect(bytes.includes(Buffer.from('Encoded failure')), handle.workflowId).toBe(true);
        }
      });
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  }, 60_000);

  it('fails with a message naming the address and TLS when the client has no certificate, does not trust the server, or speaks plain gRPC', async () => {
    const attempts: [string, TemporalSettings, RegExp][] = [
      [
        'no client certificate',
        settings({ TEMPORAL_TLS_CA: path.join(dir, 'ca.pem'), TEMPORAL_API_KEY: API_KEY }),
        /\(TLS; .*the server answered "certificate required"/,
      ],
      [
        'server not trusted',
        settings({
          TEMPORAL_TLS_CERT: path.join(dir, 'client.pem'),
          TEMPORAL_TLS_KEY: path.join(dir, 'client.key'),
          TEMPORAL_API_KEY: API_KEY,
        }),
        /\(TLS with a client certificate; .*TLS handshake: self-signed certificate in certificate chain/,
      ],
      [
        'wrong server name',
        settings({ ...mtlsVariables(), TEMPORAL_TLS_SERVER_NAME: 'elsewhere.test' }),
        /TLS handshake: .*elsewhere\.test/,
      ],
      ['plain gRPC', settings({}), /\(plain gRPC; /],
    ];
    for (const [what, attempt, reason] of attempts) {
      const message = await connectionError(() => connectTemporalClient(attempt, null, { connectTimeout: 2_000 }));
      expect(message, what).toMatch(new RegExp(`^Cannot connect to Temporal at ${service.address} `));
      expect(message, what).toMatch(reason);
      const native = await connectionError(() => connectTemporalWorker(attempt));
      expect(native, what).toMatch(new RegExp(`^Cannot connect to Temporal at ${service.address} `));
      expect(native, what).toMatch(reason);
    }
  }, 60_000);

  it('is refused (UNAUTHENTICATED) with a wrong API key, and the message does not repeat the key', async () => {
    const wrong = settings({ ...mtlsVariables(), TEMPORAL_API_KEY: 'not-the-key-0123' });
    const message = await connectionError(async () => {
      const { connection, client } = await connectTemporalClient(wrong, null, { connectTimeout: 2_000 });
      try {
        await client.workflowService.getSystemInfo({});
      } finally {
        await connection.close();
      }
    });
    expect(message).toMatch(/UNAUTHENTICATED: Request unauthorized: missing or wrong API key/);
    expect(message).not.toContain('not-the-key-0123');
  }, 30_000);
});

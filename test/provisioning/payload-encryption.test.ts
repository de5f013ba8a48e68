// What Temporal keeps of a provisioning job: with Ferry's payload codec, the histories of the job,
// its cycle and an on-demand run hold no plaintext of the user's attributes (without the codec they
// do: the same run is the control), yet Ferry's client reads the results and the worker replays
// the encrypted histories. On the real server, Temporal's own CLI shows the decrypted history
// through Ferry's codec endpoint when it presents an API key, and only then.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createApp as createApi } from '../../api/app.ts';
import { serveApi, type RunningApi } from '../../api/server.ts';
import type { OnDemandReport } from '../../activities/types.ts';
import { findTemporalCli } from '../../workers/temporal-cli.ts';
import { EncryptionCodec } from '../../workers/payload-codec.ts';
import { onDemandWorkflowId } from '../../workflows/messages.ts';
import { API_KEY, recordingProvisioning } from '../api/helpers.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';
import { temporalBackends } from '../support/temporal-backends.ts';
import type { TemporalBackend } from '../support/temporal.ts';
import { workflowsPath } from '../workflows/harness.ts';
import { createApp, seedDirectory, userId } from './fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from './harness.ts';

const SHAPE = { users: 4, groups: 1 };
/** An attribute value found nowhere else: if its bytes are in a history, a payload carried it in clear. */
const DISTINCTIVE = `Zebulon Quarterstaff-${randomBytes(4).toString('hex')}`;

interface CollectedHistory {
  workflowId: string;
  runId: string;
  history: temporal.api.history.v1.IHistory;
}

/** Every run of every workflow of the app (job runs, cycles, on-demand), as Temporal stores it. */
async function histories(client: Client, appId: string): Promise<CollectedHistory[]> {
  const found: CollectedHistory[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId STARTS_WITH 'provisioning:${appId}'` })) {
    const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
    found.push({ workflowId: execution.workflowId, runId: execution.runId, history: await handle.fetchHistory() });
  }
  return found;
}

/**
 * The encoding of every payload in a history, with where it is, except search attributes: those
 * are the server's index (FerryAppId, FerryJobState: ids and states) and must stay readable to it;
 * and the `patch-data` of `patched()` markers, which the SDK's core writes itself (the patch's name
 * and whether it is deprecated: code, not data).
 */
function payloadEncodings(node: unknown, path = ''): { path: string; encoding: string }[] {
  if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return [];
  const record = node as Record<string, unknown>;
  const metadata = record.metadata as Record<string, unknown> | undefined;
  if (metadata?.encoding instanceof Uint8Array) {
    return [{ path, encoding: Buffer.from(metadata.encoding).toString('utf8') }];
  }
  return Object.entries(record).flatMap(([key, value]) =>
    key === 'searchAttributes' || key === 'patch-data' ? [] : payloadEncodings(value, `${path}.${key}`),
  );
}

/** The payload data of a history as `temporal workflow show --output json` prints it (base64), as text. */
function cliPayloadText(stdout: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return stdout; // an error message
  }
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record.data === 'string' && typeof record.metadata === 'object') {
      texts.push(Buffer.from(record.data, 'base64').toString('utf8'));
    }
    for (const value of Object.values(record)) walk(value);
  };
  walk(parsed);
  return texts.join('\n');
}

const historyBytes = (h: CollectedHistory) => Buffer.from(temporal.api.history.v1.History.encode(h.history).finish());

async function provisionDistinctiveUser(h: ProvisioningHarness, peer: ScimPeer) {
  await seedDirectory(h.store, SHAPE);
  const appId = await createApp(h.store, peer, { shape: SHAPE });
  await h.startJob(appId);
  await h.waitForCycle(appId, 1);
  // On demand after the change: its report (an activity result, then the child's result) carries the
  // changed attribute and the request body that sent it.
  await h.store.directory.patchUser(userId(1), { displayName: DISTINCTIVE });
  const report = await h.onDemand(appId, 'user', userId(1));
  return { appId, report };
}

/** Histories of one app; on the real server visibility lags, so until the on-demand run is listed. */
async function historiesWithOnDemand(client: Client, appId: string, report: OnDemandReport) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const all = await histories(client, appId);
    if (all.some((h) => h.workflowId === onDemandWorkflowId(appId, report.requestId))) return all;
    if (Date.now() > deadline) throw new Error(`on-demand run not listed: ${all.map((h) => h.workflowId).join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function describeRun(backend: TemporalBackend, encrypted: boolean) {
  describe(`${encrypted ? 'with' : 'without'} the payload codec, on the ${backend.name} Temporal`, () => {
    const codec = new EncryptionCodec([{ id: 'test-key', key: randomBytes(32) }]);
    let h: ProvisioningHarness;
    let peer: ScimPeer;
    let appId: string;
    let report: OnDemandReport;
    let collected: CollectedHistory[];

    beforeAll(async () => {
      h = await startProvisioningHarness({ backend, payloadCodec: encrypted ? codec : undefined });
      peer = await startScimmyPeer();
      ({ appId, report } = await provisionDistinctiveUser(h, peer));
      collected = await historiesWithOnDemand(h.env.client, appId, report);
    }, 120_000);

    afterAll(async () => {
      await h?.close();
      await peer?.close();
    });

    it('provisions the value and reports it to Ferry’s client', async () => {
      expect(report.status).toBe('Success');
      expect(JSON.stringify(report.modifiedAttributes)).toContain(DISTINCTIVE);
      expect((await peer.users()).map((u) => u.displayName)).toContain(DISTINCTIVE);
      const ids = collected.map((c) => c.workflowId);
      expect(ids).toContain(onDemandWorkflowId(appId, report.requestId));
      expect(ids.some((id) => id.includes(':cycle:'))).toBe(true);
    });

    if (encrypted) {
      it('leaves no plaintext of the attribute in any history; every payload but the search attributes is binary/encrypted', () => {
        let payloads = 0;
        for (const history of collected) {
          expect(historyBytes(history).includes(Buffer.from(DISTINCTIVE)), history.workflowId).toBe(false);
          for (const { path, encoding } of payloadEncodings(history.history)) {
            payloads += 1;
            expect(encoding, `${history.workflowId} ${path}`).toBe('binary/encrypted');
          }
        }
        expect(payloads).toBeGreaterThan(10);
      });

      it('replays the encrypted histories with the worker’s codec', async () => {
        const failures: string[] = [];
        for await (const result of Worker.runReplayHistories(
          { workflowsPath, replayName: 'ferry-encrypted-replay', dataConverter: { payloadCodecs: [codec] } },
          collected.map((c) => ({ workflowId: c.workflowId, history: c.history })),
        )) {
          if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
        }
        expect(failures).toEqual([]);
      });

      if (backend.name === 'real') {
        it("shows the decrypted history in Temporal's CLI through Ferry's codec endpoint, for an API key only", async () => {
          const api: RunningApi = await serveApi(
            createApi({
              apiKeys: [API_KEY],
              provisioning: recordingProvisioning().control,
              codec: { codec, namespace: 'default', uiOrigin: null },
            }),
            { port: 0 },
          );
          try {
            const show = (auth: string[]) =>
              promisify(execFile)(
                findTemporalCli()!,
                [
                  'workflow',
                  'show',
                  '--address',
                  h.env.address,
                  '--workflow-id',
                  onDemandWorkflowId(appId, report.requestId),
                  '--output',
                  'json',
                  '--codec-endpoint',
                  `${api.url}/codec`,
                  ...auth,
                ],
                { maxBuffer: 16 * 1024 * 1024 },
              ).then(
                ({ stdout }) => cliPayloadText(stdout),
                (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
              );
            expect(await show(['--codec-auth', `Bearer ${API_KEY}`])).toContain(DISTINCTIVE);
            expect(await show([])).not.toContain(DISTINCTIVE);
          } finally {
            await api.close();
          }
        }, 60_000);
      }
    } else {
      it('(control) without the codec the histories carry the value in clear', () => {
        expect(collected.some((history) => historyBytes(history).includes(Buffer.from(DISTINCTIVE)))).toBe(true);
        const encodings = collected.flatMap((history) => payloadEncodings(history.history).map((p) => p.encoding));
        expect(encodings).toContain('json/plain');
      });
    }
  });
}

for (const backend of temporalBackends) {
  describeRun(backend, true);
  if (backend.name === 'in-repo') describeRun(backend, false);
}

// What the webhook tests share: a receiver on 127.0.0.1 that records every request, the real worker
// with a scimmy peer and one app, the API in process, and the webhooks dispatcher workflow running.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp as createApi } from '../../api/app.ts';
import type { ProvisioningControl } from '../../api/provisioning-control.ts';
import type { SourceControl } from '../../api/source-control.ts';
import { WEBHOOKS_WORKFLOW_TYPE } from '../../workflows/messages.ts';
import { createApp, seedDirectory } from '../provisioning/fixtures.ts';
import { startProvisioningHarness, type ProvisioningHarness } from '../provisioning/harness.ts';
import { startScimmyPeer, type ScimPeer } from '../support/scim-peers.ts';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface WebhookWorld {
  h: ProvisioningHarness;
  peer: ScimPeer;
  appId: string;
  receiverUrl: string;
  /** Every request the receiver got, in arrival order. */
  received: ReceivedRequest[];
  /** An API call with the world's key; the body is null for a 204. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> | null }>;
  close(): Promise<void>;
}

export async function startWebhookWorld(options: {
  apiKey: string;
  shape: { users: number; groups: number };
  /** How the API controls provisioning (default: a recording fake; the real one needs the harness). */
  provisioning: (h: ProvisioningHarness) => ProvisioningControl;
  /** How the API controls source workflows (default: none, source imports answer 503). */
  sources?: SourceControl;
  /** The receiver's status for the nth request (0-based); default 204. */
  answer?: (n: number) => number;
  pollMs: number;
}): Promise<WebhookWorld> {
  const received: ReceivedRequest[] = [];
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }) - 1;
      res.statusCode = options.answer?.(n) ?? 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ferry-events`;
  const h = await startProvisioningHarness();
  const peer = await startScimmyPeer();
  await seedDirectory(h.store, options.shape);
  const appId = await createApp(h.store, peer, { shape: options.shape });
  const api = createApi({
    apiKeys: [options.apiKey],
    provisioning: options.provisioning(h),
    sources: options.sources,
    resources: { store: h.store, allowInsecureLoopback: true },
  });
  const dispatcherId = `webhooks-test-${appId}`;
  await h.env.client.workflow.start(WEBHOOKS_WORKFLOW_TYPE, {
    workflowId: dispatcherId,
    taskQueue: h.taskQueue,
    args: [{ pollMs: options.pollMs }],
  });
  return {
    h,
    peer,
    appId,
    receiverUrl,
    received,
    async call(method, path, body) {
      const res = await api.request(`/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Record<string, unknown>) };
    },
    async close() {
      await h.env.client.workflow
        .getHandle(dispatcherId)
        .terminate()
        .catch(() => undefined);
      await h.close();
      await peer.close();
      await new Promise((resolve) => receiver.close(resolve));
    },
  };
}

/** Polls `probe` until it gives a value (90 s at most), naming `what` when it never does. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | null | undefined> | T | null | undefined,
): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The real app over a real store (PGlite in memory, migrated) and a recording ProvisioningControl.
import type { CodecEndpointOptions } from '../../../api/routes/codec.ts';
import { createApp } from '../../../api/app.ts';
import { createLogger } from '../../../api/logger.ts';
import type { ProvisioningControl } from '../../../api/provisioning-control.ts';
import { openStore, type Store } from '../../../store/index.ts';
import { TEST_ENCRYPTION_KEY } from '../../support/postgres.ts';
import { API_KEY, auth, recordingProvisioning } from '../helpers.ts';
import type { TemporalUi } from '../../../api/temporal-ui.ts';
import type { NetworkRange } from '../../../scim/index.ts';

export { API_KEY, auth, read } from '../helpers.ts';

export async function storeApp(
  options: {
    provisioning?: ProvisioningControl;
    onDemandTimeoutMs?: number;
    statusTimeoutMs?: number;
    /** FERRY_ALLOW_INSECURE_LOOPBACK=1 */
    allowInsecureLoopback?: boolean;
    /** FERRY_ALLOWED_TARGET_NETWORKS */
    allowedTargetNetworks?: NetworkRange[];
    temporalUi?: TemporalUi;
    /** Another API over this store (it stays open when this one closes). */
    store?: Store;
    /** Serve Temporal's remote codec endpoint over this codec. */
    codec?: CodecEndpointOptions;
  } = {},
) {
  const store: Store = options.store ?? (await openStore({ encryptionKey: TEST_ENCRYPTION_KEY }));
  if (!options.store) await store.migrate();
  const recording = recordingProvisioning();
  const lines: string[] = [];
  const app = createApp({
    apiKeys: [API_KEY],
    provisioning: options.provisioning ?? recording.control,
    resources: {
      store,
      onDemandTimeoutMs: options.onDemandTimeoutMs,
      statusTimeoutMs: options.statusTimeoutMs,
      allowInsecureLoopback: options.allowInsecureLoopback,
      allowedTargetNetworks: options.allowedTargetNetworks,
    },
    logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
    temporalUi: options.temporalUi,
    codec: options.codec,
  });
  return { app, store, calls: recording.calls, lines, close: async () => (options.store ? undefined : store.close()) };
}

export const send = (method: string, body?: unknown, headers: Record<string, string> = {}) => ({
  method,
  headers: { ...auth(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

/** Creates an app from `template` against a target that is never contacted; answers its id. */
export async function createTestApp(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  name: string,
  target: { url: string; token: string } = { url: 'https://scim.example.com/v2', token: 'tok_test' },
  template = 'generic-scim',
): Promise<string> {
  const res = await app.request('/api/v1/apps', send('POST', { name, template, target }));
  if (res.status !== 201) throw new Error(`creating app ${name}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

// The real app over a real store (PGlite in memory, migrated) and a recording ProvisioningControl.
import { createApp } from '../../../api/app.ts';
import { createLogger } from '../../../api/logger.ts';
import type { ProvisioningControl } from '../../../api/provisioning-control.ts';
import { openStore, type Store } from '../../../store/index.ts';
import { TEST_ENCRYPTION_KEY } from '../../support/postgres.ts';
import { API_KEY, auth, recordingProvisioning } from '../helpers.ts';

export { API_KEY, auth, read } from '../helpers.ts';

export async function storeApp(
  options: { provisioning?: ProvisioningControl; onDemandTimeoutMs?: number; statusTimeoutMs?: number } = {},
) {
  const store: Store = await openStore({ encryptionKey: TEST_ENCRYPTION_KEY });
  await store.migrate();
  const recording = recordingProvisioning();
  const lines: string[] = [];
  const app = createApp({
    apiKeys: [API_KEY],
    provisioning: options.provisioning ?? recording.control,
    resources: { store, onDemandTimeoutMs: options.onDemandTimeoutMs, statusTimeoutMs: options.statusTimeoutMs },
    logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
  });
  return { app, store, calls: recording.calls, lines, close: () => store.close() };
}

export const send = (method: string, body?: unknown, headers: Record<string, string> = {}) => ({
  method,
  headers: { ...auth(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

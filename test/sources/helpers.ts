// The real API over a real store with a SourceControl that runs each import in process (the
// workflow's activity does the same call), so tests read the outcome through GET …/runs.
import { createApp, type ApiLimits } from '../../api/app.ts';
import { createLogger } from '../../api/logger.ts';
import type { SourceControl } from '../../api/source-control.ts';
import { runSourceImport } from '../../sources/run.ts';
import { openStore, type Store } from '../../store/index.ts';
import { API_KEY, auth, recordingProvisioning } from '../api/helpers.ts';
import { TEST_ENCRYPTION_KEY } from '../support/postgres.ts';

/** `store` and `control`: the test's own (e.g. workflows on a Temporal test service); by default in process. */
export async function sourcesApp(options: { limits?: ApiLimits; store?: Store; control?: SourceControl } = {}) {
  const store: Store = options.store ?? (await openStore({ encryptionKey: TEST_ENCRYPTION_KEY }));
  if (!options.store) await store.migrate();
  const lines: string[] = [];
  const failures: unknown[] = [];
  const policy = { allowLoopback: true, allowedNetworks: [] };
  const control: SourceControl = options.control ?? {
    ensure: async () => {},
    stop: async () => {},
    resume: async () => {},
    async syncNow(sourceId, mode) {
      await runSourceImport({ store, policy }, sourceId, mode).catch((error: unknown) => failures.push(error));
    },
  };
  const app = createApp({
    apiKeys: [API_KEY],
    provisioning: recordingProvisioning().control,
    resources: { store },
    sources: control,
    limits: options.limits,
    logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(path, {
      method,
      headers: { ...auth(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : null, text }; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads of JSON answers
  };
  /** Uploads a snapshot (`text/csv` or `application/json`) to a csv source; `key` is the API key used. */
  const upload = async (id: string, body: string, contentType = 'text/csv', key = API_KEY) => {
    const response = await app.request(`/api/v1/sources/${id}/snapshots`, {
      method: 'POST',
      headers: { ...auth(key), 'Content-Type': contentType },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads of JSON answers
  };
  /** Runs an import through the API and answers the newest run. */
  const sync = async (id: string, mode = 'auto') => {
    const answer = await call('POST', `/api/v1/sources/${id}/sync`, { mode });
    if (answer.status !== 202) throw new Error(`sync answered ${answer.status}: ${answer.text}`);
    const runs = await call('GET', `/api/v1/sources/${id}/runs`);
    return runs.body!.items[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
  };
  return { app, store, lines, failures, call, sync, upload, close: () => store.close() };
}

// The one helper every workflow test uses: a Temporal service on free ports, with a connected Client
// and NativeConnection. Two backends:
//
// - `in-repo` (default): the in-repo test service (dev/temporal-service), with control of the
//   virtual clock;
// - `real`: `temporal server start-dev` (test/support/temporal-dev-server.ts), the reference the
//   in-repo service is checked against. Real time only: `skipsTime` is false and skipTime throws.
//
//   describe.each(temporalBackends)('on the $name Temporal', (backend) => { … createTemporalTestEnv({ backend }) … })
//   (temporalBackends: test/support/temporal-backends.ts)
//   const env = await createTemporalTestEnv();
//   const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, … });
//   const running = worker.run();
//   … env.client.workflow.start(…); await env.skipTime(2 * 60 * 60_000); …
//   worker.shutdown(); await running; await env.close();
//
// Time on the in-repo service: `now()` is the service's virtual clock (what workflows see as
// Date.now()). `skipTime(ms)` advances it by exactly ms, firing every timer due in the window in order
// and waiting, before each timer and at the end, until no workflow task, activity or query is
// outstanding — so work a timer triggers (activities taking real time, new timers) happens inside the
// window. With `timeSkipping` (default true) the clock also jumps to the next timer on its own, but
// only while some client awaits a workflow result (`handle.result()`, `client.workflow.execute()`)
// and nothing is outstanding; when nobody waits for a result, time only moves in real time or
// through skipTime.
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { startTemporalTestService } from '../../dev/temporal-service/index.ts';
import type { ServiceLimits } from '../../dev/temporal-service/limits.ts';
import { startTemporalDevServer } from './temporal-dev-server.ts';

export interface TemporalBackend {
  name: 'in-repo' | 'real';
  /** Whether the backend has a virtual clock (`skipTime`); the real server has not. */
  skipsTime: boolean;
}

export const inRepoBackend: TemporalBackend = { name: 'in-repo', skipsTime: true };
export const realBackend: TemporalBackend = { name: 'real', skipsTime: false };

export interface TemporalTestEnv {
  backend: TemporalBackend;
  /** `127.0.0.1:<port>` of the service. */
  address: string;
  /** `http://127.0.0.1:<port>` of the real server's Web UI when asked for (`ui: true`), else null. */
  uiUrl: string | null;
  client: Client;
  /** For `Worker.create({ connection })`. Shut workers down before `close()`. */
  nativeConnection: NativeConnection;
  namespace: 'default';
  /** The virtual clock of the in-repo service; the wall clock on the real server. */
  now(): Date;
  /** Advances the virtual clock by exactly `ms` (see the header comment); throws on the real server. */
  skipTime(ms: number): Promise<void>;
  /** Closes the client, the native connection and the service. */
  close(): Promise<void>;
}

export interface TemporalTestEnvOptions {
  /** Default: the in-repo service. */
  backend?: TemporalBackend;
  /** In-repo service only: automatic time skipping (default true). */
  timeSkipping?: boolean;
  /** Real server only: serve the Web UI (default false). */
  ui?: boolean;
  /** Real server only: dynamic config values (see startTemporalDevServer). */
  dynamicConfig?: Record<string, string | number | boolean>;
  /**
   * History and payload limits on both backends: the in-repo service's `limits`, the real server's
   * dynamic config `limit.historyCount.*`, `limit.historySize.*`, `limit.blobSize.*`.
   */
  limits?: Partial<ServiceLimits>;
  /** The client encodes and decodes payloads with it (give the worker the same one). */
  payloadCodec?: PayloadCodec;
}

const LIMIT_KEYS: Record<keyof ServiceLimits, string> = {
  historyCountSuggestContinueAsNew: 'limit.historyCount.suggestContinueAsNew',
  historyCountWarn: 'limit.historyCount.warn',
  historyCountError: 'limit.historyCount.error',
  historySizeWarn: 'limit.historySize.warn',
  historySizeError: 'limit.historySize.error',
  blobSizeWarn: 'limit.blobSize.warn',
  blobSizeError: 'limit.blobSize.error',
};

interface Service {
  address: string;
  uiUrl: string | null;
  now(): Date;
  skipTime(ms: number): Promise<void>;
  close(): Promise<void>;
}

async function startService(options: TemporalTestEnvOptions): Promise<Service> {
  if ((options.backend ?? inRepoBackend).name === 'real') {
    const limits = Object.fromEntries(
      Object.entries(options.limits ?? {}).map(([key, value]) => [LIMIT_KEYS[key as keyof ServiceLimits], value]),
    );
    const server = await startTemporalDevServer({
      ui: options.ui ?? false,
      dynamicConfig: { ...options.dynamicConfig, ...limits },
    });
    return {
      address: server.address,
      uiUrl: server.uiUrl,
      now: () => new Date(),
      skipTime: () => Promise.reject(new Error('the real Temporal server has no time skipping')),
      close: () => server.close(),
    };
  }
  const service = await startTemporalTestService({
    timeSkipping: options.timeSkipping ?? true,
    limits: options.limits,
  });
  return { ...service, uiUrl: null, now: () => service.now(), skipTime: (ms) => service.skipTime(ms) };
}

export async function createTemporalTestEnv(options: TemporalTestEnvOptions = {}): Promise<TemporalTestEnv> {
  const service = await startService(options);
  try {
    const connection = await Connection.connect({ address: service.address });
    const nativeConnection = await NativeConnection.connect({ address: service.address });
    const client = new Client({
      connection,
      namespace: 'default',
      ...(options.payloadCodec ? { dataConverter: { payloadCodecs: [options.payloadCodec] } } : {}),
    });
    return {
      backend: options.backend ?? inRepoBackend,
      address: service.address,
      uiUrl: service.uiUrl,
      client,
      nativeConnection,
      namespace: 'default',
      now: () => service.now(),
      skipTime: (ms) => service.skipTime(ms),
      close: async () => {
        await connection.close();
        await nativeConnection.close();
        await service.close();
      },
    };
  } catch (error) {
    await service.close();
    throw error;
  }
}

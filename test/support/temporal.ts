// The one helper every workflow test uses: the in-repo Temporal test service on a free port, with a
// connected Client and NativeConnection and control of the virtual clock.
//
//   const env = await createTemporalTestEnv();
//   const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, … });
//   const running = worker.run();
//   … env.client.workflow.start(…); await env.skipTime(2 * 60 * 60_000); …
//   worker.shutdown(); await running; await env.close();
//
// Time: `now()` is the service's virtual clock (what workflows see as Date.now()). `skipTime(ms)`
// advances it by exactly ms, firing every timer due in the window in order and waiting, before each
// timer and at the end, until no workflow task, activity or query is outstanding — so work a timer
// triggers (activities taking real time, new timers) happens inside the window. With `timeSkipping`
// (default true) the clock also jumps to the next timer on its own, but only while some client
// awaits a workflow result (`handle.result()`, `client.workflow.execute()`) and nothing is
// outstanding; when nobody waits for a result, time only moves in real time or through skipTime.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startTemporalTestService } from '../../dev/temporal-service/index.ts';

export interface TemporalTestEnv {
  /** `127.0.0.1:<port>` of the service. */
  address: string;
  client: Client;
  /** For `Worker.create({ connection })`. Shut workers down before `close()`. */
  nativeConnection: NativeConnection;
  namespace: 'default';
  /** The virtual clock. */
  now(): Date;
  /** Advances the virtual clock by exactly `ms` (see the header comment). */
  skipTime(ms: number): Promise<void>;
  /** Closes the client, the native connection and the service. */
  close(): Promise<void>;
}

export async function createTemporalTestEnv(options: { timeSkipping?: boolean } = {}): Promise<TemporalTestEnv> {
  const service = await startTemporalTestService({ timeSkipping: options.timeSkipping ?? true });
  try {
    const connection = await Connection.connect({ address: service.address });
    const nativeConnection = await NativeConnection.connect({ address: service.address });
    const client = new Client({ connection, namespace: 'default' });
    return {
      address: service.address,
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

// The in-memory Temporal test service: the real @temporalio/worker and @temporalio/client run
// workflows end to end against it. Development and test infrastructure only (see README.md).
import { Cluster } from './cluster.ts';
import type { ServiceLimits } from './limits.ts';
import { listen, type ListenTls } from './server.ts';
import { testServiceHandlers } from './test-service.ts';
import { advanceTime, AutoSkipper } from './time-skipping.ts';
import { workflowServiceHandlers } from './workflow-service.ts';

export interface TemporalTestServiceOptions {
  /** Port on 127.0.0.1; 0 (default) lets the OS choose. */
  port?: number;
  /**
   * Automatic time skipping (default false): while a client awaits a workflow result and the system
   * is quiescent, the virtual clock jumps to the next timer. Explicit skipping (`skipTime`, the
   * TestService `Sleep` RPCs) works either way.
   */
  timeSkipping?: boolean;
  /**
   * History and payload limits, as the real server's dynamic config `limit.historyCount.*`,
   * `limit.historySize.*`, `limit.blobSize.*` (default: the server's defaults; see limits.ts).
   */
  limits?: Partial<ServiceLimits>;
  /** Receives the warnings the real server logs (history past its warning limits); default console.warn. */
  warn?: (line: string) => void;
  /** Serve over TLS (and mTLS with `clientCa`) instead of plain gRPC: tests of Ferry's TLS settings. */
  tls?: ListenTls;
  /** Refuse calls without `authorization: Bearer <apiKey>` (UNAUTHENTICATED), like Temporal Cloud. */
  apiKey?: string;
}

export interface TemporalTestService {
  /** `127.0.0.1:<port>` */
  address: string;
  /** The virtual clock (real time plus all time skipped). */
  now(): Date;
  /**
   * Advances the virtual clock by exactly `ms`, firing every timer due in that window in order and
   * waiting until the system is quiescent before each one and at the end.
   */
  skipTime(ms: number): Promise<void>;
  /** Ends every pending long poll, stops all timers and the gRPC server. */
  close(): Promise<void>;
}

export async function startTemporalTestService(options: TemporalTestServiceOptions = {}): Promise<TemporalTestService> {
  const cluster = new Cluster({
    timeSkipping: options.timeSkipping ?? false,
    limits: options.limits,
    warn: options.warn,
  });
  const autoSkipper = new AutoSkipper(cluster);
  const { server, port } = await listen(
    options.port ?? 0,
    {
      workflowService: workflowServiceHandlers(cluster, autoSkipper),
      testService: testServiceHandlers(cluster, autoSkipper),
    },
    { tls: options.tls, apiKey: options.apiKey },
  );
  let closed: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${port}`,
    now: () => new Date(cluster.now()),
    skipTime: (ms) => advanceTime(cluster, ms),
    close: () => {
      closed ??= (async () => {
        autoSkipper.close();
        cluster.close();
        // Pending polls were answered by cluster.close(); give the responses a moment to flush.
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 1000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
      })();
      return closed;
    },
  };
}

// The worker's small HTTP port (FERRY_WORKER_HTTP_PORT): GET /metrics (Prometheus text), /healthz
// (the process is alive) and /readyz (database and Temporal reachable, the worker polling). No
// authentication: bind it to an interface only Prometheus and the orchestrator reach.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runHealthChecks, type HealthCheck } from './health.ts';
import type { FerryMetrics } from './metrics.ts';

export interface ProbeServerOptions {
  host?: string;
  /** 0 = a free port chosen by the OS. */
  port: number;
  metrics: FerryMetrics;
  /** Readiness checks, by name; each throws when its dependency is unavailable. */
  checks: Record<string, HealthCheck>;
}

export interface ProbeServer {
  /** e.g. http://127.0.0.1:9464 */
  url: string;
  close(): Promise<void>;
}

function send(res: import('node:http').ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

export async function serveProbes(options: ProbeServerOptions): Promise<ProbeServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(res, 200, 'application/json', JSON.stringify({ status: 'ok', checks: {} }));
    if (path === '/readyz') {
      void runHealthChecks(options.checks).then((report) =>
        send(res, report.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(report)),
      );
      return;
    }
    if (path === '/metrics') {
      void options.metrics.text().then(
        (text) => send(res, 200, options.metrics.registry.contentType, text),
        () => send(res, 500, 'text/plain', 'metrics unavailable\n'),
      );
      return;
    }
    send(res, 404, 'text/plain', 'not found\n');
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

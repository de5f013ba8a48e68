// npx tsx dev/scim-target/cli.ts [--port 0] [--host 127.0.0.1] [--token <token>] [--latency-ms 0] [--bulk]
// Prints the base URL and token as one JSON line, then serves until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startScimTarget } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    token: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    bulk: { type: 'boolean', default: false },
  },
});

const target = await startScimTarget({
  port: Number(values.port),
  host: values.host,
  token: values.token,
  latencyMs: Number(values['latency-ms']),
  ...(values.bulk ? { bulk: {} } : {}),
});
process.stdout.write(`${JSON.stringify({ baseUrl: target.baseUrl, token: target.token })}\n`);

const stop = () => {
  void target.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

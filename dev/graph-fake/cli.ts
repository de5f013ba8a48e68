// npx tsx dev/graph-fake/cli.ts [--port 0] [--host 127.0.0.1] [--page-size 100] [--users 5]
// Starts the Graph fake with a few sample users in one group, prints what an entra source needs
// (authority, graphUrl, tenantId, clientId, clientSecret) as one JSON line, and serves until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startGraphFake } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'page-size': { type: 'string', default: '100' },
    users: { type: 'string', default: '5' },
    'client-secret': { type: 'string' },
  },
});

const graph = await startGraphFake({
  port: Number(values.port),
  host: values.host,
  pageSize: Number(values['page-size']),
  clientSecret: values['client-secret'],
});
const ids: string[] = [];
for (let i = 0; i < Number(values.users); i++) {
  ids.push(
    graph.addUser({
      userPrincipalName: `person${i}@fake.example`,
      displayName: `Person ${i}`,
      managerId: i > 0 ? ids[0] : null,
    }),
  );
}
graph.addGroup({ displayName: 'Everyone' }, ids);
const { authority, graphUrl, tenantId, clientId, clientSecret } = graph;
process.stdout.write(`${JSON.stringify({ authority, graphUrl, tenantId, clientId, clientSecret })}\n`);

const stop = () => {
  void graph.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

// The child side of scim-targets-process.ts: starts `count` dev SCIM targets (dev/scim-target), each
// noting when every request arrived, and answers the parent's report requests over IPC.
import { startScimTarget, type ScimTarget } from '../../dev/scim-target/index.ts';

const count = Number(process.argv[2]);
const latencyMs = Number(process.argv[3] ?? 0);
const targets: ScimTarget[] = [];
const arrivals: number[][] = [];
for (let n = 0; n < count; n++) {
  const times: number[] = [];
  arrivals.push(times);
  targets.push(await startScimTarget({ latencyMs, onRequest: () => times.push(performance.now()) }));
}

process.on('message', (message: { type: string }) => {
  if (message.type !== 'report') return;
  process.send?.({
    type: 'report',
    reports: targets.map((target, n) => ({ arrivals: arrivals[n], users: target.users(), groups: target.groups() })),
  });
});
// The parent is gone (or closed us): nothing left to serve.
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', targets: targets.map((t) => ({ baseUrl: t.baseUrl, token: t.token })) });

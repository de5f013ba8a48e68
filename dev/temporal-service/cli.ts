// npm run dev:temporal -- --port <p> [--time-skipping]
import { parseArgs } from 'node:util';
import { startTemporalTestService } from './index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7233' },
    'time-skipping': { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`invalid --port: ${values.port}`);
  process.exit(2);
}

const service = await startTemporalTestService({ port, timeSkipping: values['time-skipping'] });
console.log(
  `Ferry Temporal test service listening on ${service.address} (namespace default, time skipping ${
    values['time-skipping'] ? 'on' : 'off'
  })`,
);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  service.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

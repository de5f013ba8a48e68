// Small network and polling helpers shared by tests (real time, 127.0.0.1 only).
import { createServer } from 'node:net';

/** A port on 127.0.0.1 that nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls (real time) until `done` holds; after `timeoutMs` throws, naming `what` it waited for. */
export async function until(
  done: () => boolean | Promise<boolean>,
  what = 'a condition',
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 25));
  }
}

// Loopback dev SCIM targets (dev/scim-target) in a process of their own, each noting when every
// request arrived. Counting arrivals per second in a test process that also runs the Temporal
// service would count that process's event-loop stalls too (requests held back, then noted at once);
// a process that does nothing but answer keeps the arrival times honest.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JsonObject } from '../../dev/scim-target/paths.ts';

export interface TargetAddress {
  baseUrl: string;
  token: string;
}

export interface TargetReport {
  /** `performance.now()` of the targets' process at each request's arrival (ms). */
  arrivals: number[];
  users: JsonObject[];
  groups: JsonObject[];
}

export interface TargetsProcess {
  targets: TargetAddress[];
  /** What each target received and holds now, in the order of `targets`. */
  report(): Promise<TargetReport[]>;
  close(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./scim-targets-child.ts', import.meta.url));

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`the SCIM targets' process exited with ${code}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Starts `count` targets answering after `latencyMs`, in one child process. */
export async function startTargetsProcess(options: { count: number; latencyMs?: number }): Promise<TargetsProcess> {
  const child = fork(CHILD, [String(options.count), String(options.latencyMs ?? 0)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { targets } = await nextMessage<{ targets: TargetAddress[] }>(child, 'ready');
  return {
    targets,
    async report() {
      const answer = nextMessage<{ reports: TargetReport[] }>(child, 'report');
      child.send({ type: 'report' });
      return (await answer).reports;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

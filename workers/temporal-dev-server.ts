// `temporal server start-dev` as a child of `npm start`: a real Temporal server (SQLite) with the
// Web UI. Its state lives in one database file, so workflows survive a restart of Ferry.
//
// The server must never outlive Ferry: an orphan would hold the ports and the database file, and
// the next start would run a second server on the same file. A signal to Ferry is not enough
// (SIGKILL cannot be caught), so the server runs under a small `sh` that watches a pipe from Ferry:
// when the pipe closes — Ferry stopping, or Ferry killed and its descriptors closed by the kernel —
// the shell sends the server SIGTERM. The shell is its own process group, so a Ctrl-C in the
// terminal reaches Ferry only, and Ferry stops its worker before the server it talks to.
// A server still stopping when Ferry starts again (it takes a second or two) is found through the
// pid file beside its database and waited for, so two servers never share the file.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';

/** Reads the pipe (fd 3) until Ferry closes it, then stops the server; exits with the server's code. */
const WATCHER = `
"$@" </dev/null &
server=$!
( read -r _ <&3; kill -TERM "$server" 2>/dev/null ) &
watcher=$!
wait "$server"
code=$?
kill "$watcher" 2>/dev/null
exit "$code"
`;

export interface DevServerOptions {
  /** The `temporal` CLI (workers/temporal-cli.ts). */
  cli: string;
  /** SQLite file of the server's state; null = in memory (gone when it stops). */
  dbFile: string | null;
  namespace: string;
  /** Keyword search attributes to register. */
  searchAttributes: readonly string[];
  /** The server's own log (warnings, and the noise of its shutdown) goes here, not to the terminal. */
  logFile: string;
  /** Interface to bind (default 127.0.0.1). */
  ip?: string;
  /** How long to wait for the server to answer (default 60 s). */
  startTimeoutMs?: number;
  /** Where messages for the operator go (default: stdout). */
  print?: (line: string) => void;
}

export interface DevServer {
  /** host:port of the frontend (gRPC). */
  address: string;
  /** The Web UI, e.g. http://127.0.0.1:8233 */
  uiUrl: string;
  /** Process id of the server's watcher shell (its process group). */
  pid: number;
  stop(): Promise<void>;
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForNamespace(address: string, namespace: string, child: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`temporal server start-dev exited (${child.exitCode ?? child.signalCode})`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Temporal dev server did not answer on ${address}`, { cause: error });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The watcher shell of an earlier server on `dbFile`, from its pid file, if it still runs. */
function earlierServer(pidFile: string, dbFile: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
  try {
    // The pid may since belong to another program: act only on our watcher for this very file.
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return command.includes('temporal-dev-server') && command.includes(dbFile) ? pid : null;
  } catch {
    return null; // No /proc (not Linux): leave it alone.
  }
}

/** Waits (at most 20 s) for an earlier server on the same database file to stop, then ends it. */
async function endEarlierServer(pidFile: string, dbFile: string, print: (line: string) => void): Promise<void> {
  const pid = earlierServer(pidFile, dbFile);
  if (pid === null) return;
  print(`Waiting for the earlier Temporal dev server on ${dbFile} (pid ${pid}) to stop…`);
  // Looked up by its command line each time: an exited shell may linger as a zombie, which no
  // longer holds the database.
  const running = () => earlierServer(pidFile, dbFile) === pid;
  const deadline = Date.now() + 20_000;
  while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (!running()) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
  while (running() && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 100));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(options: DevServerOptions, ports: { frontend: number; ui: number }): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(ports.frontend),
    '--ui-port',
    String(ports.ui),
    '--namespace',
    options.namespace,
    ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
    ...options.searchAttributes.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
  ];
  const log = openSync(options.logFile, 'w');
  let child: ChildProcess;
  try {
    // fd 0 and fd 3 are the same pipe from Ferry; the server itself gets /dev/null as stdin.
    child = spawn('sh', ['-c', `exec 3<&0\n${WATCHER}`, 'temporal-dev-server', options.cli, ...args], {
      stdio: ['pipe', log, log],
      detached: true,
    });
  } finally {
    closeSync(log);
  }
  const pidFile = options.dbFile ? `${options.dbFile}.pid` : null;
  if (pidFile) writeFileSync(pidFile, `${child.pid}\n`);
  const stop = async () => {
    child.stdin?.end();
    const done = exited(child);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 20_000);
    await done;
    clearTimeout(timer);
    if (pidFile) rmSync(pidFile, { force: true });
  };
  const address = `${ip}:${ports.frontend}`;
  try {
    await waitForNamespace(address, options.namespace, child, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}; its log: ${options.logFile}`, {
      cause: error,
    });
  }
  return { address, uiUrl: `http://${ip}:${ports.ui}`, pid: child.pid!, stop };
}

interface Ports {
  frontend: number;
  ui: number;
}

/** The ports an earlier start kept beside the database file, if it did. */
function keptPorts(file: string): Ports | null {
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Partial<Ports>;
    return Number.isInteger(kept.frontend) && Number.isInteger(kept.ui) ? (kept as Ports) : null;
  } catch {
    return null;
  }
}

/**
 * Starts `temporal server start-dev` and waits until the namespace answers. A durable server keeps
 * its ports beside its database (`<db>.ports`) and gets them again while they are free, so the Web
 * UI's address stays the same from one start to the next. They are chosen at random the first time
 * — never Temporal's well-known 7233, where another server (another Ferry's, a developer's) could
 * answer in place of this one.
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const portsFile = options.dbFile ? `${options.dbFile}.ports` : null;
  if (options.dbFile) await endEarlierServer(`${options.dbFile}.pid`, options.dbFile, print);
  const kept = portsFile ? keptPorts(portsFile) : null;
  if (kept && (await portFree(kept.frontend, ip)) && (await portFree(kept.ui, ip))) {
    try {
      return await launch(options, kept);
    } catch {
      // Taken between the look and the bind: new ports below.
    }
  }
  const ports = { frontend: await freePort(ip), ui: await freePort(ip) };
  const server = await launch(options, ports);
  if (portsFile) writeFileSync(portsFile, `${JSON.stringify(ports)}\n`);
  return server;
}

// `npm run setup:temporal`: builds the pinned Temporal CLI into the git-ignored tools folder, so
// that `npm start` runs a real, durable Temporal dev server instead of the in-memory test service.
// It does nothing when a CLI is already there (FERRY_TEMPORAL_CLI, .tools/bin or the PATH). Without
// Go, or when the Go module proxy refuses a module, it says which and exits 0 — everything keeps
// working on the in-repo service — unless `--require` (or FERRY_REQUIRE_TEMPORAL_CLI=1) says the
// real server is needed, then it exits 1.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTemporalCli, onPath, TEMPORAL_CLI_MODULE, TEMPORAL_CLI_VERSION, TOOLS_BIN_DIR } from './temporal-cli.ts';

export type SetupOutcome =
  | { kind: 'present'; cli: string }
  | { kind: 'built'; cli: string; seconds: number }
  | { kind: 'no-go' }
  | { kind: 'failed'; reason: string; seconds: number };

export interface SetupOptions {
  env?: NodeJS.ProcessEnv;
  /** Where progress lines go (default: stdout). */
  print?: (line: string) => void;
  /** Where `go install`'s own output goes (default: stderr, so the user sees downloads). */
  goOutput?: (chunk: string) => void;
  /** The `go` command to run (default: `go` on the PATH; null = there is none). */
  go?: string | null;
  /** Where the CLI is built (default: the project's .tools/bin). */
  toolsBinDir?: string;
  /** The CLI already there (default: findTemporalCli of env). */
  existing?: string | null;
}

/**
 * The lines of `go install`'s output that say why it failed — a module the proxy refused (403, 404,
 * 410), a `replace` directive it will not install, a toolchain it cannot fetch, a network error —
 * each with the indented lines that follow it (the proxy's own explanation). Falls back to the last
 * lines when none of those is recognised.
 */
export function goFailureReason(output: string): string {
  const lines = output.split('\n').filter((l) => l.trim().length > 0 && !/^go: (downloading|finding) /.test(l));
  const telling =
    /(replace directive|403 Forbidden|404 Not Found|410 Gone|not found|unknown revision|invalid version|no matching versions|toolchain|requires go|dial tcp|proxyconnect|connection refused|i\/o timeout|verifying .*: |checksum mismatch)/i;
  const picked: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!telling.test(lines[i])) continue;
    picked.push(lines[i].trim());
    while (i + 1 < lines.length && /^\s/.test(lines[i + 1])) picked.push(lines[++i].trim());
  }
  return (picked.length > 0 ? picked : lines.slice(-3).map((l) => l.trim())).join('\n');
}

function goVersion(go: string): string {
  try {
    return execFileSync(go, ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'go (version unknown)';
  }
}

function cliVersion(cli: string): string {
  try {
    return execFileSync(cli, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return 'version unknown';
  }
}

export async function setupTemporal(options: SetupOptions = {}): Promise<SetupOutcome> {
  const env = options.env ?? process.env;
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const goOutput = options.goOutput ?? ((chunk: string) => process.stderr.write(chunk));

  const existing = options.existing === undefined ? findTemporalCli(env) : options.existing;
  if (existing) {
    print(`setup:temporal: Temporal CLI present: ${existing} (${cliVersion(existing)}); nothing to do.`);
    return { kind: 'present', cli: existing };
  }
  const go = options.go === undefined ? onPath('go', env.PATH ?? '') : options.go;
  if (!go) return { kind: 'no-go' };

  const target = `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`;
  const toolsBinDir = options.toolsBinDir ?? TOOLS_BIN_DIR;
  mkdirSync(toolsBinDir, { recursive: true });
  print(
    `setup:temporal: building ${target} with ${goVersion(go)} into ${toolsBinDir} (GOBIN); Go's module and build caches are reused — a first build takes minutes, a later one seconds.`,
  );
  const started = Date.now();
  const output: string[] = [];
  // Only GOBIN changes: GOMODCACHE, GOCACHE, GOPROXY and GOFLAGS stay the user's, so the caches
  // filled by any earlier build of the same module make this one fast.
  const child = spawn(go, ['install', target], {
    env: { ...env, GOBIN: toolsBinDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    goOutput(text);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const built = path.join(toolsBinDir, 'temporal');
  if (code === 0 && findTemporalCli({ ...env, FERRY_TEMPORAL_CLI: built }) === built) {
    print(`setup:temporal: built ${built} (${cliVersion(built)}) in ${seconds} s.`);
    return { kind: 'built', cli: built, seconds };
  }
  return { kind: 'failed', reason: goFailureReason(output.join('')), seconds };
}

async function main(): Promise<void> {
  const required = process.argv.includes('--require') || process.env.FERRY_REQUIRE_TEMPORAL_CLI === '1';
  const outcome = await setupTemporal();
  if (outcome.kind === 'present' || outcome.kind === 'built') return;
  const why =
    outcome.kind === 'no-go'
      ? '`go` is not on the PATH, so the Temporal CLI cannot be built (install Go 1.25+ or put a `temporal` CLI on the PATH).'
      : `\`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}\` failed after ${outcome.seconds} s:\n${outcome.reason}`;
  if (required) {
    process.stderr.write(`setup:temporal: ERROR: ${why}\nThe real Temporal server is required here.\n`);
    process.exit(1);
  }
  process.stderr.write(
    `setup:temporal: WARNING: ${why}\nContinuing without it: npm start and the tests use Ferry's in-repo Temporal test service (in memory, not durable).\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`setup:temporal: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

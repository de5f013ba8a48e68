// `npm run setup:temporal` builds the pinned Temporal CLI with `go install`; these tests stand a
// small shell script in for `go`, so they need neither Go nor the network.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { goFailureReason, setupTemporal } from '../../workers/setup-temporal.ts';
import { TEMPORAL_CLI_MODULE, TEMPORAL_CLI_VERSION } from '../../workers/temporal-cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'ferry-setup-temporal-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An executable shell script at `<work>/<name>`. */
function script(name: string, body: string): string {
  const file = path.join(work, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

// What proxy.golang.org answered here for a version it does not serve (captured from `go install`).
const REFUSED = `go: downloading github.com/temporalio/cli v1.6.0
go: github.com/temporalio/cli/cmd/temporal@v1.6.0: github.com/temporalio/cli/cmd/temporal@v1.6.0: reading https://proxy.golang.org/github.com/temporalio/cli/cmd/temporal/@v/v1.6.0.info: 403 Forbidden
\tserver response: This module version is not available.
`;

describe('npm run setup:temporal', () => {
  it('does nothing when a Temporal CLI is already there', async () => {
    const go = script('go-must-not-run', `touch ${path.join(work, 'go-ran')}; exit 1`);
    const lines: string[] = [];
    const outcome = await setupTemporal({ existing: '/opt/temporal', go, print: (l) => lines.push(l) });
    expect(outcome).toEqual({ kind: 'present', cli: '/opt/temporal' });
    expect(existsSync(path.join(work, 'go-ran'))).toBe(false);
    expect(lines.join('\n')).toContain('nothing to do');
  });

  it('installs the pinned module into the tools folder with GOBIN, keeping the Go caches of the environment', async () => {
    const bin = path.join(work, 'tools-bin');
    const record = path.join(work, 'go-call');
    // A stand-in `go`: records how it was called and "builds" a CLI into $GOBIN.
    const go = script(
      'go-ok',
      `[ "$1" = version ] && { echo "go version go1.26 test"; exit 0; }
echo "$@ GOBIN=$GOBIN GOMODCACHE=$GOMODCACHE" > ${record}
printf '#!/bin/sh\\necho "temporal version test"\\n' > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal"`,
    );
    const lines: string[] = [];
    const outcome = await setupTemporal({
      existing: null,
      go,
      toolsBinDir: bin,
      env: { PATH: process.env.PATH, GOMODCACHE: '/cache/mod' },
      print: (l) => lines.push(l),
      goOutput: () => {},
    });
    expect(outcome).toMatchObject({ kind: 'built', cli: path.join(bin, 'temporal') });
    expect(readFileSync(record, 'utf8').trim()).toBe(
      `install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} GOBIN=${bin} GOMODCACHE=/cache/mod`,
    );
    // It says what it does, and how long it took.
    expect(lines[0]).toContain(`building ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`);
    expect(lines.at(-1)).toMatch(/built .*temporal \(temporal version test\) in [\d.]+ s/);
  });

  it('names the module the Go proxy refused, with the proxy’s explanation', async () => {
    const go = script('go-refused', `[ "$1" = version ] && exit 0\ncat >&2 <<'EOF'\n${REFUSED}EOF\nexit 1`);
    const outcome = await setupTemporal({
      existing: null,
      go,
      toolsBinDir: path.join(work, 'refused-bin'),
      print: () => {},
      goOutput: () => {},
    });
    expect(outcome.kind).toBe('failed');
    const reason = (outcome as { reason: string }).reason;
    expect(reason).toContain('github.com/temporalio/cli/cmd/temporal@v1.6.0');
    expect(reason).toContain('403 Forbidden');
    expect(reason).toContain('This module version is not available.');
    expect(reason).not.toContain('go: downloading');
  });

  it('explains a replace directive go install will not accept', () => {
    const output = `go: github.com/temporalio/cli/cmd/temporal@v1.6.0 (in github.com/temporalio/cli@v1.6.0):
\tThe go.mod file for the module providing named packages contains one or more replace directives.
\tIt must not contain directives that would cause it to be interpreted differently than if it were the main module.
`;
    expect(goFailureReason(output)).toContain('replace directives');
  });

  const emptyBin = path.join(work, 'empty-bin');
  mkdirSync(emptyBin, { recursive: true });
  const runScript = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'workers/setup-temporal.ts', ...args], {
      cwd: ROOT,
      // An empty PATH (node is run by its full path): no `go`, and no CLI to find.
      env: { PATH: emptyBin, HOME: process.env.HOME, FERRY_TEMPORAL_CLI: 'none' },
      encoding: 'utf8',
    });

  it('without Go it warns, says why, and exits 0 so everything else keeps working on the in-repo service', () => {
    const result = runScript([]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('WARNING: `go` is not on the PATH');
    expect(result.stderr).toContain('in-repo Temporal test service');
  });

  it('with --require it fails when the real server cannot be had', () => {
    const result = runScript(['--require']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ERROR: `go` is not on the PATH');
  });
});

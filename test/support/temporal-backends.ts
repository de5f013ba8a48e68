// Which Temporal backends the reference suites run on (describe.each(temporalBackends)): the in-repo
// test service always, and the real server when a Temporal CLI is found. FERRY_TEMPORAL_BACKENDS
// (`in-repo`, `real` or both, comma-separated) picks them explicitly: CI runs `npm test` on the
// in-repo service and the real leg beside it (`npm run test:reference`, vitest.reference.config.ts).
import { it } from 'vitest';
import { findTemporalCli } from '../../workers/temporal-cli.ts';
import { inRepoBackend, realBackend, type TemporalBackend } from './temporal.ts';

/**
 * Whether the run must have the real server (FERRY_REQUIRE_REAL_TEMPORAL=1, as in CI after the setup
 * script built the CLI, or the real backend asked for by name): then a missing CLI fails the suites
 * instead of leaving the real leg out.
 */
export function realTemporalRequired(): boolean {
  return (
    ['1', 'true'].includes(process.env.FERRY_REQUIRE_REAL_TEMPORAL ?? '') || selectedNames()?.includes('real') === true
  );
}

function selectedNames(): string[] | null {
  const value = process.env.FERRY_TEMPORAL_BACKENDS;
  if (!value) return null;
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) {
    if (name !== 'in-repo' && name !== 'real') throw new Error(`FERRY_TEMPORAL_BACKENDS: unknown backend "${name}"`);
  }
  return names;
}

let absenceReported = false;

/** Says loudly (or, when the real server is required, throws) that a check needing it does not run. */
export function reportMissingRealServer(what: string): void {
  if (realTemporalRequired()) throw new Error(`${what} (the real Temporal server is required here)`);
  if (absenceReported) return;
  absenceReported = true;
  console.warn(`\n${'!'.repeat(100)}\n!! ${what}\n${'!'.repeat(100)}\n`);
}

/**
 * The backends the reference suites run on: those FERRY_TEMPORAL_BACKENDS names, else the in-repo
 * service and the real server when findTemporalCli() finds a CLI. A real server that is wanted but
 * missing is reported (see reportMissingRealServer).
 */
export function availableTemporalBackends(): TemporalBackend[] {
  const names = selectedNames() ?? ['in-repo', 'real'];
  const backends = names.includes('in-repo') ? [inRepoBackend] : [];
  if (!names.includes('real')) return backends;
  if (findTemporalCli()) return [...backends, realBackend];
  reportMissingRealServer(
    'NO REAL TEMPORAL SERVER: the reference leg (temporal server start-dev) does not run. ' +
      'Run `npm run setup:temporal`, put `temporal` on the PATH, or set FERRY_TEMPORAL_CLI.',
  );
  return backends;
}

export const temporalBackends: TemporalBackend[] = availableTemporalBackends();

/**
 * `it` for a test that needs workflow time to jump (hours of timers, minutes of backoff): the test is
 * defined only on a backend with a virtual clock (the in-repo service), never on the real server.
 */
export function itNeedsVirtualTime(backend: TemporalBackend) {
  return (name: string, test: () => Promise<void>, timeoutMs?: number): void => {
    if (backend.skipsTime) it(name, test, timeoutMs);
  };
}

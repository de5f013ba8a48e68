// The capability probe: after a passing test connection, what the target advertises and how it
// really behaves — filters on the matching attributes, paging, boolean strictness and, with
// `writes`, PATCH (standard, value path, the capitalised spelling, string booleans) and PUT on a
// throwaway user. The findings suggest a compatibility profile; nothing changes the app.
import {
  suggestCompatibilityProfile,
  type CompatibilitySuggestion,
} from '../engine/policies/compatibilitySuggestion.ts';
import type { ScimResource } from '../engine/types.ts';
import { readAdvertised, readChecks, type AdvertisedCapabilities, type CapabilityCheck } from './capability-reads.ts';
import { writeChecks, type WriteFindings } from './capability-writes.ts';
import type { ScimClient } from './types.ts';

export type { AdvertisedCapabilities, CapabilityCheck, CheckOutcome } from './capability-reads.ts';

export interface CapabilityReport {
  /** The test connection's answer; the probe stops here when it is not ok. */
  connection: { ok: boolean; reason?: string; message?: string };
  writes: boolean;
  /** What `/ServiceProviderConfig` says; null when the target has none (or an unusable one). */
  advertised: AdvertisedCapabilities | null;
  checks: CapabilityCheck[];
  /** The throwaway user of a writes probe, and whether it is gone again. */
  cleanup: WriteFindings['cleanup'] | null;
  /** Null when the connection failed or the probe stopped. */
  suggestion: CompatibilitySuggestion | null;
  /** Why the probe stopped halfway (the target stopped answering); the throwaway user was still deleted if it could be. */
  error?: string;
}

export interface ProbeOptions {
  /** The app's matching attributes (target paths, e.g. `userName`), in precedence order. */
  matching: readonly string[];
  /** Create, change and delete one inactive throwaway user. */
  writes: boolean;
}

/** The report of a probe whose test connection failed: nothing else was tried. */
export function failedConnectionReport(connection: CapabilityReport['connection'], writes: boolean): CapabilityReport {
  return { connection, writes, advertised: null, checks: [], cleanup: null, suggestion: null };
}

/** Probes a target whose test connection passed (`connection`); any other connection is reported as is. */
export async function probeCapabilities(
  client: ScimClient,
  connection: CapabilityReport['connection'],
  options: ProbeOptions,
): Promise<CapabilityReport> {
  try {
    return await probe(client, connection, options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      connection,
      writes: options.writes,
      advertised: null,
      checks: [],
      cleanup: null,
      suggestion: null,
      error: `The probe stopped: ${message}`,
    };
  }
}

async function probe(
  client: ScimClient,
  connection: CapabilityReport['connection'],
  options: ProbeOptions,
): Promise<CapabilityReport> {
  if (!connection.ok) return failedConnectionReport(connection, options.writes);
  const advertised = await readAdvertised(client);
  let reads: Awaited<ReturnType<typeof readChecks>> = { checks: [], activeIsString: null };
  const runReads = async (sample?: ScimResource) => {
    reads = await readChecks(client, options.matching, sample);
  };
  let writes: WriteFindings | null = null;
  if (options.writes) {
    writes = await writeChecks(client, runReads);
    // The create failed: the reads run on what the target already holds.
    if (!writes.user) await runReads();
  } else {
    await runReads();
  }
  const [create, ...writeRest] = writes?.checks ?? [];
  const checks = [...(create ? [create] : []), ...reads.checks, ...writeRest];
  if (writes?.error) {
    // Half the evidence suggests nothing: report what was learnt and why it stopped.
    return {
      ...failedConnectionReport(connection, options.writes),
      advertised,
      checks,
      cleanup: writes.cleanup,
      error: `The probe stopped: ${writes.error}`,
    };
  }
  const suggestion = suggestCompatibilityProfile({
    patchAdvertised: advertised?.patch ?? null,
    patchWorks: writes?.patchWorks ?? null,
    valuePathWorks: writes?.valuePathWorks ?? null,
    capitalisedOpWorks: writes?.capitalisedOpWorks ?? null,
    stringBooleanWorks: writes?.stringBooleanWorks ?? null,
    putWorks: writes?.putWorks ?? null,
    // The probe's own user was created with a boolean: its type says what the target keeps.
    activeIsString: reads.activeIsString,
  });
  return {
    connection,
    writes: options.writes,
    advertised,
    checks,
    cleanup: writes?.cleanup ?? null,
    suggestion,
  };
}

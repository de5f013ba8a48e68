// One import of one source, recorded as a source run: opens the source's reader, chooses a full or
// an incremental import, runs it and keeps the outcome (counts, staged deletions, the error) in
// source_runs and the source's state. Used by the import activity (activities/source-import.ts).
import { ConfigurationError, PermanentError, publicMessage } from '../engine/errors.ts';
import type { AddressPolicy, Resolver } from '../scim/address-policy.ts';
import type {
  JoinAttribute,
  SourceRecord,
  SourceRunMode,
  SourceRunRecord,
  StagedDeletions,
  Store,
} from '../store/index.ts';
import { folderReader, openCsvReader, readFolderSnapshot, type CsvSourceConfig, type FolderSnapshot } from './csv.ts';
import { openEntraReader, type EntraSourceConfig } from './entra.ts';
import { applyDeletions, importSource, type ImportOutcome } from './import.ts';
import { openLdapReader, type LdapSourceConfig } from './ldap.ts';
import { leaveSourceQuarantine } from './quarantine.ts';
import type { ImportCursor, SourceLogger, SourceReader } from './types.ts';

/** How often a source runs a full import (deletions are only found by one), by default. */
export const DEFAULT_FULL_IMPORT_HOURS = 24;

export interface SourceRunDeps {
  store: Store;
  policy: AddressPolicy;
  resolve?: Resolver;
  now?: () => Date;
  /** Waits on `Retry-After` (entra); tests may stand one in. */
  sleep?: (ms: number) => Promise<void>;
  /** The import activity's attempt: a retried one updates the run its earlier attempts recorded. */
  attempt?: ImportAttempt;
  /** The server log: the whole error of an entry skipped for a reason the run's history cannot name. */
  logger?: SourceLogger;
}

export interface ImportAttempt {
  /** 1 for the first attempt. */
  number: number;
  /** The run an earlier attempt of the same activity recorded (null: none known). */
  runId: number | null;
  /** Told the run's id as soon as there is one, so a retry can find it. */
  onRun(runId: number): void;
}

/** The run this import records: the earlier attempt's, running again, or a new one. */
async function openRun(deps: SourceRunDeps, sourceId: string, mode: SourceRunMode): Promise<SourceRunRecord> {
  const { attempt } = deps;
  const retried =
    attempt && attempt.number > 1 && attempt.runId !== null
      ? await deps.store.sources.retryRun(attempt.runId, sourceId, mode, attempt.number)
      : null;
  const run = retried ?? (await deps.store.sources.beginRun(sourceId, mode));
  attempt?.onRun(run.id);
  return run;
}

/** `auto`: full when none ran yet, the source cannot read changes, or the last full one is older than fullImportHours. */
export type SourceRunRequest = SourceRunMode | 'auto';

export async function openReader(deps: SourceRunDeps, source: SourceRecord): Promise<SourceReader> {
  if (source.type === 'ldap') {
    return openLdapReader({
      config: source.config as unknown as LdapSourceConfig,
      bindPassword: await deps.store.sources.getSecret(source.id),
      policy: deps.policy,
      resolve: deps.resolve,
    });
  }
  if (source.type === 'entra') {
    return openEntraReader({
      sourceId: source.id,
      config: source.config as unknown as EntraSourceConfig,
      clientSecret: await deps.store.sources.getSecret(source.id),
      policy: deps.policy,
      resolve: deps.resolve,
      sleep: deps.sleep,
    });
  }
  if (source.type === 'scim') {
    throw new ConfigurationError(
      `Source ${source.id} is a scim source: identity providers push to it; it has nothing to import`,
      {
        code: 'BadRequest',
      },
    );
  }
  return openCsvReader(source.config as unknown as CsvSourceConfig, () => deps.store.sources.latestSnapshot(source.id));
}

function chooseMode(source: SourceRecord, reader: SourceReader, request: SourceRunRequest, now: Date): SourceRunMode {
  if (request === 'full' || !reader.incremental || !source.state.highWater || !source.state.lastFullImportAt) {
    return 'full';
  }
  if (request === 'incremental') return 'incremental';
  const hours = Number(source.config.fullImportHours ?? DEFAULT_FULL_IMPORT_HOURS);
  const age = now.getTime() - Date.parse(source.state.lastFullImportAt);
  return age >= hours * 3_600_000 ? 'full' : 'incremental';
}

/** An error's message for the run's history: typed errors' own text; anything else by its name only. */
const runError = (error: unknown): string =>
  publicMessage(error, `${error instanceof Error ? error.name : 'Error'} during the import`);

/**
 * Runs one import and records it. A failed import is recorded (status `failed`, the error's
 * message, which never holds the secret) and its error rethrown for the caller to retry or not.
 */
export async function runSourceImport(
  deps: SourceRunDeps,
  sourceId: string,
  request: SourceRunRequest = 'auto',
  onProgress?: (cursor: ImportCursor) => void,
): Promise<SourceRunRecord> {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const source = await store.sources.require(sourceId);
  let reader: SourceReader | null = null;
  let run: SourceRunRecord | null = null;
  try {
    let folderFile: FolderSnapshot['file'] | null = null;
    if (source.type === 'csv' && source.config.origin === 'folder') {
      const snapshot = await readFolderSnapshot(source.config as CsvSourceConfig, now());
      const last = source.state.folderFile;
      if (last && last.name === snapshot.file.name && last.sha256 === snapshot.file.sha256) {
        return await recordNothingNew(deps, sourceId, snapshot.file);
      }
      reader = folderReader(snapshot, source.config as CsvSourceConfig);
      folderFile = snapshot.file;
    } else reader = await openReader(deps, source);
    const mode = chooseMode(source, reader, request, now());
    run = await openRun(deps, sourceId, mode);
    const startedAt = now().toISOString();
    const outcome = await importSource(
      {
        store,
        sourceId,
        reader,
        mode,
        since: mode === 'incremental' ? (source.state.highWater ?? null) : null,
        deletionThresholdPercent: source.config.deletionThresholdPercent as number | undefined,
        joinOn: source.config.joinOn as JoinAttribute | undefined,
        onProgress,
        logger: deps.logger,
      },
      run.id,
    );
    const recorded = await record(store, source, run, outcome, startedAt);
    if (folderFile) await store.sources.setState(sourceId, { folderFile: { ...folderFile, importedAt: startedAt } });
    return recorded;
  } catch (error) {
    const message = runError(error);
    if (!run) run = await openRun(deps, sourceId, 'full');
    // An Entra deltaLink Graph no longer knows: forget it, so the next import starts a new round (a full one).
    if (source.type === 'entra' && error instanceof PermanentError && error.status === 410)
      await store.sources.setState(sourceId, { highWater: null });
    const zero = { created: 0, updated: 0, deleted: 0, unchanged: 0, stagedDeletions: 0 };
    await store.sources.finishRun(run.id, { status: 'failed', counts: zero, error: message });
    throw error;
  } finally {
    await reader?.close();
  }
}

/** A watched folder whose newest file was imported already: a run that changes nothing, saying so. */
async function recordNothingNew(
  deps: SourceRunDeps,
  sourceId: string,
  file: FolderSnapshot['file'],
): Promise<SourceRunRecord> {
  const { store } = deps;
  const run = await openRun(deps, sourceId, 'full');
  await leaveSourceQuarantine(store, sourceId, 'import');
  return store.sources.finishRun(run.id, {
    status: 'succeeded',
    counts: { created: 0, updated: 0, deleted: 0, unchanged: 0, stagedDeletions: 0 },
    error: `No new file in the watched folder: ${file.name} (sha256 ${file.sha256.slice(0, 12)}…) was imported already`,
  });
}

async function record(
  store: Store,
  source: SourceRecord,
  run: SourceRunRecord,
  outcome: ImportOutcome,
  startedAt: string,
): Promise<SourceRunRecord> {
  const full = run.mode === 'full';
  await store.sources.setState(source.id, {
    highWater: outcome.highWater ?? source.state.highWater ?? null,
    ...(full ? { lastFullImportAt: startedAt, stagedDeletions: outcome.staged } : {}),
    // Removals a delta reported are not reported again: staged ones are kept, added to any staged before.
    ...(!full && outcome.staged ? { stagedDeletions: mergeStaged(source.state.stagedDeletions, outcome.staged) } : {}),
  });
  // An import that worked ends a quarantine (the workflow, deciding the same, imports on its cadence again).
  await leaveSourceQuarantine(store, source.id, 'import');
  const skipped = outcome.skipped.length;
  const error = skipped
    ? `${skipped} entr${skipped === 1 ? 'y' : 'ies'} skipped: ${outcome.skipped.slice(0, 5).join('; ')}`
    : null;
  return store.sources.finishRun(run.id, {
    status: outcome.staged ? 'needsApproval' : 'succeeded',
    counts: outcome.counts,
    error,
  });
}

/** Staged deletions of an incremental import added to those still waiting for approval. */
function mergeStaged(before: StagedDeletions | null | undefined, added: StagedDeletions): StagedDeletions {
  if (!before) return added;
  return {
    runId: added.runId,
    users: [...new Set([...before.users, ...added.users])],
    groups: [...new Set([...before.groups, ...added.groups])],
  };
}

/** Applies the deletions the last full import staged; returns how many objects it soft-deleted (0: none staged). */
export async function approveStagedDeletions(store: Store, sourceId: string): Promise<number> {
  const source = await store.sources.require(sourceId);
  const staged = source.state.stagedDeletions;
  if (!staged) return 0;
  const { deleted } = await applyDeletions(store, sourceId, staged);
  await store.sources.setState(sourceId, { stagedDeletions: null });
  return deleted;
}

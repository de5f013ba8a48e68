// The source import activity: one import of one source (sources/run.ts), heartbeating its page
// cursor. A deleted or disabled source answers `gone`/`disabled` (the workflow ends or waits);
// a refused bind or a bad setting is a ConfigurationError (not retried). `quarantineSource` writes
// the workflow's quarantine decision to the source's state with its webhook event (idempotent: the
// same write again, and the event only when the source was not quarantined yet; nothing once that
// decision's quarantine ended, so a retry after a release does not quarantine again).
import { Context } from '@temporalio/activity';
import type { AddressPolicy, Resolver } from '../scim/address-policy.ts';
import type { Store } from '../store/index.ts';
import { enterSourceQuarantine } from '../sources/quarantine.ts';
import { runSourceImport, type ImportAttempt, type SourceRunRequest } from '../sources/run.ts';
import type { ImportCursor } from '../sources/types.ts';
import type { ActivityLogger } from './deps.ts';
import { toActivityFailure } from './failures.ts';

export interface SourceImportResult {
  outcome: 'imported' | 'failed' | 'gone' | 'disabled';
  /** Minutes until the next import (the source's intervalMinutes, default 60). */
  intervalMinutes: number;
  runId: number | null;
}

export interface QuarantineSourceInput {
  sourceId: string;
  /** The last failure's code (from the activity failure's details). */
  code: string;
  failures: number;
  failingSince: string;
  /** The workflow's clock when it decided. */
  since: string;
}

export interface SourceActivities {
  importSource(input: { sourceId: string; mode: SourceRunRequest }): Promise<SourceImportResult>;
  /** Records the workflow's decision to quarantine the source, with the last run's error, so the API shows it. */
  quarantineSource(input: QuarantineSourceInput): Promise<void>;
}

export const DEFAULT_SOURCE_INTERVAL_MINUTES = 60;

/**
 * This attempt of the activity, and its heartbeat: every heartbeat carries the run's id, so a
 * retried attempt reads it from the last heartbeat details and updates that run instead of
 * recording one more (one failed import with 3 attempts is one run, `attempts: 3`).
 */
function importAttempt(): { attempt: ImportAttempt; heartbeat: (cursor: ImportCursor) => void } {
  const info = Context.current().info;
  const earlier = (info.heartbeatDetails as { runId?: unknown } | undefined)?.runId;
  let runId: number | null = typeof earlier === 'number' ? earlier : null;
  const attempt: ImportAttempt = {
    number: info.attempt,
    runId,
    onRun(id) {
      runId = id;
      Context.current().heartbeat({ runId });
    },
  };
  return { attempt, heartbeat: (cursor) => Context.current().heartbeat({ runId, ...cursor }) };
}

export function createSourceActivities(deps: {
  store: Store;
  policy: AddressPolicy;
  resolve?: Resolver;
  /** The worker's log (an entry skipped for an unclassified reason is written there in full). */
  logger?: ActivityLogger;
}): SourceActivities {
  return {
    async importSource({ sourceId, mode }) {
      const source = await deps.store.sources.get(sourceId);
      if (!source) return { outcome: 'gone', intervalMinutes: DEFAULT_SOURCE_INTERVAL_MINUTES, runId: null };
      const intervalMinutes = Number(source.config.intervalMinutes ?? DEFAULT_SOURCE_INTERVAL_MINUTES);
      if (!source.enabled) return { outcome: 'disabled', intervalMinutes, runId: null };
      try {
        const { attempt, heartbeat } = importAttempt();
        const run = await runSourceImport({ ...deps, attempt }, sourceId, mode, heartbeat);
        return { outcome: 'imported', intervalMinutes, runId: run.id };
      } catch (error) {
        throw toActivityFailure(error);
      }
    },

    async quarantineSource({ sourceId, code, failures, failingSince, since }) {
      const source = await deps.store.sources.get(sourceId);
      if (!source) return;
      // The run's error is the one written for people (typed errors' own text, never a secret).
      const [last] = await deps.store.sources.runs(sourceId, { limit: 1 });
      const message = last?.status === 'failed' && last.error ? last.error : 'The last import failed';
      await enterSourceQuarantine(deps.store, sourceId, { since, failingSince, failures, code, message });
    },
  };
}

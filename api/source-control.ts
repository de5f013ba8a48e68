// What the API needs from a source's workflow `source:<sourceId>`: start it (create, enable),
// stop it (delete), ask it to import now. Implemented over Temporal in source-temporal.ts; tests
// may run the import in process instead.
import type { SourceSyncMode } from '../workflows/messages.ts';

export type { SourceSyncMode };

export interface SourceControl {
  /**
   * Starts the source's workflow if it is not running (it runs a full import at start). With
   * `quarantined` it starts in quarantine instead: no import until resume or a manual sync.
   */
  ensure(sourceId: string, options?: { quarantined?: boolean }): Promise<void>;
  /** Ends the source's workflow (the source is deleted or disabled); not running is no error. */
  stop(sourceId: string): Promise<void>;
  /** Asks the workflow to import now (starting it if needed). */
  syncNow(sourceId: string, mode: SourceSyncMode): Promise<void>;
  /** Releases the workflow from quarantine (and un-pauses it): it imports at once. Starts it if needed. */
  resume(sourceId: string): Promise<void>;
}

/**
 * At process start and on the API's periodic ensure: starts the workflow of every enabled source
 * that has none running (a Temporal service that lost its workflows gets them back), in quarantine
 * where the stored state says so — a lost workflow must not bring a quarantined source back to its
 * cadence. Returns how many.
 */
export async function ensureSourceWorkflows(
  store: {
    sources: {
      list(): Promise<{ id: string; enabled: boolean; type: string; state: { quarantine?: unknown } }[]>;
    };
  },
  control: SourceControl,
): Promise<number> {
  // A scim source has no workflow: identity providers push to it.
  const enabled = (await store.sources.list()).filter((s) => s.enabled && s.type !== 'scim');
  for (const source of enabled) await control.ensure(source.id, { quarantined: Boolean(source.state.quarantine) });
  return enabled.length;
}

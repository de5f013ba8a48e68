// What the activities need from the outside world. workers/ builds it from the environment; tests
// build it with a real store, a real SCIM peer and an in-process SMTP server.
import type { Store } from '../store/index.ts';
import type { ScimClient, ScimClientOptions } from '../scim/index.ts';

export interface Mailer {
  /** Sends one e-mail; `messageId` is stable per notification so a resend is recognisable. */
  send(message: { to: string; subject: string; text: string; messageId: string }): Promise<void>;
}

export interface ActivityLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface ActivityDeps {
  store: Store;
  /** Builds the SCIM client of one app; the activities cache one per app and configuration. */
  createScimClient?: (options: ScimClientOptions) => ScimClient;
  /** Plain http to 127.0.0.1 targets (tests, demo, bench). */
  allowInsecureLoopback?: boolean;
  mailer?: Mailer | null;
  now?: () => Date;
  logger?: ActivityLogger;
  /** Initial cycles list the whole target once and match in memory when at least this many objects are unlinked (default 50). */
  bulkMatchThreshold?: number;
  /** Objects exported at once within a batch (default: the app's concurrency setting). */
  exportConcurrency?: number;
  /** How long one processBatch call keeps starting pages of `batchSize` (default 2 s; 0 = one page per call). */
  batchTimeBudgetMs?: number;
  /** How often a processBatch call heartbeats besides its chunk writes (default 10 s). */
  heartbeatIntervalMs?: number;
  /** How long a cycle or on-demand request waits for an object held by the other (default 30 s). */
  lockWaitMs?: number;
}

export const silentLogger: ActivityLogger = { info: () => {}, warn: () => {}, error: () => {} };

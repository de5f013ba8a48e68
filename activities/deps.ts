// What the activities need from the outside world. workers/ builds it from the environment; tests
// build it with a real store, a real SCIM peer and an in-process SMTP server.
import type { Store } from '../store/index.ts';
import type { NetworkRange, Resolver, ScimClient, ScimClientOptions } from '../scim/index.ts';
import type { FerryMetrics } from '../telemetry/metrics.ts';

export interface Mailer {
  /** Sends one e-mail; `messageId` is stable per notification so a resend is recognisable. */
  send(message: { to: string; subject: string; text: string; messageId: string }): Promise<void>;
}

export interface ActivityLogger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger for one module (its own level, FERRY_LOG_LEVELS); absent = this one. */
  child?(module: string): ActivityLogger;
}

export interface ActivityDeps {
  store: Store;
  /** Builds the SCIM client of one app; the activities cache one per app and configuration. */
  createScimClient?: (options: ScimClientOptions) => ScimClient;
  /** Loopback targets, also over plain http (FERRY_ALLOW_INSECURE_LOOPBACK: tests, demo, bench). */
  allowInsecureLoopback?: boolean;
  /** Networks targets may be in besides public addresses (FERRY_ALLOWED_TARGET_NETWORKS). */
  allowedTargetNetworks?: readonly NetworkRange[];
  /** Name resolution for target connections (tests stand one in); default the system's. */
  resolve?: Resolver;
  mailer?: Mailer | null;
  now?: () => Date;
  logger?: ActivityLogger;
  /** Prometheus metrics (telemetry/metrics.ts); absent = none recorded. */
  metrics?: FerryMetrics | null;
  /**
   * Share each app's rate limit and Retry-After pauses with the other worker processes through the
   * database (default: on Postgres, off on embedded PGlite, where only one process can run).
   */
  sharedRateLimit?: boolean;
  /** Initial cycles list the whole target once and match in memory when at least this many objects are unlinked (default 50). */
  bulkMatchThreshold?: number;
  /** Accounts asked for per request when an initial cycle lists the target (default 1,000). */
  listingPageSize?: number;
  /** Objects exported at once within a batch (default: twice the app's concurrency setting). */
  exportConcurrency?: number;
  /** How long one processBatch call keeps starting pages of `batchSize` (default 2 s; 0 = one page per call). */
  batchTimeBudgetMs?: number;
  /**
   * A page holds what the app's rate limit lets through in about this many seconds: objects for
   * users, estimated requests (members count) for groups (default 60).
   */
  pageSecondsAtRateLimit?: number;
  /** How often a processBatch call heartbeats besides its chunk writes (default 10 s). */
  heartbeatIntervalMs?: number;
  /** How long a cycle or on-demand request waits for an object held by the other (default 30 s). */
  lockWaitMs?: number;
}

export const silentLogger: ActivityLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** The logger of one module, e.g. `moduleLogger(deps.logger, 'cycle')`. */
export function moduleLogger(logger: ActivityLogger | undefined, module: string): ActivityLogger {
  if (!logger) return silentLogger;
  return logger.child ? logger.child(module) : logger;
}

// openStore: the one entry point to Ferry's database. The same repositories run on PGlite
// (embedded: a directory, or in memory) and on Postgres (node-postgres pool) when a URL is given.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { ApiKeyRepository } from './api-keys.ts';
import { AppProbeRepository } from './app-probes.ts';
import { AppRepository } from './apps.ts';
import { AssignmentRepository } from './assignments.ts';
import { AuditRepository } from './audit.ts';
import { ChangeRepository } from './changes.ts';
import { SecretBox } from './crypto.ts';
import { CycleWorkRepository } from './cycle-work.ts';
import { CycleRepository } from './cycles.ts';
import type { Executor } from './db.ts';
import { DirectoryRepository } from './directory.ts';
import { KeyValueRepository } from './key-values.ts';
import { LinkRepository } from './links.ts';
import { LogRepository } from './logs.ts';
import { ObjectLockRepository } from './object-locks.ts';
import { OnDemandProgressRepository } from './on-demand-progress.ts';
import { PreviewRepository } from './previews.ts';
import { RateSlotRepository } from './rate-slots.ts';
import { ReconcileRepository } from './reconcile.ts';
import { RetentionRepository } from './retention.ts';
import { SourceRepository } from './sources.ts';
import { TargetListingRepository } from './target-listings.ts';
import { migrate } from './migrate.ts';
import { WebhookRepository } from './webhooks.ts';

export interface StoreOptions {
  /** Postgres URL; when omitted, PGlite is used. */
  databaseUrl?: string;
  /** PGlite data directory (e.g. `./.ferry/db`); omitted = in memory. Ignored with `databaseUrl`. */
  dataDir?: string;
  /** 32-byte key (hex or base64) that encrypts app secrets at rest. */
  encryptionKey: string;
  /** node-postgres pool size (default 10). */
  poolSize?: number;
}

/** Every repository, bound to the database or to one transaction. */
export interface Repositories {
  directory: DirectoryRepository;
  changes: ChangeRepository;
  apps: AppRepository;
  assignments: AssignmentRepository;
  links: LinkRepository;
  cycles: CycleRepository;
  cycleWork: CycleWorkRepository;
  logs: LogRepository;
  keyValues: KeyValueRepository;
  onDemandProgress: OnDemandProgressRepository;
  apiKeys: ApiKeyRepository;
  audit: AuditRepository;
  retention: RetentionRepository;
  objectLocks: ObjectLockRepository;
  sources: SourceRepository;
  webhooks: WebhookRepository;
  targetListings: TargetListingRepository;
  previews: PreviewRepository;
  rateSlots: RateSlotRepository;
  appProbes: AppProbeRepository;
  reconcile: ReconcileRepository;
}

export interface Store extends Repositories {
  readonly backend: 'pglite' | 'postgres';
  /** The drizzle handle, for what the repositories do not cover. */
  readonly db: Executor;
  /** Applies pending migrations (idempotent; concurrent callers wait on an advisory lock). Returns the tags applied. */
  migrate(): Promise<string[]>;
  /** Runs `fn` in one transaction: every repository call on `tx` commits or rolls back together. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function repositories(db: Executor, box: SecretBox): Repositories {
  return {
    directory: new DirectoryRepository(db),
    changes: new ChangeRepository(db),
    apps: new AppRepository(db, box),
    assignments: new AssignmentRepository(db),
    links: new LinkRepository(db),
    cycles: new CycleRepository(db),
    cycleWork: new CycleWorkRepository(db),
    logs: new LogRepository(db),
    keyValues: new KeyValueRepository(db),
    onDemandProgress: new OnDemandProgressRepository(new KeyValueRepository(db)),
    apiKeys: new ApiKeyRepository(db),
    audit: new AuditRepository(db),
    retention: new RetentionRepository(db),
    objectLocks: new ObjectLockRepository(db),
    sources: new SourceRepository(db, box),
    webhooks: new WebhookRepository(db, box),
    targetListings: new TargetListingRepository(db),
    previews: new PreviewRepository(db),
    rateSlots: new RateSlotRepository(db),
    appProbes: new AppProbeRepository(db),
    reconcile: new ReconcileRepository(db),
  };
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const box = new SecretBox(options.encryptionKey);
  let db: Executor;
  let close: () => Promise<void>;
  let backend: Store['backend'];
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    db = drizzlePg(pool);
    close = () => pool.end();
    backend = 'postgres';
  } else {
    // PGlite creates the data directory itself but not its parents (e.g. `./.ferry/`).
    if (options.dataDir) mkdirSync(dirname(resolve(options.dataDir)), { recursive: true });
    const client = await PGlite.create(options.dataDir);
    db = drizzlePglite(client);
    close = () => client.close();
    backend = 'pglite';
  }
  let closed = false;
  return {
    ...repositories(db, box),
    backend,
    db,
    migrate: () => migrate(db),
    transaction: (fn) => db.transaction((tx) => fn(repositories(tx, box))),
    close: async () => {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}

export { generateEncryptionKey, parseEncryptionKey, SecretBox } from './crypto.ts';
export { logEntryId } from './logs.ts';
export {
  ON_DEMAND_PROGRESS_NAMESPACE,
  type OnDemandProgress,
  type OnDemandProgressStep,
} from './on-demand-progress.ts';
export { API_KEY_PREFIX, API_KEY_ROLES, generateApiKey, hashApiKey } from './api-keys.ts';
export { auditOutcome, DEFAULT_AUDIT_RETENTION_DAYS } from './audit.ts';
export { AUDIT_CSV_COLUMNS, auditToCsv, logsToCsv, LOG_CSV_COLUMNS } from './logs-csv.ts';
export { DEFAULT_ROLE } from './assignments.ts';
export { EMPTY_COUNTS } from './cycles.ts';
export { JOIN_ATTRIBUTES, SNAPSHOTS_KEPT } from './sources.ts';
export type { ApiKeyRecord, ApiKeyRole } from './api-keys.ts';
export type { AuditEntry, AuditEntryInput, AuditOutcome, AuditQuery } from './audit.ts';
export { DELETED_APP_LOGS_NAMESPACE, type DeletedAppLogs } from './retention.ts';
export type { AppRecord, AppSecrets, AppUpdate, NewApp } from './apps.ts';
export type { AppProbeRecord, AppProbeRepository } from './app-probes.ts';
export type { LockHolder } from './object-locks.ts';
export type { ListedAccount, TargetListingProgress } from './target-listings.ts';
export type { EffectiveAssignment, ObjectAssignment } from './assignments.ts';
export type { ChangeOp, DirectoryChange } from './changes.ts';
export type { BatchQuery, StagedDelete, StageItem, WorkItem, WorkStatus } from './cycle-work.ts';
export type { CycleRecord, CycleStatus, CycleUpdate, NewCycle } from './cycles.ts';
export type { DeletedFilter, GroupInput, GroupPatch, ListOptions, Page, UserInput, UserPatch } from './directory.ts';
export type { LinkFailure, LinkKey, LinkRecord, LinkTarget, LinkUpsert } from './links.ts';
export type { LogQuery } from './logs.ts';
export type { RateSlotRun, RateSlotRepository } from './rate-slots.ts';
export type {
  DriftFinding,
  DriftFindingRecord,
  DriftKind,
  DriftOutcome,
  ReconcileMode,
  ReconcilePassRecord,
  ReconcilePassStatus,
  ReconcileRepository,
} from './reconcile.ts';
export type { PreviewItem, PreviewRecord, PreviewRepository, PreviewStatus } from './previews.ts';
export type {
  JoinAttribute,
  NewSource,
  FolderFile,
  SourceCounts,
  SourceQuarantine,
  SourceRecord,
  SourceRunMode,
  SourceRunRecord,
  SourceRunStatus,
  SourceSnapshot,
  SourceState,
  SourceType,
  SourceUpdate,
  StagedDeletions,
} from './sources.ts';
export type {
  ApiKeyRepository,
  AppRepository,
  AuditRepository,
  AssignmentRepository,
  ChangeRepository,
  CycleRepository,
  CycleWorkRepository,
  DirectoryRepository,
  KeyValueRepository,
  LinkRepository,
  LogRepository,
  SourceRepository,
};

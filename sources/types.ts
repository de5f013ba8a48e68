// What every source type hands the import (sources/import.ts): pages of users and groups, each
// with its stable id in the source and its reference (what members and managers point at).
import type { GroupInput, UserInput } from '../store/index.ts';

export interface SourceUser {
  /** Stable id in the source (entryUUID, objectGUID, a CSV key column). */
  externalId: string;
  /** What other entries point at (an LDAP DN, normalised; a CSV key). */
  ref: string;
  user: Omit<UserInput, 'id' | 'managerId'>;
  /**
   * The manager's reference in the source (an LDAP `manager` DN, normalised); null: no manager.
   * Absent (undefined): the source did not say (an incremental Graph delta), the stored manager stays.
   */
  managerRef?: string | null;
}

export interface SourceGroup {
  externalId: string;
  ref: string;
  group: Omit<GroupInput, 'id'>;
}

/**
 * A group's members as references, read after every user and group of the import is written.
 * By default `memberRefs` is the whole member list; `partial` (a delta) means `memberRefs` were
 * added and `removedRefs` removed, and other members stay.
 */
export interface SourceMembers {
  externalId: string;
  memberRefs: string[];
  partial?: boolean;
  removedRefs?: string[];
}

/** Where an import logs what it cannot say in the run's history (the server log; api/logger.ts and the activities' loggers fit). */
export interface SourceLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Where the import is: sent as the activity's heartbeat (a paged search restarts on retry). */
export interface ImportCursor {
  phase: 'users' | 'groups' | 'members' | 'deletions';
  /** Entries of the phase processed so far. */
  processed: number;
}

/**
 * One open connection to a source. `since` (the source's own change marker) limits the read to
 * entries changed since then (incremental import); absent = everything (full import).
 */
export interface SourceReader {
  users(since: string | null): AsyncIterable<SourceUser[]>;
  groups(since: string | null): AsyncIterable<SourceGroup[]>;
  members(since: string | null): AsyncIterable<SourceMembers[]>;
  /**
   * Objects the source said were deleted (by their stable id), read after members; soft-deleted in
   * any mode. Only sources that report deletions have it (Graph `@removed`).
   */
  removed?(): { users: string[]; groups: string[] };
  /** The highest change marker seen by this reader (null: the source has none). */
  highWater(): string | null;
  /** Whether the source can read only what changed (LDAP: yes; a file: no). */
  readonly incremental: boolean;
  close(): Promise<void>;
}

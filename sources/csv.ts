// The CSV-file source: a snapshot of people (an HR export) with a header row, read from a path the
// worker can read, or (origin `upload`) the newest snapshot uploaded through the API and kept in the
// database (CSV text, or a JSON array of row objects with the same column names). Each row is a user; a column map names which column feeds which attribute. A
// file has no change marker, so every import is a full import (rows absent are deleted, under the
// deletion threshold). The whole file is parsed at once: meant for HR exports, not for millions.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { csvObjects, CsvSyntaxError } from '../engine/csv.ts';
import { ConfigurationError, TransientError } from '../engine/errors.ts';
import type { SourceReader, SourceUser } from './types.ts';

/** Attributes a column can feed. `id` (the stable key) and `userPrincipalName` are required. */
export const CSV_ATTRIBUTES = [
  'id',
  'userPrincipalName',
  'mail',
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'companyName',
  'employeeId',
  'mobilePhone',
  'officeLocation',
  'city',
  'country',
  'accountEnabled',
] as const;
export type CsvAttribute = (typeof CSV_ATTRIBUTES)[number];

/**
 * Where a csv source's rows come from: a file on the worker's machine, snapshots uploaded through
 * the API, or the newest complete file of a folder on the worker's machine.
 */
export type CsvOrigin = 'path' | 'upload' | 'folder';

/** Seconds a watched folder's file must stay unmodified to count as completely written, by default. */
export const DEFAULT_SETTLE_SECONDS = 30;

export interface CsvSourceConfig {
  /** Default `path`. */
  origin?: CsvOrigin;
  /** Path of the file on the worker's machine (origin `path`). */
  path?: string;
  /** Directory on the worker's machine (origin `folder`). */
  folder?: string;
  /** Origin `folder`: a file unmodified this long counts as complete (default 30). */
  settleSeconds?: number;
  /** Attribute → column name; an attribute not named reads the column of its own name, if any. */
  columns?: Partial<Record<CsvAttribute, string>>;
  /** Rows per page written at once (default 500). */
  pageSize?: number;
}

/** How an uploaded snapshot was sent: CSV text, or a JSON array of row objects with the same column names. */
export type SnapshotFormat = 'csv' | 'json';

/** What the import needs of the newest uploaded snapshot (null: none uploaded yet). */
export type SnapshotLoader = () => Promise<{ format: SnapshotFormat; content: string } | null>;

/** A snapshot that cannot be read: `place` is `line N` (CSV, the header is line 1) or `row N` (JSON, 1-based). */
export class SnapshotError extends Error {
  constructor(
    readonly place: string,
    readonly problem: string,
  ) {
    super(`${place}: ${problem}`);
    this.name = 'SnapshotError';
  }
}

interface Table {
  /** CSV: the header row; JSON: null (each row names its own columns). */
  header: string[] | null;
  rows: { place: string; cells: Record<string, string>; extra: boolean }[];
}

function csvTable(text: string): Table {
  let parsed: ReturnType<typeof csvObjects>;
  try {
    parsed = csvObjects(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError)
      throw new SnapshotError(`line ${error.line}`, error.message.replace(/^line \d+: /, ''));
    throw error;
  }
  return {
    header: parsed.header,
    rows: parsed.rows.map((r) => ({ place: `line ${r.line}`, cells: r.cells, extra: r.extra })),
  };
}

/** The line of a JSON.parse error's `position N`, if it names one. */
function jsonErrorPlace(text: string, error: unknown): string {
  const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
  if (position === undefined) return '(body)';
  return `line ${text.slice(0, Number(position)).split('\n').length}`;
}

/** A JSON array of objects whose values are strings, numbers, booleans or null (null = empty cell). */
function jsonTable(text: string): Table {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError(
      jsonErrorPlace(text, error),
      `not valid JSON (${error instanceof Error ? error.message : 'unreadable'})`,
    );
  }
  if (!Array.isArray(value)) throw new SnapshotError('(body)', 'a JSON snapshot is an array of row objects');
  return {
    header: null,
    rows: value.map((row: unknown, index) => {
      const place = `row ${index + 1}`;
      if (row === null || typeof row !== 'object' || Array.isArray(row))
        throw new SnapshotError(place, 'not an object');
      const cells: Record<string, string> = {};
      for (const [column, cell] of Object.entries(row)) {
        if (cell !== null && typeof cell === 'object') {
          throw new SnapshotError(
            place,
            `column ${column} holds an object or array (give a string, number, boolean or null)`,
          );
        }
        cells[column] = cell === null ? '' : String(cell);
      }
      return { place, cells, extra: false };
    }),
  };
}

const columnsOf = (config: CsvSourceConfig) =>
  Object.fromEntries(CSV_ATTRIBUTES.map((a) => [a, config.columns?.[a] ?? a])) as Record<CsvAttribute, string>;

const FALSE_WORDS = new Set(['false', '0', 'no', 'disabled', 'inactive']);

function toUser(cells: Record<string, string>, columns: Record<CsvAttribute, string>): SourceUser | null {
  const cell = (attribute: CsvAttribute): string | null => {
    const value = cells[columns[attribute]]?.trim();
    return value ? value : null;
  };
  const id = cell('id');
  const userPrincipalName = cell('userPrincipalName');
  if (!id || !userPrincipalName) return null;
  const enabled = cell('accountEnabled');
  return {
    externalId: id,
    ref: id,
    user: {
      userPrincipalName,
      mail: cell('mail'),
      displayName: cell('displayName'),
      givenName: cell('givenName'),
      surname: cell('surname'),
      jobTitle: cell('jobTitle'),
      department: cell('department'),
      companyName: cell('companyName'),
      employeeId: cell('employeeId'),
      mobilePhone: cell('mobilePhone'),
      officeLocation: cell('officeLocation'),
      city: cell('city'),
      country: cell('country'),
      accountEnabled: enabled === null ? true : !FALSE_WORDS.has(enabled.toLowerCase()),
    },
  };
}

/**
 * The users of a table. `strict` (uploads) refuses, naming the line or row, a row with more cells
 * than the header, without an id or userPrincipalName, or repeating an id: a row skipped there
 * would soft-delete its person. Not strict (a file at a path), such rows are skipped as before.
 */
function usersOf(table: Table, columns: Record<CsvAttribute, string>, strict: boolean): SourceUser[] {
  if (table.header) {
    for (const required of ['id', 'userPrincipalName'] as const) {
      if (!table.header.includes(columns[required])) {
        throw new SnapshotError('line 1', `no column ${columns[required]} (for ${required})`);
      }
    }
  }
  const users: SourceUser[] = [];
  const seen = new Map<string, string>();
  for (const row of table.rows) {
    if (strict && row.extra) throw new SnapshotError(row.place, 'more cells than the header has columns');
    const user = toUser(row.cells, columns);
    if (!user) {
      if (!strict) continue;
      const missing = (['id', 'userPrincipalName'] as const).find((a) => !row.cells[columns[a]]?.trim())!;
      throw new SnapshotError(row.place, `no value for ${missing} (column ${columns[missing]})`);
    }
    if (strict) {
      const before = seen.get(user.externalId);
      if (before !== undefined) throw new SnapshotError(row.place, `id ${user.externalId} repeats ${before}`);
      seen.set(user.externalId, row.place);
    }
    users.push(user);
  }
  return users;
}

/** Parses an uploaded snapshot as the import will read it; a SnapshotError names the line or row at fault. */
export function parseSnapshot(format: SnapshotFormat, text: string, config: CsvSourceConfig): SourceUser[] {
  const table = format === 'csv' ? csvTable(text) : jsonTable(text);
  if (format === 'csv' && !table.header?.length) throw new SnapshotError('line 1', 'no header row');
  return usersOf(table, columnsOf(config), true);
}

export function pagedReader(users: SourceUser[], pageSize: number): SourceReader {
  return {
    incremental: false,
    async *users() {
      for (let i = 0; i < users.length; i += pageSize) yield users.slice(i, i + pageSize);
    },
    async *groups() {},
    async *members() {},
    highWater: () => null,
    close: async () => {},
  };
}

async function readPath(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new ConfigurationError(`The CSV source file ${path} cannot be read (${String(code)}).`, {
        code: 'Unknown',
        cause: error,
      });
    }
    throw new TransientError(`Reading the CSV source file ${path} failed.`, { code: 'Unknown', cause: error });
  }
}

/**
 * Reads and parses the file at `path`, or (origin `upload`) the newest uploaded snapshot. A file or
 * snapshot that cannot be read (a missing id or userPrincipalName column, say), or an upload
 * source without a snapshot yet, is a ConfigurationError.
 */
export async function openCsvReader(config: CsvSourceConfig, latestSnapshot?: SnapshotLoader): Promise<SourceReader> {
  const pageSize = config.pageSize ?? 500;
  if (config.origin === 'upload') {
    const snapshot = latestSnapshot ? await latestSnapshot() : null;
    if (!snapshot) {
      throw new ConfigurationError('No snapshot has been uploaded to this source yet (POST …/snapshots).', {
        code: 'MandatoryFieldsMissing',
      });
    }
    try {
      return pagedReader(parseSnapshot(snapshot.format, snapshot.content, config), pageSize);
    } catch (error) {
      if (!(error instanceof SnapshotError)) throw error;
      throw new ConfigurationError(`The uploaded snapshot: ${error.message}`, { code: 'Unknown' });
    }
  }
  const path = config.path ?? '';
  const text = await readPath(path);
  try {
    return pagedReader(usersOf(csvTable(text), columnsOf(config), false), pageSize);
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    const code = error.place === 'line 1' ? 'MandatoryFieldsMissing' : 'Unknown';
    throw new ConfigurationError(`The CSV source file ${path}: ${error.message}`, { code });
  }
}

/** The file of a watched folder an import takes, read whole. */
export interface FolderSnapshot {
  file: { name: string; size: number; sha256: string; modifiedAt: string };
  format: SnapshotFormat;
  content: string;
}

const folderFormat = (name: string): SnapshotFormat | null => {
  const lower = name.toLowerCase();
  return lower.endsWith('.csv') ? 'csv' : lower.endsWith('.json') ? 'json' : null;
};

const unreadableFolder = (folder: string, error: unknown): never => {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') {
    throw new ConfigurationError(`The watched folder ${folder} cannot be read (${String(code)}).`, {
      code: 'Unknown',
      cause: error,
    });
  }
  throw new TransientError(`Reading the watched folder ${folder} failed.`, { code: 'Unknown', cause: error });
};

/**
 * The newest complete file of a watched folder: a `.csv` or `.json` file (not hidden) that has not
 * been modified for `settleSeconds`, so a file still being written is left for a later import. A
 * file that changes while it is read is left too (TransientError: the next try reads it again).
 * No such file is a ConfigurationError (like an upload source before its first upload).
 */
export async function readFolderSnapshot(config: CsvSourceConfig, now: Date): Promise<FolderSnapshot> {
  const folder = config.folder ?? '';
  const settleMs = (config.settleSeconds ?? DEFAULT_SETTLE_SECONDS) * 1000;
  const entries = await readdir(folder, { withFileTypes: true }).catch((error: unknown) =>
    unreadableFolder(folder, error),
  );
  const candidates: { name: string; path: string; mtimeMs: number; format: SnapshotFormat }[] = [];
  for (const entry of entries) {
    const format = folderFormat(entry.name);
    if (!entry.isFile() || entry.name.startsWith('.') || !format) continue;
    const path = join(folder, entry.name);
    const info = await stat(path).catch(() => null); // gone since the listing: not a candidate
    if (info && now.getTime() - info.mtimeMs >= settleMs)
      candidates.push({ name: entry.name, path, mtimeMs: info.mtimeMs, format });
  }
  candidates.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  const newest = candidates[0];
  if (!newest) {
    throw new ConfigurationError(
      `The watched folder ${folder} holds no complete .csv or .json file (unmodified for ${settleMs / 1000} s).`,
      { code: 'MandatoryFieldsMissing' },
    );
  }
  const before = await stat(newest.path).catch((error: unknown) => unreadableFolder(folder, error));
  const bytes = await readFile(newest.path).catch((error: unknown) => unreadableFolder(folder, error));
  const after = await stat(newest.path).catch((error: unknown) => unreadableFolder(folder, error));
  if (after.mtimeMs !== before.mtimeMs || after.size !== before.size || bytes.length !== after.size) {
    throw new TransientError(`The file ${newest.name} of the watched folder ${folder} changed while it was read.`, {
      code: 'Unknown',
    });
  }
  return {
    file: {
      name: newest.name,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      modifiedAt: new Date(after.mtimeMs).toISOString(),
    },
    format: newest.format,
    content: bytes.toString('utf8'),
  };
}

/** A watched folder's file as a reader: parsed strictly, like an upload (a skipped row would soft-delete its person). */
export function folderReader(snapshot: FolderSnapshot, config: CsvSourceConfig): SourceReader {
  try {
    return pagedReader(parseSnapshot(snapshot.format, snapshot.content, config), config.pageSize ?? 500);
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    throw new ConfigurationError(`The file ${snapshot.file.name} of the watched folder: ${error.message}`, {
      code: 'Unknown',
    });
  }
}

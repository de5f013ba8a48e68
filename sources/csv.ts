// The CSV-file source: a snapshot of people (an HR export) with a header row, read from a path the
// worker can read. Each row is a user; a column map names which column feeds which attribute. A
// file has no change marker, so every import is a full import (rows absent are deleted, under the
// deletion threshold). The whole file is parsed at once: meant for HR exports, not for millions.
import { readFile } from 'node:fs/promises';
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

export interface CsvSourceConfig {
  /** Path of the file on the worker's machine. */
  path: string;
  /** Attribute → column name; an attribute not named reads the column of its own name, if any. */
  columns?: Partial<Record<CsvAttribute, string>>;
  /** Rows per page written at once (default 500). */
  pageSize?: number;
}

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

/** Reads and parses the file; a missing id or userPrincipalName column is a ConfigurationError. */
export async function openCsvReader(config: CsvSourceConfig): Promise<SourceReader> {
  let text: string;
  try {
    text = await readFile(config.path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new ConfigurationError(`The CSV source file ${config.path} cannot be read (${String(code)}).`, {
        code: 'Unknown',
        cause: error,
      });
    }
    throw new TransientError(`Reading the CSV source file ${config.path} failed.`, { code: 'Unknown', cause: error });
  }
  let parsed: ReturnType<typeof csvObjects>;
  try {
    parsed = csvObjects(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new ConfigurationError(`The CSV source file ${config.path}: ${error.message}`, { code: 'Unknown' });
    }
    throw error;
  }
  const columns = Object.fromEntries(CSV_ATTRIBUTES.map((a) => [a, config.columns?.[a] ?? a])) as Record<
    CsvAttribute,
    string
  >;
  for (const required of ['id', 'userPrincipalName'] as const) {
    if (!parsed.header.includes(columns[required])) {
      throw new ConfigurationError(
        `The CSV source file ${config.path} has no column ${columns[required]} (for ${required}).`,
        { code: 'MandatoryFieldsMissing' },
      );
    }
  }
  const pageSize = config.pageSize ?? 500;
  const users = parsed.rows.map((r) => toUser(r.cells, columns)).filter((u): u is SourceUser => u !== null);
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

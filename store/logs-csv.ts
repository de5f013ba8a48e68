// Provisioning logs and the audit log as CSV (RFC 4180): one row per entry, nested values as JSON cells.
import type { ProvisioningLogEntry } from '../engine/types.ts';
import type { AuditEntry } from './audit.ts';

export const LOG_CSV_COLUMNS = [
  'id',
  'time',
  'appId',
  'cycleId',
  'changeId',
  'objectType',
  'sourceId',
  'sourceDisplayName',
  'targetId',
  'action',
  'status',
  'errorCode',
  'errorMessage',
  'durationMs',
  'onDemand',
  'modifiedAttributes',
  'steps',
] as const satisfies readonly (keyof ProvisioningLogEntry)[];

export const AUDIT_CSV_COLUMNS = [
  'id',
  'time',
  'keyId',
  'keyName',
  'role',
  'action',
  'method',
  'path',
  'resource',
  'requestId',
  'status',
  'outcome',
  'fields',
] as const satisfies readonly (keyof AuditEntry)[];

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Cells a spreadsheet would run as a formula get a leading quote (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV text of `rows` in `columns`, with a header row unless `header: false` (to append further pages). */
export function rowsToCsv<T, K extends keyof T>(
  columns: readonly K[],
  rows: readonly T[],
  options: { header?: boolean } = {},
): string {
  const lines = options.header === false ? [] : [columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => cell(row[c])).join(','));
  return lines.map((l) => `${l}\r\n`).join('');
}

/** Provisioning log entries as CSV; pass `header: false` to append further pages. */
export const logsToCsv = (entries: readonly ProvisioningLogEntry[], options: { header?: boolean } = {}): string =>
  rowsToCsv(LOG_CSV_COLUMNS, entries, options);

/** Audit entries as CSV (`fields` as a JSON array); pass `header: false` to append further pages. */
export const auditToCsv = (entries: readonly AuditEntry[], options: { header?: boolean } = {}): string =>
  rowsToCsv(AUDIT_CSV_COLUMNS, entries, options);

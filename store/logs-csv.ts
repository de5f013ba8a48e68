// Provisioning logs as CSV (RFC 4180): one row per entry, steps and modified attributes as JSON cells.
import type { ProvisioningLogEntry } from '../engine/types.ts';

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

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Cells a spreadsheet would run as a formula get a leading quote (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV text with a header row; pass `header: false` to append further pages. */
export function logsToCsv(entries: readonly ProvisioningLogEntry[], options: { header?: boolean } = {}): string {
  const lines = options.header === false ? [] : [LOG_CSV_COLUMNS.join(',')];
  for (const entry of entries) lines.push(LOG_CSV_COLUMNS.map((c) => cell(entry[c])).join(','));
  return lines.map((l) => `${l}\r\n`).join('');
}

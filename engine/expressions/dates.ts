// Date handling for the date functions. Entra has no date type in attribute values: date functions
// exchange text in the invariant form "M/d/yyyy h:mm:ss tt" (UTC). We parse that, ISO 8601 (also
// Workday's date-with-offset "2020-03-16-07:00") and LDAP generalized time, and implement the
// subset of .NET custom format strings that FormatDateTime needs. Everything is UTC arithmetic.

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
/** Milliseconds between 1601-01-01 (Windows FILETIME epoch) and 1970-01-01. */
const FILETIME_EPOCH_OFFSET_MS = 11_644_473_600_000;

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A wall-clock date and time with an optional UTC offset, as read by a format string. */
export interface DateParts {
  year: number;
  month: number; // 1–12
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction of a second in 100 ns ticks (0–9,999,999), .NET's resolution. */
  ticks: number;
  /** Minutes east of UTC; null when the text had no offset (read as UTC). */
  offsetMinutes: number | null;
}

const pad = (n: number, width: number): string => String(Math.abs(n)).padStart(width, '0');

export function formatEntraDateTime(date: Date): string {
  const h = date.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return (
    `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ` +
    `${h12}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)} ${h < 12 ? 'AM' : 'PM'}`
  );
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validParts(p: DateParts): boolean {
  return (
    p.month >= 1 &&
    p.month <= 12 &&
    p.day >= 1 &&
    p.day <= daysInMonth(p.year, p.month) &&
    p.hour >= 0 &&
    p.hour < 24 &&
    p.minute >= 0 &&
    p.minute < 60 &&
    p.second >= 0 &&
    p.second < 60
  );
}

/** The instant the parts denote (offset applied; no offset = UTC). */
export function partsToDate(p: DateParts): Date {
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, Math.floor(p.ticks / 10_000));
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear restores them.
  const date = new Date(wall);
  if (p.year < 100) date.setUTCFullYear(p.year);
  return new Date(date.getTime() - (p.offsetMinutes ?? 0) * MS_PER_MINUTE);
}

export function dateToParts(date: Date): DateParts {
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    ticks: date.getUTCMilliseconds() * 10_000,
    offsetMinutes: null,
  };
}

function parseOffset(text: string | undefined): number | null {
  if (!text || text === 'Z' || text === 'z') return text ? 0 : null;
  const m = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(text);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

const fractionToTicks = (digits: string | undefined): number =>
  digits ? Number(digits.slice(0, 7).padEnd(7, '0')) : 0;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?$/i;
const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{4})?$/i;

/** Reads a date/time from a Date, ISO 8601 text, "M/d/yyyy h:mm:ss tt" text or generalized time. */
export function parseDateTime(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  let parts: DateParts | null = null;
  let m: RegExpExecArray | null;
  if ((m = ISO.exec(text)) || (m = GENERALIZED.exec(text))) {
    parts = {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4] ?? 0),
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      ticks: fractionToTicks(m[7]),
      offsetMinutes: parseOffset(m[8]),
    };
    if (m[8] && parts.offsetMinutes === null) return null;
  } else if ((m = US.exec(text))) {
    let hour = Number(m[4] ?? 0);
    const meridiem = m[7]?.toUpperCase();
    if (meridiem && (hour < 1 || hour > 12)) return null;
    if (meridiem === 'PM' && hour < 12) hour += 12;
    if (meridiem === 'AM' && hour === 12) hour = 0;
    parts = {
      year: Number(m[3]),
      month: Number(m[1]),
      day: Number(m[2]),
      hour,
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      ticks: 0,
      offsetMinutes: null,
    };
  }
  if (!parts || !validParts(parts)) return null;
  return partsToDate(parts);
}

// ---- .NET custom date and time format strings (the subset FormatDateTime needs) ----

type FormatToken = { kind: 'literal'; text: string } | { kind: 'field'; letter: string; count: number };

const FIELD_LETTERS = new Set(['y', 'M', 'd', 'H', 'h', 'm', 's', 'f', 'F', 't', 'z', 'K']);

export function tokenizeFormat(format: string): FormatToken[] {
  const tokens: FormatToken[] = [];
  let i = 0;
  while (i < format.length) {
    const ch = format[i];
    if (ch === "'" || ch === '"') {
      const end = format.indexOf(ch, i + 1);
      const stop = end < 0 ? format.length : end;
      tokens.push({ kind: 'literal', text: format.slice(i + 1, stop) });
      i = stop + 1;
    } else if (ch === '\\' && i + 1 < format.length) {
      tokens.push({ kind: 'literal', text: format[i + 1] });
      i += 2;
    } else if (ch === '%' && i + 1 < format.length) {
      i += 1; // "%d" = the single-letter specifier d
    } else if (FIELD_LETTERS.has(ch)) {
      let count = 1;
      while (format[i + count] === ch) count += 1;
      tokens.push({ kind: 'field', letter: ch, count });
      i += count;
    } else {
      tokens.push({ kind: 'literal', text: ch });
      i += 1;
    }
  }
  return tokens;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function fieldPattern(letter: string, count: number): string {
  switch (letter) {
    case 'y':
      return count <= 2 ? `(\\d{${count === 1 ? '1,2' : '2'}})` : `(\\d{${count}})`;
    case 'M':
      if (count >= 4) return `(${MONTHS.join('|')})`;
      if (count === 3) return `(${MONTHS.map((m) => m.slice(0, 3)).join('|')})`;
      return count === 2 ? '(\\d{2})' : '(\\d{1,2})';
    case 'd':
      if (count >= 4) return `(?:${DAYS.join('|')})`;
      if (count === 3) return `(?:${DAYS.map((d) => d.slice(0, 3)).join('|')})`;
      return count === 2 ? '(\\d{2})' : '(\\d{1,2})';
    case 'H':
    case 'h':
    case 'm':
    case 's':
      return count >= 2 ? '(\\d{2})' : '(\\d{1,2})';
    case 'f':
      return `(\\d{${count}})`;
    case 'F':
      return `(\\d{0,${count}})`;
    case 't':
      return count >= 2 ? '(AM|PM)' : '(A|P)';
    case 'z':
      return count >= 3 ? '(Z|[+-]\\d{2}:\\d{2})' : count === 2 ? '([+-]\\d{2})' : '([+-]\\d{1,2})';
    default: // 'K'
      return '(Z|[+-]\\d{2}:\\d{2})?';
  }
}

/** Reads `text` with a .NET custom format; null when it does not fit. */
export function parseWithFormat(text: string, format: string): DateParts | null {
  const tokens = tokenizeFormat(format);
  const fields: { letter: string; count: number }[] = [];
  let pattern = '^\\s*';
  for (const token of tokens) {
    if (token.kind === 'literal') {
      pattern += escapeRegExp(token.text);
    } else {
      const p = fieldPattern(token.letter, token.count);
      pattern += p;
      if (p.startsWith('(') && !p.startsWith('(?:')) fields.push(token);
    }
  }
  const m = new RegExp(`${pattern}\\s*$`, 'i').exec(text);
  if (!m) return null;
  const parts: DateParts = { year: 1, month: 1, day: 1, hour: 0, minute: 0, second: 0, ticks: 0, offsetMinutes: null };
  let meridiem: string | null = null;
  let hour12: number | null = null;
  fields.forEach((field, index) => {
    const raw = m[index + 1] ?? '';
    const n = Number(raw);
    switch (field.letter) {
      case 'y':
        parts.year = field.count <= 2 ? (n < 50 ? 2000 + n : 1900 + n) : n;
        break;
      case 'M':
        parts.month =
          field.count >= 3 ? MONTHS.findIndex((name) => name.toLowerCase().startsWith(raw.toLowerCase())) + 1 : n;
        break;
      case 'd':
        parts.day = n;
        break;
      case 'H':
        parts.hour = n;
        break;
      case 'h':
        hour12 = n;
        break;
      case 'm':
        parts.minute = n;
        break;
      case 's':
        parts.second = n;
        break;
      case 'f':
      case 'F':
        parts.ticks = fractionToTicks(raw);
        break;
      case 't':
        meridiem = raw.toUpperCase().startsWith('P') ? 'PM' : 'AM';
        break;
      default: // z, K
        if (raw) parts.offsetMinutes = parseOffset(raw);
    }
  });
  if (hour12 !== null) {
    if (hour12 < 1 || hour12 > 12) return null;
    parts.hour = (hour12 % 12) + (meridiem === 'PM' ? 12 : 0);
  } else if (meridiem === 'PM' && parts.hour < 12) {
    parts.hour += 12;
  }
  return validParts(parts) ? parts : null;
}

function formatOffset(minutes: number, count: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const h = Math.floor(Math.abs(minutes) / 60);
  const m = Math.abs(minutes) % 60;
  if (count >= 3) return `${sign}${pad(h, 2)}:${pad(m, 2)}`;
  return `${sign}${count === 2 ? pad(h, 2) : String(h)}`;
}

/** Writes parts with a .NET custom format (invariant culture). */
export function formatWithFormat(parts: DateParts, format: string): string {
  const weekday = new Date(Date.UTC(2000, parts.month - 1, parts.day));
  weekday.setUTCFullYear(parts.year);
  let out = '';
  for (const token of tokenizeFormat(format)) {
    if (token.kind === 'literal') {
      out += token.text;
      continue;
    }
    const { letter, count } = token;
    switch (letter) {
      case 'y':
        out += count === 1 ? String(parts.year % 100) : count === 2 ? pad(parts.year % 100, 2) : pad(parts.year, count);
        break;
      case 'M':
        out +=
          count >= 4
            ? MONTHS[parts.month - 1]
            : count === 3
              ? MONTHS[parts.month - 1].slice(0, 3)
              : pad(parts.month, count === 2 ? 2 : 1);
        break;
      case 'd':
        out +=
          count >= 4
            ? DAYS[weekday.getUTCDay()]
            : count === 3
              ? DAYS[weekday.getUTCDay()].slice(0, 3)
              : pad(parts.day, count === 2 ? 2 : 1);
        break;
      case 'H':
        out += pad(parts.hour, count >= 2 ? 2 : 1);
        break;
      case 'h':
        out += pad(parts.hour % 12 === 0 ? 12 : parts.hour % 12, count >= 2 ? 2 : 1);
        break;
      case 'm':
        out += pad(parts.minute, count >= 2 ? 2 : 1);
        break;
      case 's':
        out += pad(parts.second, count >= 2 ? 2 : 1);
        break;
      case 'f':
        out += pad(parts.ticks, 7).slice(0, Math.min(count, 7));
        break;
      case 'F':
        out += pad(parts.ticks, 7).slice(0, Math.min(count, 7)).replace(/0+$/, '');
        break;
      case 't':
        out += (parts.hour < 12 ? 'AM' : 'PM').slice(0, count >= 2 ? 2 : 1);
        break;
      case 'z':
        out += formatOffset(parts.offsetMinutes ?? 0, count);
        break;
      default: // K
        out +=
          parts.offsetMinutes === null ? '' : parts.offsetMinutes === 0 ? 'Z' : formatOffset(parts.offsetMinutes, 3);
    }
  }
  return out;
}

// ---- intervals (DateAdd / DateDiff) ----

export const DATE_INTERVALS = ['yyyy', 'm', 'd', 'ww', 'h', 'n', 's'] as const;
export type DateInterval = (typeof DATE_INTERVALS)[number];

export function isDateInterval(text: string): text is DateInterval {
  return (DATE_INTERVALS as readonly string[]).includes(text);
}

function addMonths(date: Date, months: number): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const targetYear = year + Math.floor(month / 12);
  const targetMonth = ((month % 12) + 12) % 12;
  // Like .NET AddMonths: Jan 31 + 1 month = the last day of February.
  const day = Math.min(date.getUTCDate(), daysInMonth(targetYear, targetMonth + 1));
  const out = new Date(date.getTime());
  out.setUTCFullYear(targetYear, targetMonth, day);
  return out;
}

export function addInterval(date: Date, interval: DateInterval, amount: number): Date {
  const t = date.getTime();
  switch (interval) {
    case 'yyyy':
      return addMonths(date, Math.trunc(amount) * 12);
    case 'm':
      return addMonths(date, Math.trunc(amount));
    case 'd':
      return new Date(t + amount * MS_PER_DAY);
    case 'ww':
      return new Date(t + amount * 7 * MS_PER_DAY);
    case 'h':
      return new Date(t + amount * 3_600_000);
    case 'n':
      return new Date(t + amount * MS_PER_MINUTE);
    case 's':
      return new Date(t + amount * 1000);
  }
}

/**
 * date2 − date1 counted in interval boundaries crossed, like VBA's DateDiff (which Entra's
 * documented results follow): years and months by calendar, weeks by Sundays, the rest by
 * whole units since the epoch.
 */
export function diffInterval(interval: DateInterval, date1: Date, date2: Date): number {
  const a = date1.getTime();
  const b = date2.getTime();
  const boundaries = (unit: number, shift = 0): number =>
    Math.floor((b + shift) / unit) - Math.floor((a + shift) / unit);
  switch (interval) {
    case 'yyyy':
      return date2.getUTCFullYear() - date1.getUTCFullYear();
    case 'm':
      return (date2.getUTCFullYear() - date1.getUTCFullYear()) * 12 + date2.getUTCMonth() - date1.getUTCMonth();
    case 'd':
      return boundaries(MS_PER_DAY);
    case 'ww':
      // 1970-01-01 was a Thursday; shifting by four days puts week boundaries on Sundays.
      return boundaries(7 * MS_PER_DAY, 4 * MS_PER_DAY);
    case 'h':
      return boundaries(3_600_000);
    case 'n':
      return boundaries(MS_PER_MINUTE);
    case 's':
      return boundaries(1000);
  }
}

/** Windows FILETIME (100 ns ticks since 1601-01-01 UTC), the Active Directory date number. */
export function toFileTime(date: Date): number {
  return (date.getTime() + FILETIME_EPOCH_OFFSET_MS) * 10_000;
}

export function fromFileTime(fileTime: number): Date {
  return new Date(Math.floor(fileTime / 10_000) - FILETIME_EPOCH_OFFSET_MS);
}

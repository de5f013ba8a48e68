// Text helpers of the string functions, written without Node built-ins (engine/ is pure).

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function base64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out +=
      BASE64_ALPHABET[n >> 18] +
      BASE64_ALPHABET[(n >> 12) & 63] +
      BASE64_ALPHABET[(n >> 6) & 63] +
      BASE64_ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += BASE64_ALPHABET[n >> 18] + BASE64_ALPHABET[(n >> 12) & 63] + '==';
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += BASE64_ALPHABET[n >> 18] + BASE64_ALPHABET[(n >> 12) & 63] + BASE64_ALPHABET[(n >> 6) & 63] + '=';
  }
  return out;
}

/** .NET's "Unicode" encoding: UTF-16 little-endian, which is what Entra's ConvertToBase64 encodes. */
export function utf16le(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    bytes[2 * i] = unit & 0xff;
    bytes[2 * i + 1] = unit >> 8;
  }
  return bytes;
}

const encoder = new TextEncoder();

export function utf8Hex(text: string): string {
  let out = '';
  for (const byte of encoder.encode(text)) out += byte.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/** Letters that Unicode decomposition does not split into base + mark, mapped as Entra does. */
const SPECIAL_LETTERS: Record<string, string> = {
  æ: 'ae',
  Æ: 'AE',
  ø: 'oe',
  Ø: 'OE',
  œ: 'oe',
  Œ: 'OE',
  ß: 'ss',
  ł: 'l',
  Ł: 'L',
  ı: 'i',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  ħ: 'h',
  Ħ: 'H',
  þ: 'th',
  Þ: 'TH',
  ŀ: 'l',
  Ŀ: 'L',
};
const SPECIAL_PATTERN = new RegExp(`[${Object.keys(SPECIAL_LETTERS).join('')}]`, 'g');

export function normalizeDiacritics(text: string): string {
  return text
    .normalize('NFD')
    .replace(SPECIAL_PATTERN, (ch) => SPECIAL_LETTERS[ch])
    .replace(/\p{Mn}/gu, '')
    .normalize('NFC');
}

/**
 * Proper case: the first letter of each word upper, the rest lower. Without explicit separators a
 * word boundary is any character that is not a letter, digit, mark or apostrophe (close to .NET's
 * ToTitleCase, which Entra uses); with separators, only those characters separate words.
 */
export function properCase(text: string, separators: string | null): string {
  const isSeparator =
    separators === null ? (ch: string) => !/[\p{L}\p{N}\p{M}'’]/u.test(ch) : (ch: string) => separators.includes(ch);
  let out = '';
  let atWordStart = true;
  for (const ch of text) {
    if (isSeparator(ch)) {
      out += ch;
      atWordStart = true;
    } else {
      out += atWordStart ? ch.toUpperCase() : ch.toLowerCase();
      atWordStart = false;
    }
  }
  return out;
}

/** Words of `text` split at any of the delimiter characters; empty words are dropped. */
export function words(text: string, delimiters: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const ch of text) {
    if (delimiters.includes(ch)) {
      if (current) out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current) out.push(current);
  return out;
}

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
/** The special characters of Windows password complexity rules, which Entra's RandomString uses. */
const SPECIALS = '~!@#$%^&*_-+=`|\\(){}[]:;"\'<>,.?/';

export interface RandomStringRules {
  length: number;
  minNumbers: number;
  minSpecial: number;
  minCapital: number;
  minLower: number;
  avoid: string;
}

/** Returns the string, or the reason the rules cannot be met. */
export function randomString(rules: RandomStringRules, random: () => number): { value: string } | { error: string } {
  const { length, minNumbers, minSpecial, minCapital, minLower, avoid } = rules;
  const counts = [length, minNumbers, minSpecial, minCapital, minLower];
  if (counts.some((n) => !Number.isInteger(n) || n < 0)) return { error: 'lengths must be whole numbers ≥ 0' };
  if (length < 1 || length > 256) return { error: 'length must be between 1 and 256' };
  if (minNumbers + minSpecial + minCapital + minLower > length) {
    return { error: `the minimum counts add up to more than the length ${length}` };
  }
  const allowed = (set: string) => [...set].filter((ch) => !avoid.includes(ch)).join('');
  const pools = [allowed(DIGITS), allowed(SPECIALS), allowed(UPPER), allowed(LOWER)];
  const minimums = [minNumbers, minSpecial, minCapital, minLower];
  const all = pools.join('');
  if (all === '') return { error: 'every character is avoided' };
  if (minimums.some((n, i) => n > 0 && pools[i] === ''))
    return { error: 'a required character class is entirely avoided' };
  const pick = (pool: string) => pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))];
  const chars: string[] = [];
  minimums.forEach((n, i) => {
    for (let k = 0; k < n; k++) chars.push(pick(pools[i]));
  });
  while (chars.length < length) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return { value: chars.join('') };
}

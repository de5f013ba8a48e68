// The console's session: the API key a person signed in with, sealed (AES-256-GCM) into an
// HttpOnly cookie, so the browser never holds the key in a form a script or a stolen cookie jar
// reveals as such; and the CSRF token every change must carry, derived from the sealed cookie
// (HMAC), so it needs no server-side state and dies with the session.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'ferry_console';
/** How long a sign-in lasts (the cookie's Max-Age and the sealed expiry alike). */
export const SESSION_SECONDS = 8 * 60 * 60;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

export interface Session {
  apiKey: string;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

/** Seals and opens session cookies and derives their CSRF tokens from one secret. */
export class SessionSealer {
  private readonly sealKey: Buffer;
  private readonly csrfKey: Buffer;
  private readonly now: () => number;

  /**
   * @param secret any high-entropy text (Ferry passes FERRY_ENCRYPTION_KEY); two keys are derived
   *   from it with HKDF, so the cookie never uses the key that encrypts app secrets itself.
   */
  constructor(secret: string | Buffer, options: { now?: () => number } = {}) {
    const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
    this.sealKey = Buffer.from(hkdfSync('sha256', ikm, 'ferry-console', 'session-seal', 32));
    this.csrfKey = Buffer.from(hkdfSync('sha256', ikm, 'ferry-console', 'csrf', 32));
    this.now = options.now ?? Date.now;
  }

  seal(apiKey: string): string {
    const session: Session = { apiKey, expiresAt: this.now() + SESSION_SECONDS * 1000 };
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(VERSION));
    const body = Buffer.concat([cipher.update(JSON.stringify(session), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${Buffer.concat([iv, body]).toString('base64url')}`;
  }

  /** The session of a cookie value, or null when it is absent, altered, foreign or expired. */
  open(value: string | undefined): Session | null {
    if (!value || !value.startsWith(`${VERSION}.`)) return null;
    const raw = Buffer.from(value.slice(VERSION.length + 1), 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(VERSION));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
      const session = JSON.parse(plain.toString('utf8')) as Partial<Session>;
      if (typeof session.apiKey !== 'string' || typeof session.expiresAt !== 'number') return null;
      if (session.expiresAt <= this.now()) return null;
      return { apiKey: session.apiKey, expiresAt: session.expiresAt };
    } catch {
      return null;
    }
  }

  /** The CSRF token of a session cookie: forms carry it in `_csrf`, htmx in `X-CSRF-Token`. */
  csrfToken(cookieValue: string): string {
    return createHmac('sha256', this.csrfKey).update(cookieValue).digest('base64url');
  }

  checkCsrf(cookieValue: string, token: string | undefined | null): boolean {
    if (!token) return false;
    const expected = Buffer.from(this.csrfToken(cookieValue));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

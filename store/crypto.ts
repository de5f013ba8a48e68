// Secrets at rest: AES-256-GCM with a key from the environment. An envelope is
// `v1.<iv>.<tag>.<ciphertext>` (base64url), bound to its owner (e.g. the app id) as associated
// data, so a ciphertext copied to another row does not decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigurationError } from '../engine/errors.ts';

const VERSION = 'v1';

/** Parses a 32-byte key given as 64 hex characters or as base64/base64url. */
export function parseEncryptionKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new ConfigurationError(
      'The secret-encryption key must be 32 bytes, given as 64 hex characters or base64 (e.g. `openssl rand -base64 32`).',
      { code: 'Unknown' },
    );
  }
  return key;
}

/** A fresh random key, base64, for first start. */
export function generateEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: string | Buffer) {
    this.#key = typeof key === 'string' ? parseEncryptionKey(key) : key;
    if (this.#key.length !== 32)
      throw new ConfigurationError('The secret-encryption key must be 32 bytes.', { code: 'Unknown' });
  }

  seal(plaintext: string, owner: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(owner, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Throws ConfigurationError when the key is wrong or the envelope was tampered with. */
  open(envelope: string, owner: string): string {
    const [version, iv, tag, body] = envelope.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
      throw new ConfigurationError(`The stored secrets of ${owner} are not in a format this version can read.`, {
        code: 'Unknown',
      });
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(owner, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new ConfigurationError(
        `Cannot decrypt the stored secrets of ${owner}: the secret-encryption key differs from the one they were saved with.`,
        { code: 'Unknown', cause },
      );
    }
  }
}

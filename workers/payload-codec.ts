// The payload codec: every payload Ferry's worker and clients send to Temporal (workflow and
// activity inputs and results, signal and query arguments, memos) is encrypted with AES-256-GCM
// before it leaves the process, so Temporal's histories hold ciphertext. Temporal's own convention:
// the encrypted payload has `encoding: binary/encrypted` and `encryption-key-id` metadata, and its
// data is the whole original payload (metadata included), serialized and sealed as
// `iv (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`. The key id selects the key on decode, so keys can
// be rotated: the first key encrypts, every key decrypts. A payload without the encrypted encoding
// (written before the codec was on) passes through unchanged.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

/** Key ids as FERRY_PAYLOAD_KEYS accepts them: they appear in histories, so no secrets there. */
export const PAYLOAD_KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const IV_BYTES = 12;
const TAG_BYTES = 16;
// The package is CommonJS: Node's ESM loader offers only its default export.
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export interface PayloadKey {
  /** Written to each payload's `encryption-key-id`. */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/** A payload this codec cannot decode: named key unknown, altered ciphertext, malformed metadata. */
export class PayloadCodecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PayloadCodecError';
  }
}

/** The associated data binds a ciphertext to its key id and to this format's version. */
const associatedData = (keyId: string) => Buffer.from(`ferry-payload-v1:${keyId}`, 'utf8');

export class EncryptionCodec implements PayloadCodec {
  readonly #keys: Map<string, Buffer>;
  readonly #encryptWith: PayloadKey;

  /** `keys[0]` encrypts; all of them decrypt. */
  constructor(keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new Error('The payload codec needs at least one key');
    this.#keys = new Map();
    for (const { id, key } of keys) {
      if (!PAYLOAD_KEY_ID_PATTERN.test(id))
        throw new Error(`Payload key id "${id}" must match ${PAYLOAD_KEY_ID_PATTERN}`);
      if (key.length !== 32) throw new Error(`Payload key "${id}" must be 32 bytes`);
      if (this.#keys.has(id)) throw new Error(`Payload key id "${id}" is given twice`);
      this.#keys.set(id, key);
    }
    this.#encryptWith = keys[0];
  }

  /** The id new payloads are encrypted with. */
  get encryptionKeyId(): string {
    return this.#encryptWith.id;
  }

  /** Every key id this codec decrypts. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  encrypt(payload: Payload): Payload {
    const { id, key } = this.#encryptWith;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(associatedData(id));
    const plain = ProtoPayload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(id) },
      data: sealed,
    };
  }

  decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!idBytes || idBytes.length === 0) {
      throw new PayloadCodecError(`An encrypted payload has no ${KEY_ID_METADATA} metadata`);
    }
    const id = fromUtf8.decode(idBytes);
    const key = this.#keys.get(id);
    if (!key) {
      throw new PayloadCodecError(
        `No payload key with id "${id}" (known: ${this.keyIds.join(', ')}): add it to FERRY_PAYLOAD_KEYS to read payloads encrypted with it`,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadCodecError(`An encrypted payload (key "${id}") is too short to hold a ciphertext`);
    }
    const sealed = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(associatedData(id));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch (cause) {
      throw new PayloadCodecError(
        `An encrypted payload (key "${id}") does not decrypt: it was altered, or key "${id}" is not the key it was encrypted with`,
        { cause },
      );
    }
    const decoded = ProtoPayload.decode(plain);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}

/**
 * The payload key derived from FERRY_ENCRYPTION_KEY (HKDF-SHA256, its own `info`, so it never equals
 * the key sealing secrets in the database). Its id is a fingerprint of the derived key: a new
 * FERRY_ENCRYPTION_KEY brings a new id, and payloads of the old one fail with a clear "no key" error.
 */
export function derivedPayloadKey(encryptionKey: Buffer): PayloadKey {
  const key = Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'ferry temporal payload codec v1', 32));
  const fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return { id: `fek-${fingerprint}`, key };
}

/**
 * The keys of the codec: FERRY_PAYLOAD_KEYS in order (the first encrypts), then the key derived from
 * FERRY_ENCRYPTION_KEY, which decrypts always and encrypts only when FERRY_PAYLOAD_KEYS is empty —
 * so the codec is on wherever Ferry runs, and moving to explicit keys keeps old histories readable.
 */
export function payloadKeys(explicit: readonly PayloadKey[], encryptionKey: Buffer | null): PayloadKey[] {
  const keys = [...explicit];
  if (encryptionKey) {
    const derived = derivedPayloadKey(encryptionKey);
    if (!keys.some((k) => k.id === derived.id)) keys.push(derived);
  }
  return keys;
}

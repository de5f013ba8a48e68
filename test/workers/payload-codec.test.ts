// workers/payload-codec.ts: what Temporal stores is ciphertext; keys rotate by id; anything that
// does not decrypt is a clear error, never a wrong plaintext.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  derivedPayloadKey,
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadCodecError,
  payloadKeys,
  type PayloadKey,
} from '../../workers/payload-codec.ts';
import { payloadCodecFromEnv } from '../../workers/temporal-connection.ts';

const key = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const SECRET = 'Zebulon Quarterstaff-Okonkwo';
const plain = (): Payload => defaultPayloadConverter.toPayload({ displayName: SECRET, mail: 'zq@contoso.example' });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('EncryptionCodec', () => {
  it('turns a payload into ciphertext labelled binary/encrypted with its key id, and back into the same payload', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const original = plain();
    const [encrypted] = await codec.encode([original]);
    expect(text(encrypted.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted.metadata?.[KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(encrypted.metadata ?? {}).sort()).toEqual([KEY_ID_METADATA, 'encoding'].sort());
    // Neither the value nor the original encoding (json/plain) is readable in what Temporal stores.
    expect(text(encrypted.data)).not.toContain('Zebulon');
    expect(Buffer.from(encrypted.data!).includes(Buffer.from('json/plain'))).toBe(false);
    const [decrypted] = await codec.decode([encrypted]);
    expect(defaultPayloadConverter.fromPayload(decrypted)).toEqual({ displayName: SECRET, mail: 'zq@contoso.example' });
    expect(text(decrypted.metadata?.encoding)).toBe('json/plain');
  });

  it('encrypts the same payload differently every time (a fresh IV each time)', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const [a, b] = await codec.encode([plain(), plain()]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  it('passes payloads that are not encrypted through decode unchanged (histories written before the codec)', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const original = plain();
    expect(await codec.decode([original])).toEqual([original]);
  });

  it('rotates keys: the first key encrypts, every key decrypts, so payloads of the old key stay readable', async () => {
    const old = key('2025-01');
    const next = key('2026-01');
    const [before] = await new EncryptionCodec([old]).encode([plain()]);
    const rotated = new EncryptionCodec([next, old]);
    const [after] = await rotated.encode([plain()]);
    expect(text(after.metadata?.[KEY_ID_METADATA])).toBe('2026-01');
    for (const payload of [before, after]) {
      expect(
        defaultPayloadConverter.fromPayload<{ displayName: string }>((await rotated.decode([payload]))[0]).displayName,
      ).toBe(SECRET);
    }
  });

  it('refuses a payload of an unknown key id with an error naming the id and FERRY_PAYLOAD_KEYS', async () => {
    const [encrypted] = await new EncryptionCodec([key('retired')]).encode([plain()]);
    const error = await rejection(new EncryptionCodec([key('current')]).decode([encrypted]));
    expect(error).toBeInstanceOf(PayloadCodecError);
    expect(error.message).toMatch(/No payload key with id "retired" \(known: current\).*FERRY_PAYLOAD_KEYS/);
  });

  it('refuses an altered ciphertext, and a payload moved to another key id, instead of returning garbage', async () => {
    const k1 = key('k1');
    const k2 = { id: 'k2', key: k1.key }; // same bytes, other id: the id is bound to the ciphertext
    const codec = new EncryptionCodec([k1, k2]);
    const [encrypted] = await codec.encode([plain()]);
    const flipped = Buffer.from(encrypted.data!);
    flipped[flipped.length - 20] ^= 1;
    const altered = { ...encrypted, data: flipped };
    expect((await rejection(codec.decode([altered]))).message).toMatch(/does not decrypt: it was altered/);
    const relabelled = { ...encrypted, metadata: { ...encrypted.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    expect((await rejection(codec.decode([relabelled]))).message).toMatch(/key "k2".*does not decrypt/);
    const truncated = { ...encrypted, data: Buffer.from(encrypted.data!).subarray(0, 10) };
    expect((await rejection(codec.decode([truncated]))).message).toMatch(/too short/);
    const noId = { ...encrypted, metadata: { encoding: encrypted.metadata!.encoding } };
    expect((await rejection(codec.decode([noId]))).message).toMatch(/no encryption-key-id/);
  });

  it('refuses to start without a key, with a duplicate id, or with a key that is not 32 bytes', () => {
    expect(() => new EncryptionCodec([])).toThrow(/at least one key/);
    expect(() => new EncryptionCodec([key('a'), key('a')])).toThrow(/given twice/);
    expect(() => new EncryptionCodec([{ id: 'short', key: randomBytes(16) }])).toThrow(/32 bytes/);
    expect(() => new EncryptionCodec([{ id: 'has space', key: randomBytes(32) }])).toThrow(/must match/);
  });
});

describe('payload keys of the environment', () => {
  const encryptionKey = randomBytes(32);

  it('derives a key from FERRY_ENCRYPTION_KEY that differs from it, with a stable id that changes with the key', () => {
    const derived = derivedPayloadKey(encryptionKey);
    expect(derived.key.length).toBe(32);
    expect(derived.key.equals(encryptionKey)).toBe(false);
    expect(derivedPayloadKey(encryptionKey)).toEqual(derived);
    expect(derived.id).toMatch(/^fek-[0-9a-f]{12}$/);
    expect(derivedPayloadKey(randomBytes(32)).id).not.toBe(derived.id);
  });

  it('encrypts with the first FERRY_PAYLOAD_KEYS key and keeps the derived key for decrypting only', () => {
    const explicit = [key('a'), key('b')];
    expect(payloadKeys(explicit, encryptionKey).map((k) => k.id)).toEqual([
      'a',
      'b',
      derivedPayloadKey(encryptionKey).id,
    ]);
    expect(payloadKeys([], encryptionKey).map((k) => k.id)).toEqual([derivedPayloadKey(encryptionKey).id]);
    expect(payloadKeys([], null)).toEqual([]);
  });

  it('reads what the derived key wrote after FERRY_PAYLOAD_KEYS is set (moving to explicit keys loses no history)', async () => {
    const base64Key = encryptionKey.toString('base64');
    const before = payloadCodecFromEnv({ payloadKeys: [] }, base64Key)!;
    const [written] = await before.encode([plain()]);
    const after = payloadCodecFromEnv({ payloadKeys: [key('2026-11')] }, base64Key)!;
    expect(after.encryptionKeyId).toBe('2026-11');
    expect(
      defaultPayloadConverter.fromPayload<{ displayName: string }>((await after.decode([written]))[0]).displayName,
    ).toBe(SECRET);
    expect(payloadCodecFromEnv({ payloadKeys: [] }, null)).toBeNull();
  });
});

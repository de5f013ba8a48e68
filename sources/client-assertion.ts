// Certificate credentials for the Entra source: instead of a client secret, the app proves itself
// with a client assertion, a JWT it signs with the private key of a certificate registered on the
// app (Microsoft identity platform "certificate credentials"; OpenID Connect `private_key_jwt`).
// Signed RS256 with node:crypto; the header names the certificate by its thumbprints (`x5t`:
// SHA-1, `x5t#S256`: SHA-256, both base64url of the DER certificate's hash).
import { createHash, createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';

/** The form field value Entra expects in `client_assertion_type`. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Seconds an assertion is valid: Microsoft suggests a short life, 5–10 minutes after nbf. */
const LIFETIME_SECONDS = 600;

/** The certificate, or only its thumbprint, that names the signing key to Entra. */
export interface CertificateReference {
  /** PEM certificate (public). */
  certificate?: string;
  /** Hex thumbprint as the portal shows it: 40 digits (SHA-1) or 64 (SHA-256); colons and spaces ignored. */
  thumbprint?: string;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Thumbprint text to bytes, or null when it is not 20 or 32 bytes of hex. */
export function thumbprintBytes(text: string): Buffer | null {
  const hex = text.replace(/[\s:]/g, '');
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(hex) ? Buffer.from(hex, 'hex') : null;
}

/** The JWT header's thumbprint fields for a certificate or a thumbprint. */
export function thumbprintHeader(reference: CertificateReference): Record<string, string> {
  if (reference.certificate) {
    const der = new X509Certificate(reference.certificate).raw;
    return {
      x5t: b64url(createHash('sha1').update(der).digest()),
      'x5t#S256': b64url(createHash('sha256').update(der).digest()),
    };
  }
  const bytes = reference.thumbprint ? thumbprintBytes(reference.thumbprint) : null;
  if (!bytes) throw new Error('a certificate or a 40/64-digit hex thumbprint is needed');
  return bytes.length === 20 ? { x5t: b64url(bytes) } : { 'x5t#S256': b64url(bytes) };
}

export interface AssertionInput extends CertificateReference {
  clientId: string;
  /** The token endpoint: the assertion's audience. */
  tokenUrl: string;
  /** PEM private key (PKCS#8 or PKCS#1 RSA). */
  privateKey: string;
  /** Seconds since the epoch (tests may fix it). */
  now?: number;
}

/** A signed client assertion: RS256, iss = sub = client id, aud = token endpoint, a fresh jti, nbf/iat now, exp in 10 minutes. */
export function clientAssertion(input: AssertionInput): string {
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...thumbprintHeader(input) };
  const claims = {
    aud: input.tokenUrl,
    iss: input.clientId,
    sub: input.clientId,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + LIFETIME_SECONDS,
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), createPrivateKey(input.privateKey));
  return `${signingInput}.${b64url(signature)}`;
}

/**
 * What is wrong with a certificate credential as given (field and message), or null. The key
 * must be an RSA private key; a certificate must parse and hold that key's public half.
 */
export function certificateCredentialProblem(
  privateKey: string,
  reference: CertificateReference,
): { field: 'privateKey' | 'certificate' | 'certificateThumbprint'; message: string } | null {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKey);
  } catch {
    return { field: 'privateKey', message: 'privateKey is not a PEM private key (unencrypted PKCS#8 or PKCS#1)' };
  }
  if (key.asymmetricKeyType !== 'rsa') return { field: 'privateKey', message: 'privateKey must be an RSA key (RS256)' };
  if (reference.certificate !== undefined) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(reference.certificate);
    } catch {
      return { field: 'certificate', message: 'certificate is not a PEM X.509 certificate' };
    }
    if (!certificate.checkPrivateKey(key))
      return { field: 'certificate', message: 'certificate does not belong to privateKey (their public keys differ)' };
  }
  if (reference.thumbprint !== undefined && !thumbprintBytes(reference.thumbprint))
    return {
      field: 'certificateThumbprint',
      message: 'certificateThumbprint must be the hex SHA-1 (40 digits) or SHA-256 (64 digits) thumbprint',
    };
  return null;
}

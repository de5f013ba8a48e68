// The one place that decides what a failed SCIM exchange means.
// Pure: no I/O, the clock comes in as `now` so Retry-After dates are testable.
import {
  ConfigurationError,
  ConflictError,
  FerryError,
  NotFoundError,
  PermanentError,
  TransientError,
} from '../engine/errors.ts';
import type { ErrorCode } from '../engine/types.ts';

/** AddressNotAllowedError's code (address-policy.ts): the outbound address policy refused the connection. */
const ADDRESS_NOT_ALLOWED_CODE = 'FERRY_ADDRESS_NOT_ALLOWED';

/** What went wrong, as seen by the transport. */
export type ScimFailure =
  | {
      kind: 'response';
      status: number;
      /** Parsed JSON body, if the body was JSON. */
      body?: unknown;
      /** Raw `Retry-After` header value. */
      retryAfter?: string | null;
      /**
       * True when the URL named one resource (`/Users/{id}`): a 404 there means "this object is gone";
       * on a collection or discovery URL it means the endpoint is wrong, which is a configuration error.
       */
      resourceUrl?: boolean;
    }
  | { kind: 'network'; error: unknown }
  /** A 2xx answer whose body is not usable SCIM JSON. */
  | { kind: 'invalidBody'; status: number; reason: string }
  /** An answer longer than the app's response cap (reading stopped there). */
  | { kind: 'tooLarge'; maxBytes: number; cause?: unknown }
  /** The OAuth token endpoint refused the client credentials (400/401/403) or gave no access_token. */
  | { kind: 'tokenRefused'; status: number | null };

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
const TLS_CODE = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_)/;

/** The Node/undici error code of a network failure, looking through `cause` chains. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string') return candidate.code;
    if (candidate.name === 'TimeoutError' || candidate.name === 'AbortError') return 'ETIMEDOUT';
    current = candidate.cause;
  }
  return undefined;
}

/** Why a TLS handshake failed, in words an admin can act on, from the Node/OpenSSL error code. */
export function tlsFailureReason(code: string | undefined): string {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return 'the certificate is self-signed (not issued by a trusted authority)';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'the certificate is not valid for this host name (hostname mismatch)';
    case 'CERT_HAS_EXPIRED':
      return 'the certificate has expired';
    case 'CERT_NOT_YET_VALID':
      return 'the certificate is not valid yet';
    case 'CERT_REVOKED':
      return 'the certificate has been revoked';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'the certificate chain does not lead to a trusted authority (unknown issuer or missing intermediate)';
    default:
      return code?.startsWith('ERR_SSL_') || code?.startsWith('ERR_TLS_')
        ? 'the TLS protocol negotiation failed'
        : 'the certificate is not valid';
  }
}

/** Network failure categories, used by test connection to give a clear reason. */
export function networkFailureReason(
  error: unknown,
): 'notAllowed' | 'dns' | 'refused' | 'tls' | 'timeout' | 'reset' | 'network' {
  const code = networkErrorCode(error) ?? '';
  if (code === ADDRESS_NOT_ALLOWED_CODE) return 'notAllowed';
  if (DNS_CODES.has(code)) return 'dns';
  if (code === 'ECONNREFUSED') return 'refused';
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (TLS_CODE.test(code)) return 'tls';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED')
    return 'reset';
  return 'network';
}

/**
 * What the test connection says about a request that got no answer (`host`: the target's host, or
 * words naming the OAuth token endpoint). Refused, timed out, reset and every other failure to
 * open a connection or get an answer are ONE reason with ONE message, so the test cannot tell
 * whether anything listens at an address (it is no port scanner); the code is kept in `detail`,
 * for the operator's log only. A name that does not resolve, an address the policy refuses
 * (nothing is contacted) and a failed TLS handshake keep their own messages. A FerryError is a
 * failure of the OAuth token endpoint, explained the same way.
 */
export function explainConnectionFailure(
  error: unknown,
  host: string,
): {
  reason: 'dns' | 'addressNotAllowed' | 'tls' | 'unreachable' | 'unauthorized' | 'network';
  message: string;
  detail?: string;
} {
  if (error instanceof FerryError) {
    if (error.code === 'Unauthorized') return { reason: 'unauthorized', message: error.message };
    if (error.code === 'AddressNotAllowed') return { reason: 'addressNotAllowed', message: error.message };
    if (error.cause !== undefined) return explainConnectionFailure(error.cause, 'the OAuth token endpoint');
    return { reason: 'network', message: error.message };
  }
  const reason = networkFailureReason(error);
  const code = networkErrorCode(error);
  if (reason === 'notAllowed') return { reason: 'addressNotAllowed', message: (error as Error).message };
  if (reason === 'dns') return { reason: 'dns', message: `Cannot resolve the host name of ${host} (${code})` };
  if (reason === 'tls')
    return { reason: 'tls', message: `The TLS handshake with ${host} failed: ${tlsFailureReason(code)} (${code})` };
  return {
    reason: 'unreachable',
    message: `No answer from ${host}: the connection was refused, timed out or closed before an answer`,
    ...(code ? { detail: code } : {}),
  };
}

/**
 * Milliseconds to wait from a `Retry-After` value: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** `detail` and `scimType` of a SCIM error body (RFC 7644 §3.12), tolerating common deviations. */
function readErrorBody(body: unknown): { detail?: string; scimType?: string } {
  if (!body || typeof body !== 'object') return {};
  const record = body as Record<string, unknown>;
  const detail = [record.detail, record.message, record.error_description, record.error].find(
    (value): value is string => typeof value === 'string',
  );
  // Both end up in logs and escrow rows: bounded, whatever the target sends (scimType is a short keyword).
  const scimType = typeof record.scimType === 'string' ? record.scimType.slice(0, 100) : undefined;
  return { detail: detail?.slice(0, 500), scimType };
}

function codeForBadRequest(scimType: string | undefined, detail: string | undefined): ErrorCode {
  if (scimType === 'invalidPath' || scimType === 'noTarget') return 'SchemaAttributeNotFound';
  if (detail && /required|missing/i.test(detail)) return 'MandatoryFieldsMissing';
  return 'BadRequest';
}

/** Map a failed exchange to one of the five error kinds, with Entra's error code and the SCIM scimType. */
export function classifyScimFailure(failure: ScimFailure, now: number = Date.now()): FerryError {
  if (failure.kind === 'network') {
    const reason = networkFailureReason(failure.error);
    const code = networkErrorCode(failure.error);
    const suffix = code ? ` (${code})` : '';
    if (reason === 'notAllowed')
      return new ConfigurationError((failure.error as Error).message, {
        code: 'AddressNotAllowed',
        cause: failure.error,
      });
    if (reason === 'timeout')
      return new TransientError(`SCIM target did not answer in time${suffix}`, {
        code: 'Timeout',
        cause: failure.error,
      });
    if (reason === 'tls')
      return new ConfigurationError(`TLS handshake with the SCIM target failed: ${tlsFailureReason(code)}${suffix}`, {
        code: 'TlsError',
        cause: failure.error,
      });
    if (reason === 'dns')
      return new TransientError(`SCIM target host name does not resolve${suffix}`, {
        code: 'ServiceUnavailable',
        cause: failure.error,
      });
    return new TransientError(`Network error talking to the SCIM target${suffix}`, {
      code: 'ServiceUnavailable',
      cause: failure.error,
    });
  }

  if (failure.kind === 'tooLarge') {
    return new ConfigurationError(`SCIM response exceeds ${failure.maxBytes} bytes`, {
      code: 'NonScimResponse',
      cause: failure.cause,
    });
  }

  if (failure.kind === 'tokenRefused') {
    // invalid_client / unauthorized_client: the stored credentials are wrong, retrying cannot help.
    const what =
      failure.status === null
        ? 'answered without an access_token'
        : `refused the client credentials (${failure.status})`;
    return new ConfigurationError(`OAuth token endpoint ${what}`, {
      code: 'Unauthorized',
      ...(failure.status === null ? {} : { status: failure.status }),
    });
  }

  if (failure.kind === 'invalidBody') {
    return new ConfigurationError(`SCIM target answered ${failure.status} with a non-SCIM body: ${failure.reason}`, {
      code: 'NonScimResponse',
      status: failure.status,
    });
  }

  const { status } = failure;
  const { detail, scimType } = readErrorBody(failure.body);
  const retryAfterMs = parseRetryAfter(failure.retryAfter, now);
  const message = `SCIM target answered ${status}${scimType ? ` ${scimType}` : ''}${detail ? `: ${detail}` : ''}`;
  const base = { status, scimType };

  if (status === 429) return new TransientError(message, { ...base, code: 'TooManyRequests', retryAfterMs });
  if (status === 408 || status === 504) return new TransientError(message, { ...base, code: 'Timeout', retryAfterMs });
  if (status === 401) return new ConfigurationError(message, { ...base, code: 'Unauthorized' });
  if (status === 403) return new ConfigurationError(message, { ...base, code: 'Unauthorized' });
  if (status === 404) {
    return failure.resourceUrl
      ? new NotFoundError(message, { ...base, code: 'NotFound' })
      : new ConfigurationError(message, { ...base, code: 'NonScimResponse' });
  }
  if (status === 409 || scimType === 'uniqueness') return new ConflictError(message, { ...base, code: 'Conflict' });
  // 412: the resource changed since we read it (ETag); reading again and retrying can succeed.
  if (status === 412) return new TransientError(message, { ...base, code: 'Conflict' });
  if (status === 501) return new PermanentError(message, { ...base, code: 'BadRequest' });
  if (status >= 500) return new TransientError(message, { ...base, code: 'ServiceUnavailable', retryAfterMs });
  if (status >= 400) return new PermanentError(message, { ...base, code: codeForBadRequest(scimType, detail) });
  // A 1xx/3xx reaching us means a redirect or protocol the target should not use for SCIM.
  return new ConfigurationError(message, { ...base, code: 'NonScimResponse' });
}

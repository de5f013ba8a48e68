// One classifier decides what every failed SCIM exchange means for the provisioning job.
import { describe, expect, it } from 'vitest';
import { classifyScimFailure, parseRetryAfter, type ScimFailure } from '../../scim/index.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const scimError = (status: number, scimType?: string, detail = 'x') => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
  status: String(status),
  ...(scimType ? { scimType } : {}),
  detail,
});
const networkError = (code: string) => Object.assign(new Error(code), { code });

describe('classifyScimFailure', () => {
  const table: Array<[string, ScimFailure, string, string, string?]> = [
    // [case, failure, error class, Entra code, scimType]
    [
      '429 Too Many Requests',
      { kind: 'response', status: 429, body: scimError(429), retryAfter: '3' },
      'TransientError',
      'TooManyRequests',
    ],
    ['500', { kind: 'response', status: 500 }, 'TransientError', 'ServiceUnavailable'],
    ['502', { kind: 'response', status: 502 }, 'TransientError', 'ServiceUnavailable'],
    ['503', { kind: 'response', status: 503, retryAfter: '10' }, 'TransientError', 'ServiceUnavailable'],
    ['504', { kind: 'response', status: 504 }, 'TransientError', 'Timeout'],
    ['408', { kind: 'response', status: 408 }, 'TransientError', 'Timeout'],
    [
      'connection reset',
      { kind: 'network', error: networkError('ECONNRESET') },
      'TransientError',
      'ServiceUnavailable',
    ],
    [
      'connection refused',
      { kind: 'network', error: networkError('ECONNREFUSED') },
      'TransientError',
      'ServiceUnavailable',
    ],
    [
      'headers timeout',
      { kind: 'network', error: networkError('UND_ERR_HEADERS_TIMEOUT') },
      'TransientError',
      'Timeout',
    ],
    [
      'connect timeout',
      { kind: 'network', error: networkError('UND_ERR_CONNECT_TIMEOUT') },
      'TransientError',
      'Timeout',
    ],
    [
      'self-signed certificate',
      { kind: 'network', error: networkError('DEPTH_ZERO_SELF_SIGNED_CERT') },
      'ConfigurationError',
      'TlsError',
    ],
    [
      'certificate for another host',
      { kind: 'network', error: networkError('ERR_TLS_CERT_ALTNAME_INVALID') },
      'ConfigurationError',
      'TlsError',
    ],
    [
      'expired certificate',
      { kind: 'network', error: networkError('CERT_HAS_EXPIRED') },
      'ConfigurationError',
      'TlsError',
    ],
    [
      '404 on a resource',
      { kind: 'response', status: 404, body: scimError(404), resourceUrl: true },
      'NotFoundError',
      'NotFound',
    ],
    [
      '404 on a collection',
      { kind: 'response', status: 404, resourceUrl: false },
      'ConfigurationError',
      'NonScimResponse',
    ],
    [
      '409 uniqueness',
      { kind: 'response', status: 409, body: scimError(409, 'uniqueness') },
      'ConflictError',
      'Conflict',
      'uniqueness',
    ],
    [
      '400 uniqueness',
      { kind: 'response', status: 400, body: scimError(400, 'uniqueness') },
      'ConflictError',
      'Conflict',
      'uniqueness',
    ],
    [
      '400 invalidPath',
      { kind: 'response', status: 400, body: scimError(400, 'invalidPath') },
      'PermanentError',
      'SchemaAttributeNotFound',
      'invalidPath',
    ],
    [
      '400 noTarget',
      { kind: 'response', status: 400, body: scimError(400, 'noTarget') },
      'PermanentError',
      'SchemaAttributeNotFound',
      'noTarget',
    ],
    [
      '400 missing required',
      { kind: 'response', status: 400, body: scimError(400, 'invalidValue', 'userName is required') },
      'PermanentError',
      'MandatoryFieldsMissing',
      'invalidValue',
    ],
    [
      '400 invalidValue',
      { kind: 'response', status: 400, body: scimError(400, 'invalidValue', 'bad') },
      'PermanentError',
      'BadRequest',
      'invalidValue',
    ],
    ['422', { kind: 'response', status: 422 }, 'PermanentError', 'BadRequest'],
    ['501 not implemented', { kind: 'response', status: 501 }, 'PermanentError', 'BadRequest'],
    ['401', { kind: 'response', status: 401 }, 'ConfigurationError', 'Unauthorized'],
    ['403', { kind: 'response', status: 403 }, 'ConfigurationError', 'Unauthorized'],
    [
      '200 with HTML',
      { kind: 'invalidBody', status: 200, reason: 'body is not JSON' },
      'ConfigurationError',
      'NonScimResponse',
    ],
    ['302 redirect', { kind: 'response', status: 302 }, 'ConfigurationError', 'NonScimResponse'],
    ['answer over the size cap', { kind: 'tooLarge', maxBytes: 10_000 }, 'ConfigurationError', 'NonScimResponse'],
    ['OAuth token endpoint refuses (401)', { kind: 'tokenRefused', status: 401 }, 'ConfigurationError', 'Unauthorized'],
    [
      'OAuth token answer without a token',
      { kind: 'tokenRefused', status: null },
      'ConfigurationError',
      'Unauthorized',
    ],
  ];

  it.each(table)('%s → %s (%s)', (_case, failure, className, code, scimType) => {
    const error = classifyScimFailure(failure, NOW);
    expect(error.constructor.name).toBe(className);
    expect(error.name).toBe(className);
    expect(error.code).toBe(code);
    expect(error.scimType).toBe(scimType);
    if (failure.kind === 'response') expect(error.status).toBe(failure.status);
  });

  it('only transient errors are retryable', () => {
    for (const [, failure, className] of table) {
      expect(classifyScimFailure(failure, NOW).retryable).toBe(className === 'TransientError');
    }
  });

  it('carries Retry-After of a 429 and a 503 in milliseconds', () => {
    expect(classifyScimFailure({ kind: 'response', status: 429, retryAfter: '3' }, NOW).retryAfterMs).toBe(3000);
    expect(
      classifyScimFailure({ kind: 'response', status: 503, retryAfter: 'Mon, 23 Nov 2026 12:00:05 GMT' }, NOW)
        .retryAfterMs,
    ).toBe(5000);
  });

  it.each([
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /self-signed/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /self-signed/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /not valid for this host name/],
    ['CERT_HAS_EXPIRED', /expired/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /trusted authority/],
  ])('names the TLS reason of %s in the message', (code, reason) => {
    const error = classifyScimFailure({ kind: 'network', error: networkError(code) }, NOW);
    expect(error.message).toMatch(/^TLS handshake with the SCIM target failed: /);
    expect(error.message).toMatch(reason);
    expect(error.message).toContain(`(${code})`);
  });

  it('puts the SCIM detail in the message', () => {
    const error = classifyScimFailure(
      { kind: 'response', status: 400, body: scimError(400, 'invalidValue', 'emails[0].value is not an e-mail') },
      NOW,
    );
    expect(error.message).toContain('emails[0].value is not an e-mail');
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120_000],
    ['0', 0],
    ['1.5', 1500],
    ['Mon, 23 Nov 2026 12:01:00 GMT', 60_000],
    ['Mon, 23 Nov 2026 11:59:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ])('%s → %s ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

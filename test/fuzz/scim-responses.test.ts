// Whatever a SCIM target answers, the client fails only with the typed errors of engine/errors.ts
// (which decide retry, escrow or quarantine) and never hangs: a loopback server answers each
// request with a generated status, headers and body — SCIM-shaped JSON with wrong types, any
// JSON, bytes that are not UTF-8, JSON 10 000 levels deep, bodies over the size cap, resets and
// silence — and every client operation either resolves or rejects with a FerryError. The test
// connection never rejects: it explains.
import type { ServerResponse } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CLASS_NAMES, FerryError, PermanentError } from '../../engine/errors.ts';
import { classifyScimFailure, createScimClient, parseRetryAfter, type ScimClient } from '../../scim/index.ts';
import { startScimStub, type ScimStub } from '../support/scim-stub.ts';
import {
  SCIM_FILTER_INJECTIONS,
  deepArrayText,
  deepObjectText,
  fuzzRuns,
  mutate,
  mutation,
  nastyString,
} from './arbitraries.ts';

const RUNS = fuzzRuns(150);
/** Far above any answer from loopback with the short timeouts below: only a hang gets near it. */
const ANSWER_WITHIN_MS = 5_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

interface Answer {
  kind: 'answer' | 'reset' | 'silent';
  status: number;
  headers: [string, string][];
  body: string | Uint8Array;
}

/** The answers of the current run, one per request; the last one repeats. */
let script: Answer[] = [];
let served = 0;
let stub: ScimStub;

beforeAll(async () => {
  stub = await startScimStub((_request, res) => {
    const answer = script[Math.min(served++, script.length - 1)];
    play(answer, res);
  });
});
afterAll(() => stub.close());

function play(answer: Answer, res: ServerResponse): void {
  if (answer.kind === 'reset') return void res.socket?.destroy();
  if (answer.kind === 'silent') return; // the client's timeout must end it
  for (const [name, value] of answer.headers) {
    try {
      res.setHeader(name, value);
    } catch {
      // Not a valid header value on the wire (control characters): a real server cannot send it either.
    }
  }
  res.statusCode = answer.status;
  res.end(answer.body);
}

const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

const anyId = fc.oneof(nastyString, fc.integer(), fc.constant(null), fc.constantFrom('u-1', '', '0'));
const count = fc.oneof(fc.nat(5), fc.constantFrom(-1, 1e15, '3', 'many', null, 1.5));

const resource = fc.record(
  {
    schemas: fc.oneof(fc.constant([USER]), fc.jsonValue({ maxDepth: 1 })),
    id: anyId,
    userName: nastyString,
    externalId: fc.oneof(nastyString, fc.constant(null), fc.integer()),
    members: fc.array(fc.record({ value: anyId }), { maxLength: 2 }),
    meta: fc.record({ version: nastyString, location: nastyString }),
  },
  { requiredKeys: [] },
);

/** The shapes a SCIM target answers with, each as it should be and with its fields broken. */
const scimShape = fc.oneof(
  fc.record({
    schemas: fc.constant([LIST]),
    totalResults: count,
    startIndex: count,
    itemsPerPage: count,
    Resources: fc.oneof(fc.array(resource, { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
  }),
  resource,
  fc.record({
    schemas: fc.constant([ERROR]),
    status: fc.oneof(fc.constantFrom('400', '409', '500', 'x'), fc.integer()),
    scimType: fc.oneof(
      fc.constantFrom('uniqueness', 'invalidFilter', 'noTarget', 'tooMany', 'mutability'),
      nastyString,
    ),
    detail: nastyString,
  }),
  fc.record({
    patch: fc.record({ supported: fc.oneof(fc.boolean(), nastyString) }),
    bulk: fc.record({
      supported: fc.oneof(fc.boolean(), fc.constant('true')),
      maxOperations: count,
      maxPayloadSize: count,
    }),
    filter: fc.record({ supported: fc.oneof(fc.boolean(), fc.constant(0)), maxResults: count }),
  }),
  fc.record({
    schemas: fc.constant(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']),
    Operations: fc.array(
      fc.record(
        {
          method: nastyString,
          bulkId: fc.oneof(nastyString, fc.integer()),
          location: nastyString,
          status: fc.oneof(fc.constantFrom('201', '409', 'x'), fc.integer(), fc.record({ code: count })),
          response: fc.jsonValue({ maxDepth: 1 }),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
  }),
);

const body: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(scimShape, fc.array(mutation, { maxLength: 2 }))
      .map(([v, m]) => JSON.stringify(mutate(v, m)) ?? ''),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '{',
      '<html><body>Sign in</body></html>',
      '\uFEFF{"schemas":[]}',
      deepArrayText(10_000),
      deepObjectText(10_000),
      `{"Resources":${deepArrayText(10_000)}}`,
      JSON.stringify({ schemas: [LIST], totalResults: 1, Resources: [{ id: 'x'.repeat(MAX_RESPONSE_BYTES) }] }),
    ),
  },
  { weight: 1, arbitrary: nastyString },
);

const RETRY_AFTER = [
  '0',
  '1',
  '-1',
  'soon',
  '99999999999',
  '1e3',
  'Wed, 21 Oct 2015 07:28:00 GMT',
  'Fri, 31 Dec 9999 23:59:59 GMT',
];

const answer: fc.Arbitrary<Answer> = fc.record({
  kind: fc.oneof(
    { weight: 30, arbitrary: fc.constant('answer' as const) },
    { weight: 1, arbitrary: fc.constantFrom('reset' as const, 'silent' as const) },
  ),
  status: fc.oneof(
    fc.constantFrom(200, 201, 204, 400, 401, 403, 404, 409, 412, 413, 429, 500, 502, 503, 504),
    fc.integer({ min: 200, max: 599 }),
  ),
  headers: fc
    .tuple(
      fc.constantFrom(
        'application/scim+json',
        'application/json',
        'text/html',
        'text/plain',
        'application/json; charset=utf-16',
      ),
      fc.option(fc.oneof(fc.constantFrom(...RETRY_AFTER), nastyString)),
      fc.option(nastyString),
    )
    .map(([type, retryAfter, location]): [string, string][] => [
      ['content-type', type],
      ...(retryAfter === null ? [] : [['retry-after', retryAfter] as [string, string]]),
      ...(location === null ? [] : [['location', location] as [string, string]]),
    ]),
  body,
});

type Operation = (client: ScimClient) => Promise<unknown>;

const operation: fc.Arbitrary<[string, Operation]> = fc.oneof(
  fc.constantFrom<[string, Operation]>(
    ['discover', (c) => c.discover()],
    ['list', (c) => c.list('Users', { startIndex: 1, count: 2 })],
    ['listAll', (c) => c.listAll('Groups')],
    ['findBy', (c) => c.findBy('Users', 'userName', SCIM_FILTER_INJECTIONS[0])],
    ['create', (c) => c.create('Users', { schemas: [USER], userName: 'ada' })],
    [
      'createOrAdopt',
      (c) => c.createOrAdopt('Users', { schemas: [USER], userName: 'ada' }, [{ attribute: 'userName', value: 'ada' }]),
    ],
    ['patch', (c) => c.patch('Users', 'u-1', [{ op: 'replace', path: 'displayName', value: 'Ada' }])],
    ['replace', (c) => c.replace('Users', 'u-1', { schemas: [USER], id: 'u-1', userName: 'ada' })],
    ['delete', (c) => c.delete('Users', 'u-1')],
    ['addMembers', (c) => c.addMembers('g-1', ['u-1', 'u-2', 'u-3'], 2)],
    ['removeMembers', (c) => c.removeMembers('g-1', ['u-1', 'u-2', 'u-3'], 2)],
    [
      'bulk',
      (c) =>
        c.bulk([
          { method: 'POST', path: '/Users', bulkId: 'b1', data: { schemas: [USER], userName: 'ada' } },
          { method: 'DELETE', path: '/Users/u-1' },
        ]),
    ],
  ),
  nastyString.map((id): [string, Operation] => ['get', (c) => c.get('Users', id)]),
);

function newClient(profile: 'strict' | 'put-only'): ScimClient {
  return createScimClient({
    baseUrl: `${stub.origin}/scim/v2`,
    auth: { type: 'bearer', token: 'tok_fuzz' },
    profile,
    allowInsecureLoopback: true,
    bulk: true,
    requestsPerSecond: 100_000,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    // A silent target is given up on quickly; the property's bound is far above this.
    timeouts: { connectMs: 1000, headersMs: 300, bodyMs: 300 },
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    maxRetryAfterMs: 5,
  });
}

async function within<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the SCIM client turns any answer of a target into a result or a typed error, never a hang', () => {
  it('every operation resolves or rejects with one of the five FerryErrors', async () => {
    await fc.assert(
      fc.asyncProperty(
        operation,
        fc.array(answer, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('strict' as const, 'put-only' as const),
        async ([, run], answers, profile) => {
          script = answers;
          served = 0;
          const client = newClient(profile);
          try {
            const outcome = await within(
              run(client).then(
                () => null,
                (error: unknown) => error,
              ),
            );
            if (outcome !== null) {
              expect(outcome, String((outcome as Error)?.stack ?? outcome)).toBeInstanceOf(FerryError);
              expect(ERROR_CLASS_NAMES).toContain((outcome as FerryError).name);
            }
          } finally {
            await client.close();
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('the test connection never rejects: it answers ok or a reason with a message', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(answer, { minLength: 1, maxLength: 3 }), async (answers) => {
        script = answers;
        served = 0;
        const client = newClient('strict');
        try {
          const result = await within(client.testConnection());
          if (!result.ok) {
            expect(result.reason).toMatch(
              /^(dns|addressNotAllowed|unreachable|tls|network|insecure|unauthorized|forbidden|notFound|notScim|unavailable|unexpected)$/,
            );
            expect(result.message.length).toBeGreaterThan(0);
          }
        } finally {
          await client.close();
        }
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('an id holding half a surrogate pair fails that object with a PermanentError, sending nothing', async () => {
    script = [
      {
        kind: 'answer',
        status: 200,
        headers: [['content-type', 'application/scim+json']],
        body: JSON.stringify({ schemas: [LIST], totalResults: 0, Resources: [] }),
      },
    ];
    served = 0;
    const client = newClient('strict');
    const half = '😀'.slice(0, 1);
    const toUsers = () => stub.requests.filter((r) => r.url.includes('/Users')).length;
    const before = toUsers();
    try {
      await expect(client.get('Users', `u-${half}`)).rejects.toBeInstanceOf(PermanentError);
      await expect(client.delete('Users', half)).rejects.toBeInstanceOf(PermanentError);
      await expect(
        client.patch('Users', half, [{ op: 'replace', path: 'active', value: false }]),
      ).rejects.toBeInstanceOf(PermanentError);
      expect(toUsers()).toBe(before);
      // In a filter the value is a JSON string, where the half pair is escaped (\ud83d): that is sent.
      expect(await client.findBy('Users', 'userName', `ada${half}`)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('the classifier maps any status, error body and Retry-After to a FerryError with a usable wait', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.oneof(scimShape, fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)),
        fc.option(fc.oneof(fc.constantFrom(...RETRY_AFTER, '1'.repeat(400), '1.5', ' 2 '), nastyString)),
        fc.boolean(),
        (status, errorBody, retryAfter, resourceUrl) => {
          const now = Date.UTC(2026, 0, 1);
          const error = classifyScimFailure(
            { kind: 'response', status, body: errorBody, retryAfter, resourceUrl },
            now,
          );
          expect(error).toBeInstanceOf(FerryError);
          expect(ERROR_CLASS_NAMES).toContain(error.name);
          // A wait is a number of milliseconds from now, never NaN or negative (Infinity is capped by escrow).
          if (error.retryAfterMs !== undefined) expect(error.retryAfterMs).toBeGreaterThanOrEqual(0);
          const wait = parseRetryAfter(retryAfter, now);
          if (wait !== undefined) expect(Number.isNaN(wait)).toBe(false);
          expect(error.message.length).toBeLessThan(1_000);
        },
      ),
      { numRuns: RUNS * 4 },
    );
  });

  it('a target choosing a 10 000-character scimType or detail does not put it all into logs and escrow rows', () => {
    const error = classifyScimFailure({
      kind: 'response',
      status: 400,
      body: { schemas: [ERROR], scimType: 'x'.repeat(10_000), detail: 'y'.repeat(10_000) },
    });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message.length).toBeLessThan(1_000);
    expect(error.scimType!.length).toBeLessThanOrEqual(100);
  });
});

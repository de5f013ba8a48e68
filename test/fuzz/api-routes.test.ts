// Bad input never crashes or hangs the API: every route and method of the OpenAPI document
// (walked at run time, so a new route is fuzzed without editing this file) gets wrong types,
// missing and extra fields, hostile strings, huge and deep JSON, odd content types, weird ids and
// SCIM filter injections in the query. The answer is never a 5xx, every 4xx has the one error
// shape, and each request answers within a generous bound (a hang, not a speed claim).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError, API_ERROR_STATUS, errorSchema } from '../../api/errors.ts';
import { SCIM_SECURITY_SCHEME } from '../../api/scim-inbound/openapi.ts';
import { recordingProvisioning } from '../api/helpers.ts';
import { API_KEY, read, send, storeApp } from '../api/routes/helpers.ts';
import {
  NASTY_STRINGS,
  SCIM_FILTER_INJECTIONS,
  deepArrayText,
  deepObjectText,
  jsonText,
  fromSchema,
  fuzzRuns,
  mutate,
  mutation,
  nastyString,
  wrongValue,
  type JsonSchema,
} from './arbitraries.ts';

const RUNS_PER_ROUTE = fuzzRuns(25);
/** Far above any honest answer in-process; only a hang or a runaway loop gets near it. */
const ANSWER_WITHIN_MS = 5_000;

// The on-demand routes await the job; with no job running the real control refuses like this.
const recording = recordingProvisioning();
recording.control.provisionOnDemand = async () => {
  throw new ApiError('job_not_running', 'No provisioning job runs for this app; start it first');
};
recording.control.startOnDemand = async () => {
  throw new ApiError('job_not_running', 'No provisioning job runs for this app; start it first');
};
// No on-demand request ever ran: Temporal knows none of the ids the progress route is asked for.
recording.control.onDemandOutcome = async () => ({ state: 'unknown' });
const ctx = await storeApp({ provisioning: recording.control });
afterAll(() => ctx.close());

const doc = await read(await ctx.app.request('/openapi.json', send('GET')));
const components = doc.components.schemas as Record<string, JsonSchema>;

// Real objects, so generated requests also reach the handlers past the "not found" checks. Each
// route starts with all three present again: a fuzzed DELETE must not leave later routes only 404s.
let appId = '';
async function existingIds(): Promise<string[]> {
  const exists = async (path: string) => (await ctx.app.request(path, send('GET'))).status === 200;
  if (!(await exists('/api/v1/directory/users/fuzz-user'))) {
    await ctx.app.request(
      '/api/v1/directory/users',
      send('POST', { id: 'fuzz-user', userPrincipalName: 'fuzz@contoso.example' }),
    );
  }
  if (!(await exists('/api/v1/directory/groups/fuzz-group'))) {
    await ctx.app.request('/api/v1/directory/groups', send('POST', { id: 'fuzz-group', displayName: 'Fuzz' }));
  }
  if (!appId || !(await exists(`/api/v1/apps/${appId}`))) {
    const app = await read(
      await ctx.app.request(
        '/api/v1/apps',
        send('POST', {
          name: 'Fuzz',
          template: 'generic-scim',
          target: { url: 'https://127.0.0.1:9/scim', token: 'tok_fuzz' },
        }),
      ),
    );
    appId = app.id;
  }
  return ['fuzz-user', 'fuzz-group', appId];
}

/** Ids as an attacker writes them into a URL: already percent-encoded (or deliberately not). */
const RAW_IDS = [
  '..',
  '../..',
  '..%2f..%2f',
  '%2e%2e',
  '%2e%2e%2f%2e%2e',
  '%252e%252e',
  '%00',
  'a%00b',
  '%',
  '%zz',
  '%ff',
  '%c0%ae%c0%ae',
  '%ED%A0%80',
  '%EF%BF%BE',
  '.%2e',
  '~',
  'x'.repeat(5_000),
  '*',
  '%20',
  '%0d%0aX-Injected:%201',
];

const pathId = (existing: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...existing) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_IDS) },
    { weight: 2, arbitrary: nastyString.map(encodePathSegment) },
  );

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes into the URL as is. */
function encodePathSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

interface Operation {
  method: string;
  path: string;
  parameters: { name: string; in: string; schema?: JsonSchema }[];
  body?: { contentTypes: string[]; schema?: JsonSchema };
}

// /scim/v2 is in the document too, but it is SCIM's protocol (a scim source's token, SCIM's error
// shape), not the control API: test/sources/scim-inbound.test.ts covers its bad input.
const operations: Operation[] = Object.entries(
  doc.paths as Record<string, Record<string, Record<string, unknown>>>,
).flatMap(([path, methods]) =>
  Object.entries(methods)
    .filter(([, op]) => !(op.security as object[] | undefined)?.some((s) => SCIM_SECURITY_SCHEME in s))
    .map(([method, op]) => {
      const content = (op.requestBody as { content?: Record<string, { schema?: JsonSchema }> } | undefined)?.content;
      return {
        method: method.toUpperCase(),
        path,
        parameters: (op.parameters ?? []) as Operation['parameters'],
        body: content
          ? {
              contentTypes: Object.keys(content),
              schema: content['application/json']?.schema ?? Object.values(content)[0]?.schema,
            }
          : undefined,
      };
    }),
);

const HUGE_BYTES = 1024 * 1024 + 1;
/** Routes with the larger import body limit (50 MiB): a huge body gets through to the handler. */
const LARGE_BODY_PATHS = new Set(['/api/v1/directory/import', '/api/v1/sources/{id}/snapshots']);
/** Bodies no generator stumbles on by chance; text, sent as is. */
const HOSTILE_BODIES = [
  '',
  '{',
  '{"a":',
  "{'a': 1}",
  '[1,]',
  'undefined',
  'NaN',
  '\u0000',
  '\uFEFF{}',
  '{"a":1}{"b":2}',
  '"\\ud800"',
  '{"__proto__": {"polluted": true}}',
  deepArrayText(10_000),
  deepObjectText(10_000),
  '['.repeat(100_000),
  JSON.stringify({ name: 'x'.repeat(900_000) }),
  JSON.stringify('x'.repeat(HUGE_BYTES)),
  'userName,mail\n"unterminated,\n',
  'a,b,c\n'.repeat(1_000),
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/scim+json',
  'text/csv',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  '*/*',
];

type Body = { text: string; contentType: string | null } | null;

function bodyFor(op: Operation): fc.Arbitrary<Body> {
  const valid = op.body?.schema ? fromSchema(op.body.schema, components) : fc.jsonValue({ maxDepth: 2 });
  const documented = op.body?.contentTypes ?? ['application/json'];
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...documented) },
    { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    { weight: 1, arbitrary: fc.constant(null) },
  );
  const json = fc.oneof(
    { weight: 3, arbitrary: valid },
    {
      weight: 5,
      arbitrary: fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([v, m]) => mutate(v, m)),
    },
    { weight: 1, arbitrary: wrongValue },
  );
  const text = fc.oneof(
    { weight: 6, arbitrary: json.map(jsonText) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_BODIES) },
    { weight: 1, arbitrary: nastyString },
  );
  const withBody = fc.record({ text, contentType });
  return op.body
    ? fc.oneof({ weight: 9, arbitrary: withBody }, { weight: 1, arbitrary: fc.constant(null) })
    : fc.oneof(fc.constant(null), withBody);
}

function queryFor(op: Operation): fc.Arbitrary<[string, string][]> {
  const documented = op.parameters.filter((p) => p.in === 'query');
  const valueOf = (p: Operation['parameters'][number]) =>
    fc.oneof(
      { weight: 2, arbitrary: p.schema ? fromSchema(p.schema, components).map(String) : fc.string() },
      { weight: 2, arbitrary: nastyString },
      { weight: 1, arbitrary: fc.constantFrom(...SCIM_FILTER_INJECTIONS) },
      { weight: 1, arbitrary: fc.constantFrom('-1', '0', '1e9', '99999999999999999999', '1.5', 'true', '[]', '') },
    );
  const known = documented.map((p) =>
    fc.option(
      fc
        .array(valueOf(p), { minLength: 1, maxLength: 2 })
        .map((values) => values.map((v): [string, string] => [p.name, v])),
      { freq: 2 },
    ),
  );
  const extra = fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom('filter', 'startIndex', 'count', 'attributes', '__proto__', 'limit'), nastyString),
      fc.oneof(fc.constantFrom(...SCIM_FILTER_INJECTIONS), nastyString),
    ),
    { maxLength: 2 },
  );
  return fc.tuple(fc.tuple(...known), extra).map(([parts, more]) => [...parts.flatMap((p) => p ?? []), ...more]);
}

function urlFor(op: Operation, ids: string[], query: [string, string][]): string {
  let i = 0;
  const path = op.path.replace(/\{[^}]+\}/g, () => ids[i++ % ids.length]);
  const search = query.map(([k, v]) => `${encodePathSegment(k)}=${encodePathSegment(v)}`).join('&');
  return search ? `${path}?${search}` : path;
}

function requestFor(op: Operation, existing: string[]) {
  return fc.record({
    ids: fc.array(pathId(existing), { minLength: 2, maxLength: 2 }),
    query: queryFor(op),
    body: bodyFor(op),
    // Now and then another method on the same path (405/404, never 500).
    method: fc.oneof(
      { weight: 9, arbitrary: fc.constant(op.method) },
      { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'POST') },
    ),
  });
}

async function answer(method: string, url: string, body: Body): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${API_KEY}` };
  if (body?.contentType) headers['Content-Type'] = body.contentType;
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS);
  });
  try {
    return await Promise.race([
      (async () => {
        const res = await ctx.app.request(url, {
          method,
          headers,
          body: body && method !== 'GET' && method !== 'HEAD' ? body.text : undefined,
        });
        return { status: res.status, text: await res.text() };
      })(),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The facts every answer to bad input keeps. */
function expectCleanAnswer({ status, text }: { status: number; text: string }, method: string): void {
  expect(status, text.slice(0, 500)).toBeLessThan(500);
  if (status < 400 || method === 'HEAD') return;
  const body = errorSchema.safeParse(JSON.parse(text));
  expect(body.success, text.slice(0, 500)).toBe(true);
  expect(API_ERROR_STATUS[body.data!.error.code]).toBe(status);
}

describe('every route of the OpenAPI document answers bad input with a 4xx in the error shape, never a 5xx or a hang', () => {
  it('the document has the routes this fuzzes', () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toContain('POST /api/v1/directory/import');
  });

  /** Routes that answered at least one generated request with a 2xx. */
  const succeeded = new Set<string>();

  it.each(operations.map((op) => [`${op.method} ${op.path}`, op] as const))('%s', async (name, op) => {
    const existing = await existingIds();
    await fc.assert(
      fc.asyncProperty(requestFor(op, existing), async ({ ids, query, body, method }) => {
        const res = await answer(method, urlFor(op, ids, query), body);
        expectCleanAnswer(res, method);
        if (res.status < 300) succeeded.add(name);
      }),
      { numRuns: RUNS_PER_ROUTE },
    );
  });

  it('the generated requests get past validation to the handlers, not only 4xx', () => {
    // A harness that only ever produced refusals (a broken key, a wrong path) would prove nothing.
    expect(succeeded.size).toBeGreaterThanOrEqual(5);
  });

  it('every hostile body on every route with a body', async () => {
    for (const op of operations.filter((o) => o.body)) {
      for (const text of HOSTILE_BODIES) {
        for (const contentType of op.body!.contentTypes) {
          const url = urlFor(op, await existingIds(), []);
          const res = await answer(op.method, url, { text, contentType });
          expectCleanAnswer(res, op.method);
          if (text.length > HUGE_BYTES && !LARGE_BODY_PATHS.has(op.path)) expect(res.status).toBe(413);
        }
      }
    }
  });

  it('every weird id in every path parameter', async () => {
    for (const op of operations.filter((o) => o.path.includes('{'))) {
      for (const id of [...RAW_IDS, ...NASTY_STRINGS.map(encodePathSegment)]) {
        expectCleanAnswer(await answer(op.method, urlFor(op, [id, id], []), null), op.method);
      }
    }
  });
});

// POST /codec/encode and /codec/decode — Temporal's remote codec protocol, so the Temporal Web UI
// and CLI (`--codec-endpoint <ferry>/codec --codec-auth "Bearer <key>"`) show decrypted payloads to
// whoever holds an API key, while Temporal's own histories keep the ciphertext. Bodies are
// `{ payloads: [{ metadata: { <name>: <base64> }, data: <base64> }] }` (Payload protobufs as JSON);
// `X-Namespace`, when sent, must name Ferry's namespace, the only one its keys are for.
import { createRoute, z } from '@hono/zod-openapi';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { ApiError, errorResponses } from '../errors.ts';
import { jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';

export interface CodecEndpointOptions {
  codec: PayloadCodec;
  /** Ferry's Temporal namespace. */
  namespace: string;
  /** Origin of the Temporal Web UI allowed to call the endpoint from a browser (CORS); null = none. */
  uiOrigin: string | null;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const base64 = z.string().regex(BASE64, 'must be base64');

const payloadSchema = z
  .object({
    metadata: z.record(z.string(), base64).optional(),
    data: base64.optional(),
  })
  .openapi('Payload', { description: 'A Temporal Payload as protobuf JSON: metadata values and data in base64.' });

const payloadsSchema = z.object({ payloads: z.array(payloadSchema) }).openapi('Payloads');

type JsonPayload = z.infer<typeof payloadSchema>;

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
  data: b64(p.data ?? new Uint8Array()),
});

const namespaceHeader = z.object({
  'x-namespace': z.string().optional().openapi({ description: "Temporal namespace (Ferry's only)" }),
});

function codecRoute(operation: 'encode' | 'decode') {
  return createRoute({
    method: 'post',
    path: `/codec/${operation}`,
    tags: ['codec'],
    summary:
      operation === 'encode' ? 'Encrypt payloads (Temporal codec server)' : 'Decrypt payloads (Temporal codec server)',
    description:
      operation === 'encode'
        ? "Runs payloads through Ferry's payload codec as its workers do: each comes back encrypted with the current key."
        : 'Decrypts payloads read from a Temporal history (the Web UI and CLI call this); payloads that are not encrypted come back unchanged. A payload that does not decrypt (unknown key id, altered) is a 400 naming it.',
    request: { headers: namespaceHeader, body: jsonBody(payloadsSchema) },
    responses: {
      200: jsonContent(payloadsSchema, 'The payloads, in the same order'),
      ...errorResponses(400, 401, 413, 429),
    },
  });
}

export function codecRouter(options: CodecEndpointOptions) {
  const run = async (
    operation: 'encode' | 'decode',
    namespace: string | undefined,
    payloads: JsonPayload[],
  ): Promise<JsonPayload[]> => {
    // The Temporal CLI sends an empty X-Namespace: no namespace named.
    if (namespace !== undefined && namespace !== '' && namespace !== options.namespace) {
      throw new ApiError('bad_request', `Ferry's payload keys are for the namespace ${options.namespace} only`, {
        details: [{ path: 'X-Namespace', message: `must be ${options.namespace}`, in: 'header' }],
      });
    }
    // One payload at a time, so a failure names the payload that failed.
    const results: JsonPayload[] = [];
    for (const [index, payload] of payloads.entries()) {
      let done: Payload[];
      try {
        done = await options.codec[operation]([fromJson(payload)]);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new ApiError('bad_request', `Payload ${index} cannot be ${operation}d`, {
          details: [{ path: `payloads[${index}]`, message, in: 'body' }],
        });
      }
      results.push(toJson(done[0]));
    }
    return results;
  };
  return createRouter()
    .openapi(codecRoute('encode'), async (c) => {
      const { payloads } = c.req.valid('json');
      return c.json({ payloads: await run('encode', c.req.valid('header')['x-namespace'], payloads) }, 200);
    })
    .openapi(codecRoute('decode'), async (c) => {
      const { payloads } = c.req.valid('json');
      return c.json({ payloads: await run('decode', c.req.valid('header')['x-namespace'], payloads) }, 200);
    });
}

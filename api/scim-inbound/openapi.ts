// The /scim/v2 endpoints in the OpenAPI document. They are SCIM's own protocol (RFC 7643/7644), not
// the control API: a `scim` source's bearer token authorizes them (security scheme
// `scimSourceToken`), never an API key, and their bodies are SCIM resources and errors. The list of
// operations is checked against what scimInboundApp serves (test/api/scim-inbound-openapi.test.ts).
import { z, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import { SCIM_INBOUND_PATH } from './router.ts';

export const SCIM_SECURITY_SCHEME = 'scimSourceToken';
const TAG = 'SCIM inbound (RFC 7644)';
const SCIM_CONTENT = 'application/scim+json';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface ScimOperation {
  method: Method;
  /** Under SCIM_INBOUND_PATH, OpenAPI style (`{id}`). */
  path: string;
  summary: string;
  /** What a success answers: 200 with a body, 201 created, 204 nothing. */
  success: 200 | 201 | 204;
  body?: boolean;
  list?: boolean;
}

const RESOURCES = [
  { path: '/Users', one: 'user', many: 'users' },
  { path: '/Groups', one: 'group', many: 'groups' },
] as const;

/** Every operation /scim/v2 serves. */
export const SCIM_INBOUND_OPERATIONS: readonly ScimOperation[] = [
  ...RESOURCES.flatMap(({ path, one, many }): ScimOperation[] => [
    {
      method: 'get',
      path,
      summary: `List or filter the source's ${many} (eq, co, sw, and, or; startIndex, count)`,
      success: 200,
      list: true,
    },
    {
      method: 'post',
      path,
      summary: `Create a ${one} in the directory, owned by the source`,
      success: 201,
      body: true,
    },
    { method: 'get', path: `${path}/{id}`, summary: `Read one ${one}`, success: 200 },
    { method: 'put', path: `${path}/{id}`, summary: `Replace a ${one}`, success: 200, body: true },
    {
      method: 'patch',
      path: `${path}/{id}`,
      summary: `Change a ${one} with PATCH operations (RFC 7644 §3.5.2, Entra's forms too)`,
      success: 200,
      body: true,
    },
    { method: 'delete', path: `${path}/{id}`, summary: `Delete a ${one} (soft delete in the directory)`, success: 204 },
  ]),
  { method: 'get', path: '/ServiceProviderConfig', summary: 'What this SCIM service supports', success: 200 },
  { method: 'get', path: '/ResourceTypes', summary: 'The resource types served (User, Group)', success: 200 },
  { method: 'get', path: '/ResourceTypes/{id}', summary: 'One resource type', success: 200 },
  { method: 'get', path: '/Schemas', summary: 'The schemas served', success: 200 },
  { method: 'get', path: '/Schemas/{id}', summary: 'One schema', success: 200 },
];

const resourceSchema = z
  .object({ schemas: z.array(z.string()).optional(), id: z.string().optional() })
  .passthrough()
  .openapi('ScimResource', { description: 'A SCIM resource (RFC 7643): User, Group, or a discovery resource' });

const errorSchema = z
  .object({ schemas: z.array(z.string()), status: z.string(), scimType: z.string().optional(), detail: z.string() })
  .openapi('ScimError', { description: 'A SCIM error (RFC 7644 §3.12)' });

const scimBody = (schema: z.ZodTypeAny, description: string) => ({
  description,
  content: { [SCIM_CONTENT]: { schema } },
});

function routeOf(op: ScimOperation): RouteConfig {
  const responses: RouteConfig['responses'] = {
    401: scimBody(errorSchema, 'No bearer token of an enabled scim source'),
    404: scimBody(errorSchema, 'No such resource'),
    429: scimBody(errorSchema, 'Too many failed authentications from this address; see Retry-After'),
  };
  responses[op.success] =
    op.success === 204
      ? { description: 'Deleted' }
      : scimBody(resourceSchema, op.list ? 'A ListResponse' : op.success === 201 ? 'Created' : 'The resource');
  if (op.body || op.list) responses[400] = scimBody(errorSchema, 'A bad filter or body (scimType says which)');
  if (op.body) responses[409] = scimBody(errorSchema, 'userName, externalId or displayName taken (uniqueness)');
  const id = op.path.endsWith('{id}') ? { params: z.object({ id: z.string() }) } : {};
  const query = op.list
    ? {
        query: z.object({
          filter: z.string().optional(),
          startIndex: z.string().optional(),
          count: z.string().optional(),
          attributes: z.string().optional(),
          excludedAttributes: z.string().optional(),
        }),
      }
    : {};
  return {
    method: op.method,
    path: `${SCIM_INBOUND_PATH}${op.path}`,
    tags: [TAG],
    summary: op.summary,
    security: [{ [SCIM_SECURITY_SCHEME]: [] }],
    request: {
      ...id,
      ...query,
      ...(op.body ? { body: { content: { [SCIM_CONTENT]: { schema: resourceSchema } }, required: true } } : {}),
    },
    responses,
  };
}

/** Documents /scim/v2 and its security scheme in the control API's OpenAPI registry. */
export function registerScimInboundDocs(registry: OpenAPIHono['openAPIRegistry']): void {
  registry.registerComponent('securitySchemes', SCIM_SECURITY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description:
      "A scim source's token (answered once when the source is created): identity providers push users and groups to /scim/v2 with it. API keys are not accepted there.",
  });
  for (const op of SCIM_INBOUND_OPERATIONS) registry.registerPath(routeOf(op));
}

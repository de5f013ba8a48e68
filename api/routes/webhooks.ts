// Webhook subscriptions: /api/v1/webhooks CRUD and the delivery log of each. A subscription with an
// `appId` receives that app's events; without one, every app's. The signing secret is answered
// once, in the 201 of the creation, and is stored sealed (like app secrets): never returned again.
// The URL follows the rules of app targets: https, plain http only to loopback with
// FERRY_ALLOW_INSECURE_LOOPBACK=1, and an address in the URL must pass the outbound address policy.
import { createRoute, z } from '@hono/zod-openapi';
import type { NetworkRange } from '../../scim/index.ts';
import type { Store } from '../../store/index.ts';
import { GLOBAL_ONLY_EVENT_TYPES, WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../store/webhooks.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { pageQuerySchema } from '../pagination.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';
import { checkUrl } from './apps-config.ts';

const TAG = 'webhooks';

const eventsSchema = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length).openapi({
  description:
    "`cycle.finished`, `deletions.staged` (a cycle exceeded the deletion threshold), `object.failed` (an object failed permanently), `job.state_changed` (the job's state became another: `from`, `to`, `cause`), `quarantine.entered` (the job got a quarantine, also while paused), `quarantine.left` (its quarantine ended), `source.quarantine.entered` / `source.quarantine.left` (a source's imports were quarantined after 24 h of failures / the quarantine ended; every app's subscriptions only)",
});

const webhookSchema = z
  .object({
    id: z.string(),
    appId: z.string().nullable().openapi({ description: 'null: every app’s events' }),
    url: z.string(),
    events: eventsSchema,
    description: z.string().nullable(),
    enabled: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Webhook');

const createdWebhookSchema = webhookSchema
  .extend({
    secret: z.string().openapi({
      description:
        'The signing secret: shown this once, never again. Verify `Ferry-Signature: v1=<hex HMAC-SHA256(secret, "<Ferry-Timestamp>.<body>")>` and refuse timestamps older than a few minutes.',
    }),
  })
  .openapi('CreatedWebhook');

const urlSchema = z.url().max(2000).openapi({ example: 'https://alerts.example.com/ferry' });
const descriptionSchema = z.string().max(500).nullable();

const createSchema = z
  .object({
    url: urlSchema,
    events: eventsSchema,
    appId: idSchema.nullable().optional().openapi({ description: 'Only this app’s events (default: every app’s)' }),
    description: descriptionSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi('CreateWebhook');

const updateSchema = z
  .object({
    url: urlSchema.optional(),
    events: eventsSchema.optional(),
    description: descriptionSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi('UpdateWebhook');

const deliverySchema = z
  .object({
    id: z.string().openapi({ description: 'Sent as the `Ferry-Delivery` header' }),
    webhookId: z.string(),
    eventId: z.number().int(),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']).openapi({
      description:
        '`pending`: not sent yet or being retried with backoff; `failed`: attempts exhausted or address refused',
    }),
    attempts: z.number().int(),
    responseStatus: z.number().int().nullable(),
    error: z.string().nullable(),
    createdAt: z.string(),
    lastAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
  })
  .openapi('WebhookDelivery');

const page = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

const listQuery = pageQuerySchema.extend({
  appId: idSchema
    .optional()
    .openapi({ param: { name: 'appId', in: 'query' }, description: 'Only this app’s subscriptions' }),
});

const listRoute = createRoute({
  method: 'get',
  path: '/webhooks',
  tags: [TAG],
  summary: 'List webhook subscriptions',
  description: 'Oldest first; never their secrets.',
  request: { query: listQuery },
  responses: {
    200: jsonContent(page(webhookSchema, 'WebhookPage'), 'Subscriptions'),
    ...errorResponses(400, 401, 403, 429),
  },
});

const createWebhookRoute = createRoute({
  method: 'post',
  path: '/webhooks',
  tags: [TAG],
  summary: 'Subscribe to events',
  description:
    'Each event is POSTed as JSON `{ id, type, createdAt, appId, data }` with the headers `Ferry-Event`, `Ferry-Delivery`, `Ferry-Timestamp` (Unix seconds) and `Ferry-Signature`; a non-2xx answer is retried with backoff (8 attempts over about two minutes). The secret is answered once.',
  request: { body: jsonBody(createSchema) },
  responses: {
    201: jsonContent(createdWebhookSchema, 'The subscription and its secret, shown once'),
    ...errorResponses(400, 401, 403, 404, 429),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/webhooks/{id}',
  tags: [TAG],
  summary: 'A webhook subscription',
  request: { params: idParams },
  responses: { 200: jsonContent(webhookSchema, 'The subscription'), ...errorResponses(400, 401, 403, 404, 429) },
});

const updateRoute = createRoute({
  method: 'patch',
  path: '/webhooks/{id}',
  tags: [TAG],
  summary: 'Change a webhook subscription',
  description: 'The fields given replace the stored ones; the secret stays.',
  request: { params: idParams, body: jsonBody(updateSchema) },
  responses: { 200: jsonContent(webhookSchema, 'The subscription'), ...errorResponses(400, 401, 403, 404, 429) },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/webhooks/{id}',
  tags: [TAG],
  summary: 'Delete a webhook subscription',
  description: 'Its delivery log goes with it.',
  request: { params: idParams },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 403, 404, 429) },
});

const deliveriesRoute = createRoute({
  method: 'get',
  path: '/webhooks/{id}/deliveries',
  tags: [TAG],
  summary: 'The delivery log of a subscription',
  description: 'Newest first: each event sent (or being sent) to it, its attempts and the last answer.',
  request: { params: idParams, query: pageQuerySchema },
  responses: {
    200: jsonContent(page(deliverySchema, 'WebhookDeliveryPage'), 'Deliveries'),
    ...errorResponses(400, 401, 403, 404, 429),
  },
});

/** A source's events belong to no app: an app's subscription would never receive them. */
function refuseGlobalOnlyEvents(appId: string | null | undefined, events: readonly WebhookEventType[] | undefined) {
  const wrong = appId ? (events ?? []).filter((e) => GLOBAL_ONLY_EVENT_TYPES.includes(e)) : [];
  if (wrong.length === 0) return;
  throw new ApiError(
    'validation_failed',
    `events: ${wrong.join(', ')} belong to no app; subscribe to them without appId (every app's events)`,
    { details: [{ path: 'events', message: 'only for a subscription without appId' }] },
  );
}

export interface WebhooksRouterDeps {
  store: Store;
  allowInsecureLoopback?: boolean;
  allowedTargetNetworks?: readonly NetworkRange[];
}

export function webhooksRouter({ store, allowInsecureLoopback, allowedTargetNetworks }: WebhooksRouterDeps) {
  const router = createRouter();
  const checkAddress = (url: string) => {
    const issues: { path: string; message: string }[] = [];
    checkUrl(url, { allowInsecureLoopback, allowedTargetNetworks }, 'url', issues);
    if (issues.length > 0) throw new ApiError('validation_failed', `url: ${issues[0].message}`, { details: issues });
  };
  const requireWebhook = async (id: string) => {
    const found = await store.webhooks.get(id);
    if (!found) throw new ApiError('not_found', `Webhook ${id} not found`);
    return found;
  };

  router.openapi(listRoute, async (c) => {
    const { limit, cursor, appId } = c.req.valid('query');
    return c.json(await store.webhooks.list({ appId, limit, cursor: storeCursor(cursor, 'timeAndId') }), 200);
  });

  router.openapi(createWebhookRoute, async (c) => {
    const body = c.req.valid('json');
    checkAddress(body.url);
    refuseGlobalOnlyEvents(body.appId, body.events);
    if (body.appId && !(await store.apps.get(body.appId)))
      throw new ApiError('not_found', `App ${body.appId} not found`);
    const { webhook, secret } = await store.webhooks.create({ ...body, appId: body.appId ?? null });
    c.header('Cache-Control', 'no-store');
    return c.json({ ...webhook, secret }, 201);
  });

  router.openapi(getRoute, async (c) => c.json(await requireWebhook(c.req.valid('param').id), 200));

  router.openapi(updateRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    if (body.url !== undefined) checkAddress(body.url);
    refuseGlobalOnlyEvents((await requireWebhook(id)).appId, body.events);
    return c.json(await store.webhooks.update(id, body), 200);
  });

  router.openapi(deleteRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await store.webhooks.delete(id))) throw new ApiError('not_found', `Webhook ${id} not found`);
    return c.body(null, 204);
  });

  router.openapi(deliveriesRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    await requireWebhook(id);
    return c.json(await store.webhooks.deliveries(id, { limit, cursor: storeCursor(cursor, 'timeAndId') }), 200);
  });

  return router;
}

// POST /api/v1/apps/{id}/provision-on-demand — run the whole pipeline for one user or group now
// and answer with the step report (DESIGN.md §2 "On-demand"). The API signals the job, which
// starts the child workflow `provisioning:<appId>:ondemand:<requestId>`; the API awaits its result.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import type { ProvisioningControl } from '../provisioning-control.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';

const stepSchema = z.looseObject({ name: z.string(), status: z.string() });

const reportSchema = z
  .looseObject({
    requestId: z.string(),
    objectType: z.enum(['user', 'group']),
    objectId: z.string(),
    action: z.string().openapi({ example: 'Create' }),
    status: z.enum(['Success', 'Failure', 'Skipped', 'Warning']),
    targetId: z.string().nullable(),
    steps: z.array(stepSchema).openapi({
      description: 'test connection (when it fails), import, scope, match, action — each with status and details',
    }),
    modifiedAttributes: z.array(z.looseObject({ name: z.string() })),
    members: z.array(z.looseObject({ objectId: z.string() })).optional(),
    requests: z.array(z.looseObject({ method: z.string(), path: z.string() })),
    durationMs: z.number(),
  })
  .openapi('OnDemandReport');

export interface OnDemandRouterDeps {
  store: Store;
  provisioning: ProvisioningControl;
  /** How long to wait for the report (default: the control's own, 60 s). */
  timeoutMs?: number;
}

export function onDemandRouter({ store, provisioning, timeoutMs }: OnDemandRouterDeps) {
  return createRouter().openapi(
    createRoute({
      method: 'post',
      path: '/apps/{id}/provision-on-demand',
      tags: ['provisioning'],
      summary: 'Provision one user or group now',
      description:
        'Runs test connection, import, scoping, matching and the action for one object (a group with its members) and answers with each step. Needs a running job (409 otherwise). Never races a cycle on the same object.',
      request: {
        params: idParams,
        body: jsonBody(
          z
            .object({ objectId: idSchema.openapi({ description: 'A user or group id' }) })
            .strict()
            .openapi('OnDemandRequest'),
        ),
      },
      responses: {
        200: jsonContent(reportSchema, 'The step report'),
        ...errorResponses(400, 401, 404, 409, 429, 503, 504),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { objectId } = c.req.valid('json');
      if (!(await store.apps.get(id))) throw new ApiError('not_found', `App ${id} not found`);
      const objectType = await store.directory.objectTypeOf(objectId);
      if (!objectType) throw new ApiError('not_found', `No user or group ${objectId}`);
      const report = await provisioning.provisionOnDemand(
        id,
        { requestId: randomUUID(), objectType, objectId },
        timeoutMs === undefined ? undefined : { timeoutMs },
      );
      return c.json(report, 200);
    },
  );
}

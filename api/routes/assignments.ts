// /api/v1/apps/{id}/assignments — which users and groups an app provisions, with which role.
// Assigning is a directory change: the next incremental cycle picks it up (unassigning disables).
import { createRoute, z } from '@hono/zod-openapi';
import type { AppRoleAssignment } from '../../engine/types.ts';
import { DEFAULT_ROLE, type Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../pagination.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';

const TAG = 'assignments';

const assignmentSchema = z
  .object({
    appId: z.string(),
    principalId: z.string(),
    principalType: z.enum(['user', 'group']),
    role: z.string().openapi({ example: DEFAULT_ROLE }),
  })
  .openapi('Assignment');

const newAssignmentSchema = z
  .object({
    principalId: idSchema.openapi({ description: 'A user or group id' }),
    role: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({
        description: `Default ${DEFAULT_ROLE}. \`msiam_access\` (Default Access) does not put the principal in scope.`,
      }),
  })
  .strict()
  .openapi('NewAssignment');

const principalParams = idParams.extend({
  principalId: idSchema.openapi({ param: { name: 'principalId', in: 'path' } }),
});
const roleQuery = z.object({
  role: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({
      param: { name: 'role', in: 'query' },
      description: 'Remove only this role (default: every role of the principal)',
    }),
});
const cursorShape = z.tuple([z.string(), z.string()]);

const assignRoute = createRoute({
  method: 'post',
  path: '/apps/{id}/assignments',
  tags: [TAG],
  summary: 'Assign a user or group to the app',
  description:
    'Members of an assigned group (nested included) are in scope. Idempotent: 200 when the assignment existed.',
  request: { params: idParams, body: jsonBody(newAssignmentSchema) },
  responses: {
    201: jsonContent(assignmentSchema, 'Assigned'),
    200: jsonContent(assignmentSchema, 'Already assigned with this role'),
    ...errorResponses(400, 401, 404, 429),
  },
});

const listAssignmentsRoute = createRoute({
  method: 'get',
  path: '/apps/{id}/assignments',
  tags: [TAG],
  summary: "The app's assignments",
  request: { params: idParams, query: pageQuerySchema },
  responses: {
    200: jsonContent(pageSchema(assignmentSchema, 'AssignmentPage'), 'A page of assignments'),
    ...errorResponses(400, 401, 404, 429),
  },
});

const unassignRoute = createRoute({
  method: 'delete',
  path: '/apps/{id}/assignments/{principalId}',
  tags: [TAG],
  summary: 'Unassign a user or group',
  description: 'Accounts that leave scope are disabled at the next cycle (not deleted).',
  request: { params: principalParams, query: roleQuery },
  responses: { 204: { description: 'Unassigned' }, ...errorResponses(400, 401, 404, 429) },
});

export function assignmentsRouter({ store }: { store: Store }) {
  const router = createRouter();

  const requireApp = async (id: string) => {
    if (!(await store.apps.get(id))) throw new ApiError('not_found', `App ${id} not found`);
  };

  router.openapi(assignRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { principalId, role = DEFAULT_ROLE } = c.req.valid('json');
    await requireApp(id);
    const principalType = await store.directory.objectTypeOf(principalId);
    if (!principalType) throw new ApiError('not_found', `No user or group ${principalId}`);
    const created = await store.assignments.assign(id, principalId, role);
    const body: AppRoleAssignment = { appId: id, principalId, principalType, role };
    return created ? c.json(body, 201) : c.json(body, 200);
  });

  router.openapi(listAssignmentsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    await requireApp(id);
    const after = cursor === undefined ? null : decodeCursor(cursor, cursorShape);
    // Assignments per app are few (groups, mostly): sorted in the store, paged here.
    const all = await store.assignments.listByApp(id);
    const rest = after
      ? all.filter((a) => a.principalId > after[0] || (a.principalId === after[0] && a.role > after[1]))
      : all;
    return c.json(
      toPage(rest.slice(0, limit + 1), limit, (a) => [a.principalId, a.role]),
      200,
    );
  });

  router.openapi(unassignRoute, async (c) => {
    const { id, principalId } = c.req.valid('param');
    const { role } = c.req.valid('query');
    await requireApp(id);
    const removed = await store.assignments.unassign(id, principalId, role);
    if (removed === 0) throw new ApiError('not_found', `${principalId} is not assigned to app ${id}`);
    return c.body(null, 204);
  });

  return router;
}

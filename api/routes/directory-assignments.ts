// /api/v1/directory/{users|groups}/{id}/assignments — the apps a user or group is assigned to:
// directly, or through a group that contains it (nested included), which is what puts it in scope.
// The reverse of GET /apps/{id}/assignments, so nobody has to read every app to answer it.
import { createRoute, z } from '@hono/zod-openapi';
import type { ObjectAssignment, Store } from '../../store/index.ts';
import { errorResponses } from '../errors.ts';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../pagination.ts';
import { idParams, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { groupNotFound } from './directory-groups.ts';
import { DIRECTORY_TAG as TAG } from './directory-queries.ts';
import { userNotFound } from './directory-users.ts';

const objectAssignmentSchema = z
  .object({
    appId: z.string(),
    appName: z.string(),
    role: z.string(),
    principalId: z
      .string()
      .openapi({ description: 'Whose assignment this is: the object itself, or a group that contains it' }),
    viaGroupId: z.string().nullable().openapi({ description: 'The group it comes through; null when direct' }),
    viaGroupName: z.string().nullable(),
  })
  .openapi('ObjectAssignment');

const cursorShape = z.tuple([z.string(), z.string(), z.string()]);
const pageOf = pageSchema(objectAssignmentSchema, 'ObjectAssignmentPage');

const routeFor = (kind: 'users' | 'groups') =>
  createRoute({
    method: 'get',
    path: `/directory/${kind}/{id}/assignments`,
    tags: [TAG],
    summary: `The apps a ${kind === 'users' ? 'user' : 'group'} is assigned to, a page at a time`,
    description:
      'Its own assignments and those of every group containing it (nested included), each with the group it comes through, in app id order. Whether a role puts it in scope is the app’s scoping (msiam_access does not).',
    request: { params: idParams, query: pageQuerySchema },
    responses: {
      200: jsonContent(pageOf, 'A page of assignments'),
      ...errorResponses(400, 401, 404, 429),
    },
  });

export function directoryAssignmentsRouter({ store }: { store: Store }) {
  const router = createRouter();
  const page = async (id: string, limit: number, cursor: string | undefined) => {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, cursorShape);
    const rows = await store.assignments.pageForObject(id, { after, limit: limit + 1 });
    return toPage(rows, limit, (a: ObjectAssignment) => [a.appId, a.principalId, a.role]);
  };

  router.openapi(routeFor('users'), async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    if (!(await store.directory.getUser(id))) throw userNotFound(id);
    return c.json(await page(id, limit, cursor), 200);
  });

  router.openapi(routeFor('groups'), async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    if (!(await store.directory.getGroup(id))) throw groupNotFound(id);
    return c.json(await page(id, limit, cursor), 200);
  });

  return router;
}

// /api/v1/directory/groups/{id}/members — members of a group: users and nested groups, direct or
// (transitive) reached through nesting, as apps receive them flattened to their users.
import { createRoute, z } from '@hono/zod-openapi';
import type { Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { decodeCursor, pageQuerySchema, pageSchema, toPage } from '../pagination.ts';
import { createRouter } from '../router.ts';
import { DIRECTORY_TAG as TAG } from './directory-queries.ts';
import { groupNotFound } from './directory-groups.ts';

const memberSchema = z
  .object({ groupId: z.string(), memberId: z.string(), memberType: z.enum(['user', 'group']) })
  .openapi('Membership');

const memberParams = idParams.extend({
  memberId: idSchema.openapi({ param: { name: 'memberId', in: 'path' } }),
});

const memberViewSchema = memberSchema
  .extend({
    displayName: z.string().nullable().openapi({ description: "The member's display name; null when it is gone" }),
  })
  .openapi('MemberView');

const membersQuery = pageQuerySchema.extend({
  transitive: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({
      param: { name: 'transitive', in: 'query' },
      description:
        '`true`: every member reached through nested groups, each once (what apps receive, flattened); `false` (default): direct members',
    }),
});

const listMembersRoute = createRoute({
  method: 'get',
  path: '/directory/groups/{id}/members',
  tags: [TAG],
  summary: 'Members of a group, a page at a time',
  description: 'Users and nested groups with their display names, in member id order.',
  request: { params: idParams, query: membersQuery },
  responses: {
    200: jsonContent(pageSchema(memberViewSchema, 'MemberPage'), 'Members (users and nested groups)'),
    ...errorResponses(400, 401, 404, 429),
  },
});

const addMemberRoute = createRoute({
  method: 'post',
  path: '/directory/groups/{id}/members',
  tags: [TAG],
  summary: 'Add a member (user or nested group)',
  description:
    'A nested group may not contain the group it is added to, directly or further down: such a membership is refused with 409 `group_nesting_cycle`, naming the cycle (e.g. `A → B → A`).',
  request: { params: idParams, body: jsonBody(z.object({ memberId: idSchema }).strict().openapi('AddMember')) },
  responses: {
    201: jsonContent(memberSchema, 'Added'),
    200: jsonContent(memberSchema, 'Already a member (nothing changed)'),
    ...errorResponses(400, 401, 404, 409, 429),
  },
});

const removeMemberRoute = createRoute({
  method: 'delete',
  path: '/directory/groups/{id}/members/{memberId}',
  tags: [TAG],
  summary: 'Remove a member',
  request: { params: memberParams },
  responses: { 204: { description: 'Removed' }, ...errorResponses(400, 401, 404, 429) },
});

export function directoryMembersRouter({ store }: { store: Store }) {
  const router = createRouter();
  const dir = store.directory;
  router.openapi(listMembersRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor, transitive } = c.req.valid('query');
    if (!(await dir.getGroup(id))) throw groupNotFound(id);
    const after = cursor === undefined ? undefined : decodeCursor(cursor, z.string());
    const rows = await dir.memberPage(id, { transitive: transitive === 'true', after, limit: limit + 1 });
    return c.json(
      toPage(rows, limit, (m) => m.memberId),
      200,
    );
  });

  router.openapi(addMemberRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { memberId } = c.req.valid('json');
    if (!(await dir.getGroup(id))) throw groupNotFound(id);
    if (memberId === id) {
      throw new ApiError('validation_failed', 'A group cannot be a member of itself', {
        details: [{ path: 'memberId', message: 'must differ from the group id', in: 'body' }],
      });
    }
    const memberType = await dir.objectTypeOf(memberId);
    if (!memberType) throw new ApiError('not_found', `No user or group ${memberId}`);
    const added = await dir.addMember(id, memberId);
    const body = { groupId: id, memberId, memberType };
    return added ? c.json(body, 201) : c.json(body, 200);
  });

  router.openapi(removeMemberRoute, async (c) => {
    const { id, memberId } = c.req.valid('param');
    if (!(await dir.getGroup(id))) throw groupNotFound(id);
    if (!(await dir.removeMember(id, memberId)))
      throw new ApiError('not_found', `${memberId} is not a member of ${id}`);
    return c.body(null, 204);
  });

  return router;
}

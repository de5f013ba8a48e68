// /api/v1/directory/groups — the groups of Ferry's own source directory (their members are in
// directory-members.ts). Every write appends to the change log, read by incremental cycles.
import { createRoute, z } from '@hono/zod-openapi';
import type { DeletedFilter, Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { pageSchema } from '../pagination.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';
import { DIRECTORY_TAG as TAG, deleteQuery, listQuery } from './directory-queries.ts';

const nullableText = z.string().max(1024).nullable();

export const groupFields = {
  displayName: z.string().trim().min(1).max(256).openapi({ example: 'Sales' }),
  mailNickname: nullableText,
  description: nullableText,
  mail: nullableText,
  extensions: z.record(z.string().min(1).max(256), z.unknown()).openapi({
    description:
      'Extension attributes. In a PATCH this is a JSON merge patch (RFC 7396): a key set to `null` is removed, keys not given are kept.',
  }),
};

export const newGroupSchema = z
  .object({ id: idSchema.optional(), ...groupFields })
  .partial()
  .required({ displayName: true })
  .strict()
  .openapi('NewGroup');
export const groupPatchSchema = z.object(groupFields).partial().strict().openapi('GroupPatch');

export const groupSchema = z
  .object({
    id: z.string(),
    ...groupFields,
    extensions: z.record(z.string(), z.unknown()),
    deletedDateTime: z.string().nullable(),
  })
  .openapi('Group');
export const groupNotFound = (id: string) => new ApiError('not_found', `Group ${id} not found`);

const createGroupRoute = createRoute({
  method: 'post',
  path: '/directory/groups',
  tags: [TAG],
  summary: 'Create a group',
  request: { body: jsonBody(newGroupSchema) },
  responses: { 201: jsonContent(groupSchema, 'Created'), ...errorResponses(400, 401, 409, 413, 429) },
});

const listGroupsRoute = createRoute({
  method: 'get',
  path: '/directory/groups',
  tags: [TAG],
  summary: 'List groups',
  request: { query: listQuery },
  responses: {
    200: jsonContent(pageSchema(groupSchema, 'GroupPage'), 'A page of groups'),
    ...errorResponses(400, 401, 429),
  },
});

const getGroupRoute = createRoute({
  method: 'get',
  path: '/directory/groups/{id}',
  tags: [TAG],
  summary: 'Get a group',
  request: { params: idParams },
  responses: { 200: jsonContent(groupSchema, 'The group'), ...errorResponses(400, 401, 404, 429) },
});

const patchGroupRoute = createRoute({
  method: 'patch',
  path: '/directory/groups/{id}',
  tags: [TAG],
  summary: 'Change some attributes of a group',
  description: 'Only the attributes given change; `extensions` follows JSON merge patch (RFC 7396).',
  request: { params: idParams, body: jsonBody(groupPatchSchema) },
  responses: { 200: jsonContent(groupSchema, 'The changed group'), ...errorResponses(400, 401, 404, 413, 429) },
});

const deleteGroupRoute = createRoute({
  method: 'delete',
  path: '/directory/groups/{id}',
  tags: [TAG],
  summary: 'Delete a group',
  description:
    'Soft delete by default (restorable); `?permanent=true` removes it with its memberships and assignments.',
  request: { params: idParams, query: deleteQuery },
  responses: {
    200: jsonContent(groupSchema, 'Soft-deleted'),
    204: { description: 'Permanently deleted' },
    ...errorResponses(400, 401, 404, 429),
  },
});

const restoreGroupRoute = createRoute({
  method: 'post',
  path: '/directory/groups/{id}/restore',
  tags: [TAG],
  summary: 'Restore a soft-deleted group',
  description: 'A group that is not in the recycle bin is returned unchanged (no change for the next cycle).',
  request: { params: idParams },
  responses: { 200: jsonContent(groupSchema, 'Restored'), ...errorResponses(400, 401, 404, 429) },
});

export function directoryGroupsRouter({ store }: { store: Store }) {
  const router = createRouter();
  const dir = store.directory;
  router.openapi(createGroupRoute, async (c) => c.json(await dir.createGroup(c.req.valid('json')), 201));

  router.openapi(listGroupsRoute, async (c) => {
    const { limit, cursor, deleted, search } = c.req.valid('query');
    return c.json(
      await dir.listGroups({ limit, cursor: storeCursor(cursor, 'id'), deleted: deleted as DeletedFilter, search }),
      200,
    );
  });

  router.openapi(getGroupRoute, async (c) => {
    const { id } = c.req.valid('param');
    const group = await dir.getGroup(id);
    if (!group) throw groupNotFound(id);
    return c.json(group, 200);
  });

  router.openapi(patchGroupRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await dir.getGroup(id))) throw groupNotFound(id);
    return c.json(await dir.patchGroup(id, c.req.valid('json')), 200);
  });

  router.openapi(deleteGroupRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { permanent } = c.req.valid('query');
    if (!(await dir.getGroup(id))) throw groupNotFound(id);
    if (permanent === 'true') {
      await dir.hardDeleteGroup(id);
      return c.body(null, 204);
    }
    return c.json(await dir.softDeleteGroup(id), 200);
  });

  router.openapi(restoreGroupRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await dir.getGroup(id))) throw groupNotFound(id);
    return c.json(await dir.restoreGroup(id), 200);
  });

  return router;
}

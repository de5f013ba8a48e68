// /api/v1/directory — Ferry's own source directory: users, groups and nested memberships
// (DESIGN.md §1). Every write appends to the change log (store/), which is what incremental cycles
// read, so a change made here reaches the apps at the next cycle.
import { createRoute, z } from '@hono/zod-openapi';
import type { DeletedFilter, Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { pageQuerySchema, pageSchema } from '../pagination.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';

const nullableText = z.string().max(1024).nullable();

/** Attributes of a user, as accepted on create and patch (all optional but userPrincipalName on create). */
export const userFields = {
  userPrincipalName: z.string().trim().min(1).max(256).openapi({ example: 'adele.vance@contoso.com' }),
  mail: nullableText.openapi({ example: 'adele.vance@contoso.com' }),
  mailNickname: nullableText,
  displayName: nullableText.openapi({ example: 'Adele Vance' }),
  givenName: nullableText,
  surname: nullableText,
  accountEnabled: z.boolean(),
  jobTitle: nullableText,
  department: nullableText,
  companyName: nullableText,
  employeeId: nullableText,
  mobilePhone: nullableText,
  businessPhones: z.array(z.string().max(64)).max(20),
  officeLocation: nullableText,
  city: nullableText,
  country: nullableText,
  managerId: idSchema.nullable().openapi({ description: 'Id of the user this user reports to' }),
  extensions: z
    .record(z.string().min(1).max(256), z.unknown())
    .openapi({ description: 'Extension attributes, e.g. `extension_costCenter`, `extensionAttribute1`' }),
};

export const groupFields = {
  displayName: z.string().trim().min(1).max(256).openapi({ example: 'Sales' }),
  mailNickname: nullableText,
  description: nullableText,
  mail: nullableText,
  extensions: z.record(z.string().min(1).max(256), z.unknown()),
};

export const newUserSchema = z
  .object({ id: idSchema.optional(), ...userFields })
  .partial()
  .required({ userPrincipalName: true })
  .strict()
  .openapi('NewUser');
export const userPatchSchema = z.object(userFields).partial().strict().openapi('UserPatch');
export const newGroupSchema = z
  .object({ id: idSchema.optional(), ...groupFields })
  .partial()
  .required({ displayName: true })
  .strict()
  .openapi('NewGroup');
export const groupPatchSchema = z.object(groupFields).partial().strict().openapi('GroupPatch');

const userSchema = z
  .object({
    id: z.string(),
    ...userFields,
    managerId: z.string().nullable(),
    extensions: z.record(z.string(), z.unknown()),
    deletedDateTime: z.string().nullable().openapi({ description: 'Set while the user is soft-deleted' }),
  })
  .openapi('User');
const groupSchema = z
  .object({
    id: z.string(),
    ...groupFields,
    extensions: z.record(z.string(), z.unknown()),
    deletedDateTime: z.string().nullable(),
  })
  .openapi('Group');
const memberSchema = z
  .object({ groupId: z.string(), memberId: z.string(), memberType: z.enum(['user', 'group']) })
  .openapi('Membership');

const listQuery = pageQuerySchema.extend({
  deleted: z
    .enum(['exclude', 'include', 'only'])
    .default('exclude')
    .openapi({
      param: { name: 'deleted', in: 'query' },
      description: '`exclude` (default): hide soft-deleted; `include`: show them too; `only`: the recycle bin',
    }),
});
const deleteQuery = z.object({
  permanent: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({
      param: { name: 'permanent', in: 'query' },
      description: '`true`: remove for good (apps delete the account when deletes are enabled)',
    }),
});
const memberParams = idParams.extend({
  memberId: idSchema.openapi({ param: { name: 'memberId', in: 'path' } }),
});

type Kind = 'user' | 'group';

const TAG = 'directory';

export function directoryRouter({ store }: { store: Store }) {
  const router = createRouter();
  const dir = store.directory;

  const missing = (kind: Kind, id: string) =>
    new ApiError('not_found', `${kind === 'user' ? 'User' : 'Group'} ${id} not found`);

  const checkManager = async (managerId: string | null | undefined, selfId?: string) => {
    if (managerId === undefined || managerId === null) return;
    if (managerId === selfId) {
      throw new ApiError('validation_failed', 'A user cannot be their own manager', {
        details: [{ path: 'managerId', message: 'must be another user', in: 'body' }],
      });
    }
    if (!(await dir.getUser(managerId))) {
      throw new ApiError('validation_failed', `Manager ${managerId} not found`, {
        details: [{ path: 'managerId', message: 'no user with this id', in: 'body' }],
      });
    }
  };

  // ---- users ----
  router.openapi(
    createRoute({
      method: 'post',
      path: '/directory/users',
      tags: [TAG],
      summary: 'Create a user',
      request: { body: jsonBody(newUserSchema) },
      responses: { 201: jsonContent(userSchema, 'Created'), ...errorResponses(400, 401, 409, 413, 429) },
    }),
    async (c) => {
      const input = c.req.valid('json');
      await checkManager(input.managerId, input.id);
      return c.json(await dir.createUser(input), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/directory/users',
      tags: [TAG],
      summary: 'List users',
      description: 'Ordered by id; pass `nextCursor` back as `cursor` for the next page.',
      request: { query: listQuery },
      responses: {
        200: jsonContent(pageSchema(userSchema, 'UserPage'), 'A page of users'),
        ...errorResponses(400, 401, 429),
      },
    }),
    async (c) => {
      const { limit, cursor, deleted } = c.req.valid('query');
      return c.json(
        await dir.listUsers({ limit, cursor: storeCursor(cursor, 'id'), deleted: deleted as DeletedFilter }),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/directory/users/{id}',
      tags: [TAG],
      summary: 'Get a user',
      description: 'Soft-deleted users are returned too (with `deletedDateTime`).',
      request: { params: idParams },
      responses: { 200: jsonContent(userSchema, 'The user'), ...errorResponses(400, 401, 404, 429) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const user = await dir.getUser(id);
      if (!user) throw missing('user', id);
      return c.json(user, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/directory/users/{id}',
      tags: [TAG],
      summary: 'Change some attributes of a user',
      request: { params: idParams, body: jsonBody(userPatchSchema) },
      responses: { 200: jsonContent(userSchema, 'The changed user'), ...errorResponses(400, 401, 404, 409, 413, 429) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const patch = c.req.valid('json');
      if (!(await dir.getUser(id))) throw missing('user', id);
      await checkManager(patch.managerId, id);
      return c.json(await dir.patchUser(id, patch), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/directory/users/{id}',
      tags: [TAG],
      summary: 'Delete a user',
      description:
        'Soft delete by default: the user goes to the recycle bin and apps disable the account at the next cycle; `POST …/restore` brings it back. With `?permanent=true` the user is removed for good (with memberships and assignments; its reports lose their manager, at the apps too) and apps delete the account when deletes are enabled.',
      request: { params: idParams, query: deleteQuery },
      responses: {
        200: jsonContent(userSchema, 'Soft-deleted'),
        204: { description: 'Permanently deleted' },
        ...errorResponses(400, 401, 404, 429),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { permanent } = c.req.valid('query');
      if (!(await dir.getUser(id))) throw missing('user', id);
      if (permanent === 'true') {
        await dir.hardDeleteUser(id);
        return c.body(null, 204);
      }
      return c.json(await dir.softDeleteUser(id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/directory/users/{id}/restore',
      tags: [TAG],
      summary: 'Restore a soft-deleted user',
      description: 'A user that is not in the recycle bin is returned unchanged (no change for the next cycle).',
      request: { params: idParams },
      responses: { 200: jsonContent(userSchema, 'Restored'), ...errorResponses(400, 401, 404, 429) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await dir.getUser(id))) throw missing('user', id);
      return c.json(await dir.restoreUser(id), 200);
    },
  );

  // ---- groups ----
  router.openapi(
    createRoute({
      method: 'post',
      path: '/directory/groups',
      tags: [TAG],
      summary: 'Create a group',
      request: { body: jsonBody(newGroupSchema) },
      responses: { 201: jsonContent(groupSchema, 'Created'), ...errorResponses(400, 401, 409, 413, 429) },
    }),
    async (c) => c.json(await dir.createGroup(c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/directory/groups',
      tags: [TAG],
      summary: 'List groups',
      request: { query: listQuery },
      responses: {
        200: jsonContent(pageSchema(groupSchema, 'GroupPage'), 'A page of groups'),
        ...errorResponses(400, 401, 429),
      },
    }),
    async (c) => {
      const { limit, cursor, deleted } = c.req.valid('query');
      return c.json(
        await dir.listGroups({ limit, cursor: storeCursor(cursor, 'id'), deleted: deleted as DeletedFilter }),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/directory/groups/{id}',
      tags: [TAG],
      summary: 'Get a group',
      request: { params: idParams },
      responses: { 200: jsonContent(groupSchema, 'The group'), ...errorResponses(400, 401, 404, 429) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const group = await dir.getGroup(id);
      if (!group) throw missing('group', id);
      return c.json(group, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/directory/groups/{id}',
      tags: [TAG],
      summary: 'Change some attributes of a group',
      request: { params: idParams, body: jsonBody(groupPatchSchema) },
      responses: { 200: jsonContent(groupSchema, 'The changed group'), ...errorResponses(400, 401, 404, 413, 429) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await dir.getGroup(id))) throw missing('group', id);
      return c.json(await dir.patchGroup(id, c.req.valid('json')), 200);
    },
  );

  router.openapi(
    createRoute({
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
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { permanent } = c.req.valid('query');
      if (!(await dir.getGroup(id))) throw missing('group', id);
      if (permanent === 'true') {
        await dir.hardDeleteGroup(id);
        return c.body(null, 204);
      }
      return c.json(await dir.softDeleteGroup(id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/directory/groups/{id}/restore',
      tags: [TAG],
      summary: 'Restore a soft-deleted group',
      description: 'A group that is not in the recycle bin is returned unchanged (no change for the next cycle).',
      request: { params: idParams },
      responses: { 200: jsonContent(groupSchema, 'Restored'), ...errorResponses(400, 401, 404, 429) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await dir.getGroup(id))) throw missing('group', id);
      return c.json(await dir.restoreGroup(id), 200);
    },
  );

  // ---- members ----
  router.openapi(
    createRoute({
      method: 'get',
      path: '/directory/groups/{id}/members',
      tags: [TAG],
      summary: 'Direct members of a group',
      request: { params: idParams },
      responses: {
        200: jsonContent(z.object({ items: z.array(memberSchema) }), 'Direct members (users and nested groups)'),
        ...errorResponses(400, 401, 404, 429),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await dir.getGroup(id))) throw missing('group', id);
      return c.json({ items: await dir.membersOf(id) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/directory/groups/{id}/members',
      tags: [TAG],
      summary: 'Add a member (user or nested group)',
      request: { params: idParams, body: jsonBody(z.object({ memberId: idSchema }).strict().openapi('AddMember')) },
      responses: {
        201: jsonContent(memberSchema, 'Added'),
        200: jsonContent(memberSchema, 'Already a member (nothing changed)'),
        ...errorResponses(400, 401, 404, 429),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { memberId } = c.req.valid('json');
      if (!(await dir.getGroup(id))) throw missing('group', id);
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
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/directory/groups/{id}/members/{memberId}',
      tags: [TAG],
      summary: 'Remove a member',
      request: { params: memberParams },
      responses: { 204: { description: 'Removed' }, ...errorResponses(400, 401, 404, 429) },
    }),
    async (c) => {
      const { id, memberId } = c.req.valid('param');
      if (!(await dir.getGroup(id))) throw missing('group', id);
      if (!(await dir.removeMember(id, memberId)))
        throw new ApiError('not_found', `${memberId} is not a member of ${id}`);
      return c.body(null, 204);
    },
  );

  return router;
}

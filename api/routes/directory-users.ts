// /api/v1/directory/users — the users of Ferry's own source directory. Every write appends to the
// change log (store/), which is what incremental cycles read, so a change made here reaches the
// apps at the next cycle.
import { createRoute, z } from '@hono/zod-openapi';
import type { DeletedFilter, Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { pageSchema } from '../pagination.ts';
import { idParams, idSchema, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { storeCursor } from '../store-cursor.ts';
import { DIRECTORY_TAG as TAG, deleteQuery, listQuery } from './directory-queries.ts';

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
  extensions: z.record(z.string().min(1).max(256), z.unknown()).openapi({
    description:
      'Extension attributes, e.g. `extension_costCenter`, `extensionAttribute1`. In a PATCH this is a JSON merge patch (RFC 7396): keys given are set, a key set to `null` is removed, keys not given are kept; nested maps merge the same way.',
  }),
};

export const newUserSchema = z
  .object({ id: idSchema.optional(), ...userFields })
  .partial()
  .required({ userPrincipalName: true })
  .strict()
  .openapi('NewUser');
export const userPatchSchema = z.object(userFields).partial().strict().openapi('UserPatch');
export const userSchema = z
  .object({
    id: z.string(),
    ...userFields,
    managerId: z.string().nullable(),
    extensions: z.record(z.string(), z.unknown()),
    deletedDateTime: z.string().nullable().openapi({ description: 'Set while the user is soft-deleted' }),
  })
  .openapi('User');
export const userNotFound = (id: string) => new ApiError('not_found', `User ${id} not found`);

const createUserRoute = createRoute({
  method: 'post',
  path: '/directory/users',
  tags: [TAG],
  summary: 'Create a user',
  request: { body: jsonBody(newUserSchema) },
  responses: { 201: jsonContent(userSchema, 'Created'), ...errorResponses(400, 401, 409, 413, 429) },
});

const listUsersRoute = createRoute({
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
});

/** A single user's answer: the user and where its attributes come from (sources, attribute precedence). */
const userWithSourcesSchema = userSchema
  .extend({
    sourceId: z
      .string()
      .nullable()
      .openapi({ description: 'The source that owns the user (null: made through the API)' }),
    sources: z.array(z.string()).openapi({
      description: 'Every source that provides the user (the owner and sources that joined it with joinOn)',
    }),
    attributeSources: z.record(z.string(), z.string()).openapi({
      description:
        'Attribute → the source whose value the user holds, chosen by attribute precedence at the last source write; an attribute written through this API since is not listed',
      example: { department: 'hr-source-id', mobilePhone: 'ldap-source-id' },
    }),
  })
  .openapi('UserWithSources');

const getUserRoute = createRoute({
  method: 'get',
  path: '/directory/users/{id}',
  tags: [TAG],
  summary: 'Get a user, with the sources its attributes come from',
  description: 'Soft-deleted users are returned too (with `deletedDateTime`).',
  request: { params: idParams },
  responses: { 200: jsonContent(userWithSourcesSchema, 'The user'), ...errorResponses(400, 401, 404, 429) },
});

const patchUserRoute = createRoute({
  method: 'patch',
  path: '/directory/users/{id}',
  tags: [TAG],
  summary: 'Change some attributes of a user',
  description:
    'Only the attributes given change. `extensions` follows JSON merge patch (RFC 7396): `{"extensions": {"extensionAttribute1": null, "extension_costCenter": "CC-2"}}` removes one key, sets another and keeps the rest.',
  request: { params: idParams, body: jsonBody(userPatchSchema) },
  responses: { 200: jsonContent(userSchema, 'The changed user'), ...errorResponses(400, 401, 404, 409, 413, 429) },
});

const deleteUserRoute = createRoute({
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
});

const restoreUserRoute = createRoute({
  method: 'post',
  path: '/directory/users/{id}/restore',
  tags: [TAG],
  summary: 'Restore a soft-deleted user',
  description: 'A user that is not in the recycle bin is returned unchanged (no change for the next cycle).',
  request: { params: idParams },
  responses: { 200: jsonContent(userSchema, 'Restored'), ...errorResponses(400, 401, 404, 429) },
});

export function directoryUsersRouter({ store }: { store: Store }) {
  const router = createRouter();
  const dir = store.directory;

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

  router.openapi(createUserRoute, async (c) => {
    const input = c.req.valid('json');
    await checkManager(input.managerId, input.id);
    return c.json(await dir.createUser(input), 201);
  });

  router.openapi(listUsersRoute, async (c) => {
    const { limit, cursor, deleted, search } = c.req.valid('query');
    return c.json(
      await dir.listUsers({ limit, cursor: storeCursor(cursor, 'id'), deleted: deleted as DeletedFilter, search }),
      200,
    );
  });

  router.openapi(getUserRoute, async (c) => {
    const { id } = c.req.valid('param');
    const [user, provenance] = await Promise.all([dir.getUser(id), dir.provenance(id)]);
    if (!user || !provenance) throw userNotFound(id);
    return c.json({ ...user, ...provenance }, 200);
  });

  router.openapi(patchUserRoute, async (c) => {
    const { id } = c.req.valid('param');
    const patch = c.req.valid('json');
    if (!(await dir.getUser(id))) throw userNotFound(id);
    await checkManager(patch.managerId, id);
    return c.json(await dir.patchUser(id, patch), 200);
  });

  router.openapi(deleteUserRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { permanent } = c.req.valid('query');
    if (!(await dir.getUser(id))) throw userNotFound(id);
    if (permanent === 'true') {
      await dir.hardDeleteUser(id);
      return c.body(null, 204);
    }
    return c.json(await dir.softDeleteUser(id), 200);
  });

  router.openapi(restoreUserRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await dir.getUser(id))) throw userNotFound(id);
    return c.json(await dir.restoreUser(id), 200);
  });

  return router;
}

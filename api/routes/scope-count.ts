// POST /api/v1/apps/{id}/scope/count — how many directory objects a draft scope selects, before it
// is saved: the app's configuration with the draft's scoping filters (and scope) applied, checked as
// PATCH /apps/{id} checks it, then every active directory user and group evaluated as a cycle
// would (assignments, roles, nested groups, the filters). Nothing is written.
import { createRoute, z } from '@hono/zod-openapi';
import { findTemplate } from '../../gallery/index.ts';
import { createScopeContext, evaluateScope, type ScopeContext, type ScopeSubject } from '../../engine/scoping/index.ts';
import type { ObjectType } from '../../engine/types.ts';
import type { NetworkRange } from '../../scim/index.ts';
import type { Store } from '../../store/index.ts';
import { ApiError, errorResponses } from '../errors.ts';
import { idParams, jsonBody, jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';
import { applyAppChanges, scopingFiltersSchema, type StoredConfiguration } from './apps-config.ts';

/** Directory objects read per query while counting. */
const PAGE = 1000;

const draftSchema = z
  .object({
    scope: z
      .enum(['assigned', 'all'])
      .optional()
      .openapi({ description: "The draft `settings.scope`; absent: the app's" }),
    scopingFilters: scopingFiltersSchema
      .optional()
      .openapi({ description: "The draft scoping filters per object type; an absent type keeps the app's" }),
  })
  .strict()
  .openapi('ScopeDraft');

const countSchema = z
  .object({
    inScope: z.number().int().openapi({ description: 'Objects a cycle would provision with the draft' }),
    passFilters: z
      .number()
      .int()
      .openapi({ description: 'Active objects the scoping filters alone select (assignments not considered)' }),
    active: z.number().int().openapi({ description: 'Active (not soft-deleted, enabled) objects in the directory' }),
  })
  .openapi('ScopeCount');

const resultSchema = z
  .object({
    scope: z.enum(['assigned', 'all']),
    user: countSchema,
    group: countSchema.nullable().openapi({ description: 'null when the app does not provision groups' }),
  })
  .openapi('ScopeCountResult');

export interface ScopeCountDeps {
  store: Store;
  allowInsecureLoopback?: boolean;
  allowedTargetNetworks?: readonly NetworkRange[];
}

type Count = z.infer<typeof countSchema>;

/** Counts one object type, a page of the directory at a time (100k users are never held at once). */
async function countType(
  list: (cursor: string | undefined) => Promise<{ items: ScopeSubject[]; nextCursor: string | null }>,
  context: ScopeContext,
): Promise<Count> {
  const count: Count = { inScope: 0, passFilters: 0, active: 0 };
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    for (const subject of page.items) {
      const result = evaluateScope(subject, context);
      const passed = (name: string) => result.checks.find((check) => check.check === name)?.passed === true;
      if (!passed('active')) continue;
      count.active += 1;
      if (passed('scopingFilters')) count.passFilters += 1;
      if (result.inScope) count.inScope += 1;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return count;
}

export function scopeCountRouter({ store, allowInsecureLoopback = false, allowedTargetNetworks = [] }: ScopeCountDeps) {
  return createRouter().openapi(
    createRoute({
      method: 'post',
      path: '/apps/{id}/scope/count',
      tags: ['apps'],
      summary: 'Count the directory objects a draft scope selects',
      description:
        "Applies the draft `scopingFilters` (and `scope`) to the app's configuration without saving it, checks it as PATCH /apps/{id} would (400 naming the field, e.g. `scopingFilters.user[0].clauses[0].operator`), and counts the active directory users and groups a cycle would then provision, and those the filters alone select. An empty body counts the saved configuration. Nothing is written; the target is not contacted.",
      request: { params: idParams, body: jsonBody(draftSchema) },
      responses: {
        200: jsonContent(resultSchema, 'How many objects are in scope'),
        ...errorResponses(400, 401, 404, 413, 429),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const draft = c.req.valid('json');
      const app = await store.apps.get(id);
      if (!app) throw new ApiError('not_found', `App ${id} not found`);
      const { configuration } = applyAppChanges(
        app.configuration as StoredConfiguration,
        await store.apps.getSecrets(id),
        {
          ...(draft.scopingFilters ? { scopingFilters: draft.scopingFilters } : {}),
          ...(draft.scope ? { settings: { scope: draft.scope } } : {}),
        },
        findTemplate(app.template),
        { allowInsecureLoopback, allowedTargetNetworks },
      );
      const [assignments, index] = await Promise.all([
        store.assignments.listByApp(id),
        store.directory.membershipIndex(id, configuration.scope),
      ]);
      const contextFor = (type: ObjectType) =>
        createScopeContext({
          appScope: configuration.scope,
          assignments,
          memberships: index,
          scopingFilters: configuration.objectTypes[type]?.scopingFilters ?? [],
        });
      const users = async (cursor: string | undefined) => {
        const page = await store.directory.listUsers({ limit: PAGE, cursor });
        return { ...page, items: page.items.map((object): ScopeSubject => ({ objectType: 'user', object })) };
      };
      const groups = async (cursor: string | undefined) => {
        const page = await store.directory.listGroups({ limit: PAGE, cursor });
        return { ...page, items: page.items.map((object): ScopeSubject => ({ objectType: 'group', object })) };
      };
      const user = await countType(users, contextFor('user'));
      const group = configuration.objectTypes.group ? await countType(groups, contextFor('group')) : null;
      return c.json({ scope: configuration.scope, user, group }, 200);
    },
  );
}

// What the directory's users and groups routes share: the list and delete query parameters and
// the OpenAPI tag.
import { z } from '@hono/zod-openapi';
import { pageQuerySchema } from '../pagination.ts';

export const DIRECTORY_TAG = 'directory';

export const listQuery = pageQuerySchema.extend({
  deleted: z
    .enum(['exclude', 'include', 'only'])
    .default('exclude')
    .openapi({
      param: { name: 'deleted', in: 'query' },
      description: '`exclude` (default): hide soft-deleted; `include`: show them too; `only`: the recycle bin',
    }),
  search: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .openapi({
      param: { name: 'search', in: 'query' },
      description:
        'Only objects whose displayName (users: also userPrincipalName or mail) contains this text, case-insensitive',
    }),
});
export const deleteQuery = z.object({
  permanent: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({
      param: { name: 'permanent', in: 'query' },
      description: '`true`: remove for good (apps delete the account when deletes are enabled)',
    }),
});

// GET /api/v1/gallery — the app templates an app is created from.
import { createRoute, z } from '@hono/zod-openapi';
import type { AppTemplate } from '../../engine/config/index.ts';
import { galleryTemplates } from '../../gallery/index.ts';
import { errorResponses } from '../errors.ts';
import { jsonContent } from '../resource-schemas.ts';
import { createRouter } from '../router.ts';

const mappingView = z.record(z.string(), z.unknown()).openapi({ description: 'An attribute mapping' });
const objectTypeView = z.object({ mappings: z.array(mappingView), filterableAttributes: z.array(z.string()) });

const templateSchema = z
  .object({
    id: z.string().openapi({ example: 'grouptalk' }),
    name: z.string(),
    description: z.string(),
    defaultTargetUrl: z.string().nullable(),
    supportsGroups: z.boolean(),
    objectTypes: z.object({ user: objectTypeView, group: objectTypeView.optional() }),
    connectorLimitations: z.record(z.string(), z.unknown()),
    limitationNotes: z.array(z.string()),
  })
  .openapi('AppTemplate');

export const templateView = (t: AppTemplate) => ({
  id: t.id,
  name: t.name,
  description: t.description,
  defaultTargetUrl: t.defaultTargetUrl ?? null,
  supportsGroups: t.supportsGroups,
  objectTypes: t.objectTypes,
  connectorLimitations: t.connectorLimitations,
  limitationNotes: t.limitationNotes,
});

export function galleryRouter() {
  return createRouter().openapi(
    createRoute({
      method: 'get',
      path: '/gallery',
      tags: ['gallery'],
      summary: 'App templates',
      description: 'Each template brings default mappings, the attributes its app can match on, and its limitations.',
      responses: {
        200: jsonContent(z.object({ items: z.array(templateSchema) }), 'Every template'),
        ...errorResponses(401, 429),
      },
    }),
    (c) => c.json({ items: galleryTemplates.map(templateView) }, 200),
  );
}

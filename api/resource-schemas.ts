// Small pieces every resource router uses: path-parameter schemas and the id rule.
import { z } from '@hono/zod-openapi';

/** Ids Ferry accepts for directory objects and apps (UUIDs by default, or the caller's own). */
export const ID_PATTERN = /^[A-Za-z0-9._~@:-]+$/;

export const idSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(ID_PATTERN, 'Ids contain only letters, digits and . _ ~ @ : -');

export const idParams = z.object({
  id: idSchema.openapi({ param: { name: 'id', in: 'path' }, example: '6f1c2b7e-0c4a-4b59-9c33-1b5d3f0a9e21' }),
});

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  ...(description ? { description } : {}),
  content: { 'application/json': { schema } },
});

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

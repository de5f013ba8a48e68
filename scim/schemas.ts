// zod shapes of what SCIM targets answer. Tolerant of the usual deviations (missing `schemas`,
// numbers as strings, `resources` in lower case, missing `itemsPerPage`); strict only where a wrong
// answer would corrupt Ferry's state (a resource without `id`).
import { z } from 'zod';
import type { ScimResource } from '../engine/types.ts';

const integer = z.coerce.number().int().nonnegative();

/**
 * A resource as the target answered it, or null when it has no usable `id` (a non-empty string, or a
 * number): an account linked by a made-up id ("null", "[object Object]") would be lost. Tolerates a
 * missing or malformed `schemas` (read as none) and a numeric `externalId`; every other attribute
 * is kept as sent. Read by hand, not by a schema: it runs for every answer of a cycle.
 */
export function scimResource(body: unknown): ScimResource | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const raw = body as Record<string, unknown>;
  const id = typeof raw.id === 'number' && Number.isFinite(raw.id) ? String(raw.id) : raw.id;
  if (typeof id !== 'string' || id === '') return null;
  const schemas =
    Array.isArray(raw.schemas) && raw.schemas.every((s) => typeof s === 'string') ? (raw.schemas as string[]) : [];
  const resource: ScimResource = { ...raw, schemas, id };
  if (typeof raw.externalId === 'number') resource.externalId = String(raw.externalId);
  else if (typeof raw.externalId !== 'string') delete resource.externalId;
  return resource;
}

export const listResponseSchema = z
  .looseObject({
    totalResults: integer.optional(),
    startIndex: integer.optional(),
    itemsPerPage: integer.optional(),
    Resources: z.array(z.unknown()).optional(),
    resources: z.array(z.unknown()).optional(),
  })
  .transform((value) => ({
    totalResults: value.totalResults,
    startIndex: value.startIndex,
    itemsPerPage: value.itemsPerPage,
    resources: value.Resources ?? value.resources ?? [],
  }));

const supported = z.looseObject({ supported: z.coerce.boolean().catch(false) }).optional();

export const serviceProviderConfigSchema = z.looseObject({
  patch: supported,
  bulk: z
    .looseObject({
      supported: z.coerce.boolean().catch(false),
      maxOperations: integer.optional().catch(undefined),
      maxPayloadSize: integer.optional().catch(undefined),
    })
    .optional(),
  filter: z
    .looseObject({ supported: z.coerce.boolean().catch(false), maxResults: integer.optional().catch(undefined) })
    .optional(),
  etag: supported,
  changePassword: supported,
  sort: supported,
});

export interface ServiceProviderConfig {
  patch: boolean;
  bulk: { supported: boolean; maxOperations?: number; maxPayloadSize?: number };
  filter: { supported: boolean; maxResults?: number };
  etag: boolean;
  /** False when the target had no `/ServiceProviderConfig` and these are assumptions. */
  discovered: boolean;
}

export const bulkResponseSchema = z.looseObject({
  Operations: z.array(
    z.looseObject({
      method: z.string().optional(),
      bulkId: z.string().optional(),
      location: z.string().optional(),
      status: z.union([z.coerce.number(), z.looseObject({ code: z.coerce.number() })]),
      response: z.unknown().optional(),
    }),
  ),
});

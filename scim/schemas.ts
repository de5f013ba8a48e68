// zod shapes of what SCIM targets answer. Tolerant of the usual deviations (missing `schemas`,
// numbers as strings, `resources` in lower case, missing `itemsPerPage`); strict only where a wrong
// answer would corrupt Ferry's state (a resource without `id`).
import { z } from 'zod';

const integer = z.coerce.number().int().nonnegative();

export const scimResourceSchema = z.looseObject({
  schemas: z.array(z.string()).catch([]).default([]),
  id: z.coerce.string().min(1),
  externalId: z
    .string()
    .nullish()
    .transform((value) => value ?? undefined),
});

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

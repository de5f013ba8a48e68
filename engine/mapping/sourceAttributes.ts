// The flat attribute view of a directory object that mappings, expressions and scoping filters read.
// Besides Ferry's own field names it offers the Entra names admins know from the seeds' mapping
// tables (objectId, manager, mobile, telephoneNumber, IsSoftDeleted, …).
import type { DirectoryGroup, DirectoryUser } from '../types.ts';

export type SourceAttributes = Record<string, unknown>;

export function userSourceAttributes(user: DirectoryUser): SourceAttributes {
  const { extensions, ...fields } = user;
  return {
    ...extensions,
    ...fields,
    objectId: user.id,
    manager: user.managerId,
    mobile: user.mobilePhone,
    telephoneNumber: user.businessPhones[0] ?? null,
    physicalDeliveryOfficeName: user.officeLocation,
    IsSoftDeleted: user.deletedDateTime !== null,
  };
}

export function groupSourceAttributes(group: DirectoryGroup): SourceAttributes {
  const { extensions, ...fields } = group;
  return { ...extensions, ...fields, objectId: group.id, IsSoftDeleted: group.deletedDateTime !== null };
}

/** A source attribute by name: exact first, then case-insensitive (Entra attribute names are). */
export function readSourceAttribute(attributes: SourceAttributes, name: string): unknown {
  const exact = attributes[name];
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const key in attributes) if (key.toLowerCase() === lower) return attributes[key];
  return undefined;
}

/** Null, undefined, empty string and empty list all count as "no value". */
export function isNullOrEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

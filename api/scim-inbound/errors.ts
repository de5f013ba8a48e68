// SCIM inbound's errors, in SCIM's own shape (RFC 7644 §3.12): `{ schemas, status, scimType?, detail }`.
// One mapping from what the store, the filter parser and the PATCH engine throw to a status.
import { ScimError as PatchError } from 'scim-patch';
import { FerryError } from '../../engine/errors.ts';
import { isUniqueViolation, NestingCycleError, TakenError } from '../../store/errors.ts';
import { ScimInputError } from '../../sources/scim-resources.ts';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** An answer a SCIM handler gives instead of a resource. */
export class ScimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ScimHttpError';
  }
}

export interface ScimErrorBody {
  schemas: string[];
  status: string;
  scimType?: string;
  detail: string;
}

/** The SCIM error a failure answers; `internal` is true when the detail is hidden (log the cause). */
export function toScimError(error: unknown): { error: ScimHttpError; internal: boolean } {
  if (error instanceof ScimHttpError) return { error, internal: false };
  if (error instanceof ScimInputError)
    return { error: new ScimHttpError(400, error.message, error.scimType), internal: false };
  if (error instanceof PatchError) {
    return { error: new ScimHttpError(400, error.message, error.scimCode ?? 'invalidValue'), internal: false };
  }
  if (error instanceof TakenError) {
    // In SCIM terms: a user's userPrincipalName is its userName.
    const field = error.field === 'userPrincipalName' ? 'userName' : error.field;
    return { error: new ScimHttpError(409, `${field} is already taken`, 'uniqueness'), internal: false };
  }
  if (isUniqueViolation(error)) {
    return { error: new ScimHttpError(409, 'userName is already taken', 'uniqueness'), internal: false };
  }
  if (error instanceof NestingCycleError) {
    return {
      error: new ScimHttpError(400, `the membership would make a nesting cycle`, 'invalidValue'),
      internal: false,
    };
  }
  if (error instanceof FerryError && error.kind === 'notFound') {
    return { error: new ScimHttpError(404, error.message), internal: false };
  }
  if (error instanceof FerryError && error.kind === 'conflict') {
    return { error: new ScimHttpError(409, error.message, 'uniqueness'), internal: false };
  }
  return { error: new ScimHttpError(500, 'Internal error'), internal: true };
}

export const errorBody = (error: ScimHttpError): ScimErrorBody => ({
  schemas: [ERROR_SCHEMA],
  status: String(error.status),
  ...(error.scimType ? { scimType: error.scimType } : {}),
  detail: error.detail,
});

// The API's errors and its one error shape: { error: { code, message, requestId, details? } }. Handlers throw ApiError; onError in app.ts turns anything thrown into
// this shape, hiding the message of every 5xx.
import { z } from '@hono/zod-openapi';

/** Every error code the API answers with, and its HTTP status. */
export const API_ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  /** A membership would make a group contain itself through nested groups. */
  group_nesting_cycle: 409,
  /** A provisioning action needs a running job (start it first). */
  job_not_running: 409,
  /** The action cannot act while the job is paused (resume first). */
  job_paused: 409,
  /** Resume of a job that is quarantined, not paused (release it). */
  job_quarantined: 409,
  /** Release of a job that is neither quarantined nor disabled. */
  job_not_quarantined: 409,
  /** The job is disabled after 4 weeks in quarantine (release or restart it). */
  job_disabled: 409,
  /** Approve/reject with no staged deletions. */
  no_pending_deletions: 409,
  /** If-Match names a version the resource is no longer at (someone changed it since it was read). */
  precondition_failed: 412,
  /** On-demand: a running cycle holds the object (try again shortly). */
  object_busy: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** On-demand of a group with more users than the on-demand limit (the next cycle provisions it). */
  too_many_members: 422,
  /** On-demand failed for a reason retrying will not fix (target configuration, a rejected request). */
  on_demand_failed: 422,
  too_many_requests: 429,
  internal_error: 500,
  unavailable: 503,
  timeout: 504,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/**
 * The API error code of a failed on-demand request, from the type of the failure it ended with (the
 * job's Update, the on-demand workflow, or the progress its activity recorded).
 */
export function onDemandFailureCode(type: string): ApiErrorCode {
  switch (type) {
    case 'ObjectBusy':
      return 'object_busy';
    case 'TooManyMembers':
      return 'too_many_members';
    case 'JobEnding':
    case 'AcceptedUpdateCompletedWorkflow':
      return 'job_not_running';
    case 'TransientError':
      return 'unavailable';
    default:
      return 'on_demand_failed';
  }
}
export type ApiErrorStatus = (typeof API_ERROR_STATUS)[ApiErrorCode];

export const API_ERROR_CODES = Object.keys(API_ERROR_STATUS) as [ApiErrorCode, ...ApiErrorCode[]];

/** One problem with one field of a request (validation errors). */
export interface ErrorDetail {
  /** Dotted path of the field inside its part of the request, e.g. `target.url`. */
  path: string;
  message: string;
  /** Which part of the request: body, query, path parameter or header. */
  in?: 'body' | 'query' | 'path' | 'header';
}

export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; requestId: string; details?: ErrorDetail[] };
}

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: ApiErrorStatus;
  readonly details?: ErrorDetail[];
  /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
  readonly headers: Record<string, string>;

  constructor(
    code: ApiErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = API_ERROR_STATUS[code];
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

/** A CSV file that is not RFC 4180 (engine/csv.ts); the directory import answers it as a 400 naming the line. */
export { CsvSyntaxError } from '../engine/csv.ts';

/** Status code → the code used when something other than an ApiError carries only a status. */
export function codeForStatus(status: number): ApiErrorCode {
  const found = (Object.entries(API_ERROR_STATUS) as [ApiErrorCode, number][]).find(([, s]) => s === status);
  if (found) return found[0];
  return status >= 500 ? 'internal_error' : 'bad_request';
}

export const errorDetailSchema = z
  .object({
    path: z.string().openapi({ example: 'target.url' }),
    message: z.string().openapi({ example: 'Invalid URL' }),
    in: z.enum(['body', 'query', 'path', 'header']).optional(),
  })
  .openapi('ErrorDetail');

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(API_ERROR_CODES),
      message: z.string(),
      requestId: z.string(),
      details: z.array(errorDetailSchema).optional(),
    }),
  })
  .openapi('Error');

/** OpenAPI response entries for the errors a route can answer with. */
export function errorResponses(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: 'Invalid request; `details` names each bad field',
    401: 'Missing or wrong API key',
    403: "The API key's role lacks the permission this route needs (`forbidden`; the message names the permission)",
    404: 'Not found',
    409: 'Conflict with the current state',
    412: 'If-Match names an earlier version: the resource was changed since it was read (the answer carries the current ETag)',
    413: 'Request body too large',
    422: 'The request cannot be carried out as asked; `code` says why',
    429: 'Too many failed authentications from this address; see Retry-After',
    500: 'Internal error (message hidden; see the server log by requestId)',
    503: 'A dependency (database, Temporal) is unavailable',
    504: 'Timed out waiting for a dependency',
  };
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: descriptions[s] ?? 'Error', content: { 'application/json': { schema: errorSchema } } },
    ]),
  );
}

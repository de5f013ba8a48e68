// ETags of versioned resources (an app: `"<version>"`) and the If-Match header that makes a write
// conditional on one (RFC 9110: strong comparison; `*` matches any existing resource).
import { ApiError } from './errors.ts';

/** The strong ETag of a resource at `version`. */
export const etagOf = (version: number): string => `"${version}"`;

/**
 * The versions an If-Match header accepts: undefined when it is absent or `*` (any version), else
 * the versions named (weak tags never match). A header that is not a list of ETags is a 400 naming it.
 */
export function ifMatchVersions(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const part of header.split(',')) {
    const tag = part.trim();
    const strong = /^"(\d{1,15})"$/.exec(tag);
    if (strong) versions.push(Number(strong[1]));
    else if (!/^W\/"[^"]*"$/.test(tag)) {
      throw new ApiError('validation_failed', 'If-Match must be an ETag from GET, e.g. "3" (quotes included), or *', {
        details: [{ path: 'If-Match', message: 'not an entity tag', in: 'header' }],
      });
    }
  }
  return versions;
}

// Text into a URL component, failing typed: text holding half a UTF-16 surrogate pair (an emoji cut
// by Left() or Mid(), an id a target answered with) has no UTF-8 form a URL could carry. Nothing is
// sent; that one object fails with a permanent error instead of an untyped URIError retried forever.
import { PermanentError } from '../engine/errors.ts';

export function uriComponent(value: string, what: string): string {
  try {
    return encodeURIComponent(value);
  } catch (error) {
    throw new PermanentError(`${what} holds half of a UTF-16 surrogate pair and cannot be sent in a URL`, {
      code: 'BadRequest',
      cause: error,
    });
  }
}

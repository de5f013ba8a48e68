// Secrets are bound to the origin (scheme, host, port) they were given for. Were a PATCH allowed
// to move the target or the OAuth token URL elsewhere and keep the stored secret, anyone holding
// an API key could point an app at a host they control, press test-connection and read the
// bearer token (or the client secret, or an access token minted with it) off the wire. So a move
// to another origin must bring the secret again; a new path on the same origin need not.
import type { ConfigIssue } from '../../engine/config/index.ts';
import type { StoredConfiguration, TargetPatch } from './apps-config.ts';

/**
 * The URL's scheme, host and port; null when it does not parse (the schema reports that). Not
 * `URL.origin`, which is "null" for schemes such as ldap:// and ldaps://.
 */
function originOf(url: unknown): string | null {
  try {
    const parsed = new URL(String(url));
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return null;
  }
}

/**
 * Whether a URL moves to another scheme, host or port than `before` (an absent `after` moves
 * nothing). A secret bound to `before` must then be given again.
 */
export function movesToAnotherOrigin(before: unknown, after: unknown): boolean {
  return typeof after === 'string' && originOf(after) !== originOf(before);
}

/** The secrets a target change lacks: one issue per secret, at its path in the request. */
export function credentialOriginIssues(
  before: StoredConfiguration,
  target: TargetPatch | undefined,
  after: StoredConfiguration,
): ConfigIssue[] {
  if (!target) return [];
  const targetMoved = movesToAnotherOrigin(before.target.url, target.url);
  const to = target.url === undefined ? '' : (originOf(target.url) ?? target.url);
  if (after.auth.type === 'bearer') {
    return targetMoved && target.token === undefined
      ? [
          {
            path: 'target.token',
            message: `a new target origin needs the token again: give target.token with the new target.url (${to})`,
          },
        ]
      : [];
  }
  if (target.oauth?.clientSecret !== undefined) return [];
  const tokenUrlMoved =
    before.auth.type === 'oauth2' && movesToAnotherOrigin(before.auth.tokenUrl, target.oauth?.tokenUrl);
  if (!targetMoved && !tokenUrlMoved) return [];
  return [
    {
      path: 'target.oauth.clientSecret',
      message: targetMoved
        ? `a new target origin needs the client secret again: give target.oauth.clientSecret with the new target.url (${to})`
        : 'a new token URL origin needs the client secret again: give target.oauth.clientSecret with the new tokenUrl',
    },
  ];
}

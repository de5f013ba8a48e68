// Limits a target app puts on what it accepts (gallery "connector limitations"), checked before an
// export so the object is skipped with a clear error instead of failing at the target.
import type { ErrorCode, ScimResource } from '../types.ts';
import type { AppConfig } from './schema.ts';

export type LimitationCheck = { ok: true } | { ok: false; skip: true; code: ErrorCode; message: string };

function domainOf(userName: string): string | null {
  const at = userName.lastIndexOf('@');
  return at < 0 ? null : userName.slice(at + 1).toLowerCase();
}

/** Whether the app accepts this user resource; iPass SmartConnect accepts only registered domains. */
export function checkConnectorLimitations(
  config: Pick<AppConfig, 'connectorLimitations'>,
  resource: ScimResource,
): LimitationCheck {
  const domains = config.connectorLimitations.allowedUsernameDomains;
  if (domains && domains.length > 0 && typeof resource.userName === 'string') {
    const domain = domainOf(resource.userName);
    const allowed = domains.map((d) => d.trim().toLowerCase());
    if (domain === null || !allowed.includes(domain)) {
      return {
        ok: false,
        skip: true,
        code: 'InvalidDomain',
        message: `userName "${resource.userName}" is not in a registered domain (${allowed.join(', ')})`,
      };
    }
  }
  return { ok: true };
}

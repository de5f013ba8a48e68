// The stored configuration of an app holds no secrets (they are encrypted apart); parsing it needs
// them merged back into `auth`, as the worker does before it connects.

/** The configuration to parse: the stored one with the app's name and its secrets in `auth`. */
export function configWithSecrets(
  configuration: Record<string, unknown>,
  secrets: Record<string, string>,
  name: string,
): unknown {
  const auth = { ...((configuration.auth as Record<string, unknown> | undefined) ?? {}) };
  if (auth.type === undefined) auth.type = secrets.clientSecret ? 'oauth2' : 'bearer';
  if (secrets.token !== undefined) auth.token = secrets.token;
  if (secrets.clientSecret !== undefined) auth.clientSecret = secrets.clientSecret;
  return { name, ...configuration, auth };
}

/** @jsxImportSource hono/jsx */
// How Ferry authenticates to an app's target, as the wizard and the settings form ask it: a bearer
// token, or OAuth 2.0 client credentials (token URL, client id, secret, scope). Secrets are
// write-only: their fields are always empty, and on the settings form an empty field keeps what is
// stored. Without JavaScript both sets of fields show; the chosen radio decides which is sent.
import type { AppView } from '../types.ts';
import { formText, type Form } from './form.ts';

type Auth = 'bearer' | 'oauth2';

export function TargetAuthFields({
  app,
  idPrefix,
  readOnly = false,
}: {
  /** The app being edited; absent in the wizard, where every secret is new. */
  app?: AppView;
  idPrefix: string;
  readOnly?: boolean;
}) {
  const auth: Auth = app?.target.auth ?? 'bearer';
  const oauth = app?.target.oauth;
  const id = (name: string) => `${idPrefix}-${name}`;
  const kept = (stored: boolean) => (stored ? 'stored — leave empty to keep it' : undefined);
  const AuthChoice = ({ value, label }: { value: Auth; label: string }) => (
    <div>
      <input type="radio" id={id(value)} name="auth" value={value} checked={auth === value} disabled={readOnly} />{' '}
      <label for={id(value)}>{label}</label>
    </div>
  );
  return (
    <fieldset>
      <legend>Authentication to the target</legend>
      <input type="hidden" name="authBefore" value={app ? auth : ''} />
      <AuthChoice value="bearer" label="Bearer" />
      <label for={id('token')}>Bearer token</label>
      <input
        id={id('token')}
        name="token"
        type="password"
        autocomplete="off"
        placeholder={app ? (kept(auth === 'bearer' && app.target.hasToken) ?? 'none stored') : undefined}
        disabled={readOnly}
      />
      <AuthChoice value="oauth2" label="OAuth 2.0 client credentials" />
      <label for={id('token-url')}>Token URL</label>
      <input
        id={id('token-url')}
        name="tokenUrl"
        type="url"
        placeholder="https://login.example.com/oauth2/token"
        value={oauth?.tokenUrl ?? ''}
        disabled={readOnly}
      />
      <label for={id('client-id')}>Client ID</label>
      <input id={id('client-id')} name="clientId" value={oauth?.clientId ?? ''} disabled={readOnly} />
      <label for={id('client-secret')}>Client secret</label>
      <input
        id={id('client-secret')}
        name="clientSecret"
        type="password"
        autocomplete="off"
        placeholder={kept(app?.target.hasClientSecret === true)}
        disabled={readOnly}
      />
      <label for={id('scope')}>Scope (optional)</label>
      <input id={id('scope')} name="scope" value={oauth?.scope ?? ''} disabled={readOnly} />
    </fieldset>
  );
}

/**
 * The target's authentication fields of a posted form, as the API's `target` takes them, or the
 * field a person must correct. `create`: every secret is needed; otherwise an empty secret keeps
 * the stored one, and nothing is sent when nothing changes.
 */
export function targetAuthOf(form: Form, mode: 'create' | 'update'): Record<string, unknown> | { error: string } {
  const auth: Auth = formText(form, 'auth') === 'oauth2' ? 'oauth2' : 'bearer';
  const switching = mode === 'update' && formText(form, 'authBefore') !== auth;
  if (auth === 'bearer') {
    const token = formText(form, 'token');
    if (token) return { token };
    if (mode === 'create' || switching) return { error: 'Bearer token: give the token the target expects' };
    return {};
  }
  const clientSecret = formText(form, 'clientSecret');
  const missing = [
    ['tokenUrl', 'Token URL'],
    ['clientId', 'Client ID'],
    ...(mode === 'create' || switching ? [['clientSecret', 'Client secret']] : []),
  ].filter(([name]) => !formText(form, name));
  if (missing.length > 0) return { error: `${missing.map(([, label]) => label).join(', ')}: required for OAuth` };
  const scope = formText(form, 'scope');
  return {
    oauth: {
      tokenUrl: formText(form, 'tokenUrl'),
      clientId: formText(form, 'clientId'),
      ...(clientSecret ? { clientSecret } : {}),
      ...(scope ? { scope } : {}),
    },
  };
}

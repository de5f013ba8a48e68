/** @jsxImportSource hono/jsx */
// An app's settings form (admins) and the PATCH /apps/{id} body it becomes. Secrets (the bearer
// token, the OAuth client secret) are write-only: their fields are always empty, and an empty field
// keeps what is stored.
import { CsrfField, can } from '../layout.tsx';
import type { AppView, Me } from '../types.ts';
import { formText, type Form } from './form.ts';
import { TargetAuthFields, targetAuthOf } from './target-auth.tsx';

const PROFILES = ['strict', 'entra-2017', 'put-only'];

export function SettingsForm({ app, me, csrf }: { app: AppView; me: Me; csrf: string }) {
  const s = app.settings;
  const threshold = 'count' in s.deletionThreshold ? s.deletionThreshold.count : null;
  const readOnly = !can(me, 'apps:write');
  return (
    <section aria-labelledby="settings-h">
      <h2 id="settings-h">Settings</h2>
      <form method="post" action={`/console/apps/${encodeURIComponent(app.id)}/settings`} class="card grid">
        <CsrfField csrf={csrf} />
        <label for="s-url">Target URL</label>
        <input id="s-url" name="url" type="url" value={app.target.url} required disabled={readOnly} />
        <TargetAuthFields app={app} idPrefix="s" readOnly={readOnly} />
        <label for="s-interval">Cycle interval (minutes)</label>
        <input
          id="s-interval"
          name="cycleIntervalMinutes"
          type="number"
          min="1"
          max="1440"
          value={String(s.cycleIntervalMinutes)}
          disabled={readOnly}
        />
        <label for="s-rate">Rate limit (requests/s)</label>
        <input
          id="s-rate"
          name="requestsPerSecond"
          type="number"
          min="0.1"
          step="any"
          value={String(s.rateLimit.requestsPerSecond)}
          disabled={readOnly}
        />
        <label for="s-threshold">Deletion threshold (objects)</label>
        <input
          id="s-threshold"
          name="deletionThreshold"
          type="number"
          min="0"
          value={threshold === null ? '' : String(threshold)}
          disabled={readOnly}
        />
        <label for="s-mail">Notification e-mail</label>
        <input
          id="s-mail"
          name="notificationEmail"
          type="email"
          value={s.notificationEmail ?? ''}
          disabled={readOnly}
        />
        <label for="s-profile">Compatibility profile</label>
        <select id="s-profile" name="profile" disabled={readOnly}>
          {PROFILES.map((p) => (
            <option value={p} selected={p === s.profile}>
              {p}
            </option>
          ))}
        </select>
        <label for="s-bulk">SCIM Bulk</label>
        <input
          id="s-bulk"
          name="bulk"
          type="checkbox"
          value="true"
          checked={s.bulk === true}
          disabled={readOnly}
          aria-describedby="s-bulk-hint"
        />
        <p id="s-bulk-hint" class="hint">
          Send a cycle's creates, updates and disables in /Bulk requests when the target advertises SCIM Bulk; off: one
          request per write.
        </p>
        {readOnly ? null : (
          <button type="submit" class="primary">
            Save settings
          </button>
        )}
      </form>
    </section>
  );
}

const text = formText;

/** The PATCH body of the settings form, or the field a person must correct. */
export function settingsPatch(form: Form): { body: Record<string, unknown> } | { error: string } {
  const numberOf = (name: string, label: string): number | undefined | { error: string } => {
    const raw = text(form, name);
    if (raw === '') return undefined;
    const n = Number(raw);
    return Number.isFinite(n) ? n : { error: `${label}: not a number` };
  };
  const interval = numberOf('cycleIntervalMinutes', 'Cycle interval');
  const rate = numberOf('requestsPerSecond', 'Rate limit');
  const threshold = numberOf('deletionThreshold', 'Deletion threshold');
  for (const value of [interval, rate, threshold]) if (typeof value === 'object') return value;
  const settings: Record<string, unknown> = {};
  if (typeof interval === 'number') settings.cycleIntervalMinutes = interval;
  if (typeof rate === 'number') settings.rateLimit = { requestsPerSecond: rate };
  if (typeof threshold === 'number') settings.deletionThreshold = { count: threshold };
  settings.notificationEmail = text(form, 'notificationEmail') || null;
  if (text(form, 'profile')) settings.profile = text(form, 'profile');
  // A checkbox left unticked is not posted: the form always shows it, so its absence means off.
  settings.bulk = text(form, 'bulk') === 'true';
  const auth = targetAuthOf(form, 'update');
  if ('error' in auth) return { error: String(auth.error) };
  const target: Record<string, unknown> = { ...auth };
  if (text(form, 'url')) target.url = text(form, 'url');
  return { body: { settings, ...(Object.keys(target).length > 0 ? { target } : {}) } };
}

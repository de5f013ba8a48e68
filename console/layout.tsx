/** @jsxImportSource hono/jsx */
// The page frame every console page shares (navigation, who is signed in, sign-out) and the small
// pieces several pages show: notices, state badges, the progress bar, times.
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { Me } from './types.ts';

export const STATIC = '/console/static';

export interface PageFrame {
  title: string;
  me?: Me | null;
  csrf?: string;
  notice?: string | null;
  error?: string | null;
  children?: Child;
}

export function Layout({ title, me, csrf, notice, error, children }: PageFrame) {
  // htmx adds the CSRF token to every request it sends; plain forms carry it in a hidden field.
  const hxHeaders = csrf ? JSON.stringify({ 'X-CSRF-Token': csrf }) : undefined;
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false}' />
          <title>{`${title} · Ferry`}</title>
          <link rel="stylesheet" href={`${STATIC}/console.css`} />
          <script src={`${STATIC}/htmx.min.js`} defer></script>
        </head>
        <body hx-headers={hxHeaders}>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <a class="brand" href="/">
              Ferry
            </a>
            {me ? (
              <nav aria-label="Main">
                <a href="/">Apps</a>
                {can(me, 'apps:write') ? <a href="/console/new">New app</a> : null}
                <a href="/console/directory">Directory</a>
                <a href="/console/sources">Sources</a>
                {can(me, 'keys:manage') ? <a href="/console/keys">Keys</a> : null}
                {can(me, 'audit:read') ? <a href="/console/audit">Audit</a> : null}
                <a href="/docs">API</a>
              </nav>
            ) : null}
            {me ? (
              <form class="who" method="post" action="/console/sign-out">
                <span>
                  {me.name} <span class="role">({me.role})</span>
                </span>
                <CsrfField csrf={csrf} />
                <button type="submit" class="link">
                  Sign out
                </button>
              </form>
            ) : null}
          </header>
          <main id="main">
            <h1>{title}</h1>
            {notice ? (
              <p class="notice" role="status">
                {notice}
              </p>
            ) : null}
            {error ? (
              <p class="problem" role="alert">
                {error}
              </p>
            ) : null}
            {children}
          </main>
        </body>
      </html>
    </>
  );
}

export const can = (me: Me | null | undefined, permission: string): boolean =>
  !!me && me.permissions.includes(permission);

export function CsrfField({ csrf }: { csrf?: string }) {
  return csrf ? <input type="hidden" name="_csrf" value={csrf} /> : null;
}

/** A one-button form posting to `action` (with the CSRF token); `confirm` asks first without JS. */
export function ActionButton(props: {
  action: string;
  label: string;
  csrf?: string;
  name?: string;
  value?: string;
  kind?: 'primary' | 'danger';
}) {
  return (
    <form method="post" action={props.action} class="inline">
      <CsrfField csrf={props.csrf} />
      {props.name ? <input type="hidden" name={props.name} value={props.value ?? ''} /> : null}
      <button type="submit" class={props.kind ?? ''}>
        {props.label}
      </button>
    </form>
  );
}

export function StateBadge({ state }: { state: string | null | undefined }) {
  const label = state ?? 'not running';
  return <span class={`badge badge-${state ?? 'none'}`}>{label}</span>;
}

/** The running cycle's bar: processed of total, percent and ETA (a native <progress>). */
export function CycleBar({
  cycle,
}: {
  cycle: { number: number; kind: string; processed: number; total: number; percent: number; etaSeconds: number | null };
}) {
  const label = `Cycle ${cycle.number} (${cycle.kind})`;
  return (
    <div class="bar">
      <progress
        max={Math.max(cycle.total, 1)}
        value={Math.min(cycle.processed, Math.max(cycle.total, 1))}
        aria-label={label}
      >
        {cycle.percent}%
      </progress>
      <span>
        {label}: {cycle.processed} / {cycle.total} ({Math.floor(cycle.percent)}%)
        {cycle.etaSeconds !== null ? ` · ETA ${formatSeconds(cycle.etaSeconds)}` : ''}
      </span>
    </div>
  );
}

export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** An ISO time as UTC text with a machine-readable <time>. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span>—</span>;
  const text = iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
    .replace('Z', ' UTC');
  return <time datetime={iso}>{text}</time>;
}

export function countsText(counts: Record<string, number> | undefined): string {
  if (!counts) return '';
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ');
}

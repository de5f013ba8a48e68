/** @jsxImportSource hono/jsx */
// The operator console: server-rendered pages (Hono JSX) with htmx for the live parts, served by
// Ferry at `/` and under `/console/`. It has no data of its own: every page is built from the
// public API, called in process with the signed-in person's key (see api-client.ts).
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { ApiClient, type ApiFetch } from './api-client.ts';
import { Layout } from './layout.tsx';
import { SESSION_COOKIE, SESSION_SECONDS, SessionSealer } from './session.ts';
import { staticFile } from './static.ts';
import type { Me } from './types.ts';
import { appRoutes } from './pages/app.tsx';
import { assignmentRoutes } from './pages/assignments.tsx';
import { directoryRoutes } from './pages/directory.tsx';
import { directoryEditRoutes } from './pages/directory-edit.tsx';
import { directoryImportRoutes } from './pages/directory-import.tsx';
import { expressionRoutes } from './pages/expressions.tsx';
import { keyRoutes } from './pages/keys.tsx';
import { logRoutes } from './pages/logs.tsx';
import { mappingRoutes } from './pages/mappings.tsx';
import { onDemandRoutes } from './pages/on-demand.tsx';
import { overviewRoutes } from './pages/overview.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { sourceRoutes } from './pages/sources.tsx';
import { wizardRoutes } from './pages/wizard.tsx';

export interface ConsoleOptions {
  /** The API, called in process (the API app's `request`). */
  api: ApiFetch;
  /** Secret the session cookie is sealed with (Ferry passes FERRY_ENCRYPTION_KEY); random when absent. */
  sessionSecret: string | Buffer;
  now?: () => number;
}

export type ConsoleEnv = {
  Variables: { client: ApiClient; me: Me; csrf: string };
};
export type ConsoleContext = Context<ConsoleEnv>;
export type ConsoleRouter = Hono<ConsoleEnv>;

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
export const SIGN_IN = '/console/sign-in';

export function createConsole(options: ConsoleOptions): ConsoleRouter {
  const sealer = new SessionSealer(options.sessionSecret, { now: options.now });
  const router: ConsoleRouter = new Hono<ConsoleEnv>();

  router.use('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    if (!c.req.path.startsWith('/console/static/')) c.header('Cache-Control', 'no-store');
  });

  router.get('/console/static/:file', (c) => staticFile(c, c.req.param('file')));

  // A change must come from a console page: a cross-site Origin is refused before anything else.
  router.use('*', async (c, next) => {
    if (isChange(c.req.method) && !sameOrigin(c)) return refuse(c, 'This request did not come from a Ferry page');
    return next();
  });

  router.get(SIGN_IN, (c) => c.html(<SignInPage error={null} />));
  router.post(SIGN_IN, async (c) => {
    const form = await c.req.parseBody();
    const key = typeof form.apiKey === 'string' ? form.apiKey.trim() : '';
    if (!key) return c.html(<SignInPage error="Enter an API key" />, 400);
    const me = await new ApiClient(options.api, key, c.env).get<Me>('/me');
    if (!me.ok) {
      const message = me.status === 429 ? me.problem.message : 'This API key was not accepted';
      return c.html(<SignInPage error={message} />, me.status === 429 ? 429 : 401);
    }
    setCookie(c, SESSION_COOKIE, sealer.seal(key), {
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c),
      path: '/',
      maxAge: SESSION_SECONDS,
    });
    return c.redirect('/', 303);
  });

  // Every other page needs a session; every change, its CSRF token too.
  router.use('*', async (c, next) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = sealer.open(cookie);
    if (!cookie || !session) return toSignIn(c);
    if (isChange(c.req.method)) {
      const token = c.req.header('X-CSRF-Token') ?? (await formField(c, '_csrf'));
      if (!sealer.checkCsrf(cookie, token)) return refuse(c, 'Missing or wrong CSRF token: reload the page');
    }
    const client = new ApiClient(options.api, session.apiKey, c.env, publicOrigin(c));
    const me = await client.get<Me>('/me');
    if (!me.ok) {
      // A revoked key ends the session; anything else (e.g. the failed-auth limit) is shown.
      if (me.status === 401) return toSignIn(c, true);
      return c.html(<Layout title="Ferry is not answering" error={me.problem.message} />, 503);
    }
    c.set('client', client);
    c.set('me', me.data);
    c.set('csrf', sealer.csrfToken(cookie));
    return next();
  });

  router.post('/console/sign-out', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c), httpOnly: true, sameSite: 'Strict' });
    return c.redirect(SIGN_IN, 303);
  });

  overviewRoutes(router);
  appRoutes(router);
  assignmentRoutes(router);
  logRoutes(router);
  onDemandRoutes(router);
  directoryRoutes(router);
  directoryImportRoutes(router);
  directoryEditRoutes(router);
  sourceRoutes(router);
  wizardRoutes(router);
  expressionRoutes(router);
  mappingRoutes(router);
  keyRoutes(router);

  router.notFound((c) => c.html(<Layout title="Not found" error={`No console page at ${c.req.path}`} />, 404));
  router.onError((error, c) => c.html(<Layout title="Something went wrong" error={error.message} />, statusOf(error)));
  return router;
}

const isChange = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);

/** Secure cookies when the browser talks https (directly, or to a proxy that says so). */
function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('X-Forwarded-Proto') === 'https';
}

/** The address the browser used: this host, over https when the browser talks https (isHttps). */
function publicOrigin(c: Context): string {
  const url = new URL(c.req.url);
  return `${isHttps(c) ? 'https' : url.protocol.replace(':', '')}://${c.req.header('Host') ?? url.host}`;
}

/** The Origin (or, without one, the Referer) names this host; a request with neither is a script's, and is let through to the token check. */
function sameOrigin(c: Context): boolean {
  const host = c.req.header('Host') ?? new URL(c.req.url).host;
  const origin = c.req.header('Origin') ?? c.req.header('Referer');
  if (!origin) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header('Content-Type') ?? '';
  if (!type.includes('form')) return undefined;
  const form = await c.req.parseBody();
  const value = form[name];
  return typeof value === 'string' ? value : undefined;
}

function refuse(c: Context, message: string) {
  return c.html(<Layout title="Refused" error={message} />, 403);
}

function toSignIn(c: Context, expired = false) {
  if (expired) deleteCookie(c, SESSION_COOKIE, { path: '/' });
  // htmx follows HX-Redirect with a full page load; a plain request gets a redirect.
  if (c.req.header('HX-Request')) {
    c.header('HX-Redirect', SIGN_IN);
    return c.body(null, 401);
  }
  return c.redirect(SIGN_IN, 303);
}

function statusOf(error: Error): 400 | 404 | 500 | 502 {
  const status = (error as { status?: number }).status;
  if (status === 404) return 404;
  if (status === 400) return 400;
  return 500;
}

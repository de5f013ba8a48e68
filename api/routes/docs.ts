// GET /docs — a self-contained page that renders /openapi.json and can send requests. Everything
// is inline: Ferry often runs on machines without Internet access, and the CSP header forbids
// loading anything from elsewhere. The page holds no data; it asks for an API key to fetch the spec.
// The browser's automatic /favicon.ico gets an empty answer instead of a 401 (`/` is the console).
import { createRouter } from '../router.ts';
import { DOCS_HTML } from '../docs-page.ts';

export const DOCS_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function docsRouter() {
  const router = createRouter();
  router.get('/docs', (c) => {
    c.header('Content-Security-Policy', DOCS_CSP);
    c.header('Cache-Control', 'no-cache');
    return c.html(DOCS_HTML);
  });
  router.get('/favicon.ico', (c) => {
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(null, 204);
  });
  return router;
}

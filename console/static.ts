// The console's two static files: its style sheet and htmx, served from node_modules as shipped
// (no build step), read and gzipped once, cached by browsers for a day.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { Context } from 'hono';

const require = createRequire(import.meta.url);

interface StaticAsset {
  type: string;
  body: Buffer;
  gzipped: Buffer;
}

const asset = (type: string, body: Buffer): StaticAsset => ({ type, body, gzipped: gzipSync(body, { level: 9 }) });

let assets: Record<string, StaticAsset> | null = null;

function load(): Record<string, StaticAsset> {
  assets ??= {
    'console.css': asset('text/css; charset=utf-8', readFileSync(new URL('./console.css', import.meta.url))),
    'htmx.min.js': asset('text/javascript; charset=utf-8', readFileSync(require.resolve('htmx.org/dist/htmx.min.js'))),
  };
  return assets;
}

export function staticFile(c: Context, name: string) {
  const found = Object.hasOwn(load(), name) ? load()[name] : undefined;
  if (!found) return c.text('Not found', 404);
  c.header('Content-Type', found.type);
  c.header('Cache-Control', 'public, max-age=86400');
  c.header('Vary', 'Accept-Encoding');
  if (/\bgzip\b/.test(c.req.header('Accept-Encoding') ?? '')) {
    c.header('Content-Encoding', 'gzip');
    return c.body(new Uint8Array(found.gzipped));
  }
  return c.body(new Uint8Array(found.body));
}

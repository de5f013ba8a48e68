import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DOCS_CSP } from '../../api/routes/docs.ts';
import { auth, testApp, read } from './helpers.ts';

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  security?: unknown[];
  summary?: string;
}

async function spec() {
  const { app } = testApp();
  const res = await app.request('/openapi.json', { headers: auth() });
  expect(res.status).toBe(200);
  return { app, doc: await read(res) };
}

describe('/openapi.json', () => {
  it('is an OpenAPI 3.1 document with bearer security', async () => {
    const { doc } = await spec();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });

  it('describes every route of the app, each with a summary, schemas for bodies and responses', async () => {
    const { app, doc } = await spec();
    const undocumented = new Set(['GET /openapi.json', 'GET /docs', 'GET /', 'GET /favicon.ico']);
    const routes = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)
      .filter((r) => !undocumented.has(r));
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const route of routes) {
      const [method, path] = route.split(' ');
      const op: Operation | undefined = doc.paths[path]?.[method.toLowerCase()];
      expect(op, route).toBeDefined();
      expect(op!.summary, route).toBeTruthy();
      const responses = Object.entries(op!.responses ?? {});
      expect(
        responses.some(([status]) => status.startsWith('2')),
        route,
      ).toBe(true);
      for (const [status, response] of responses) {
        // JSON everywhere but the Prometheus text of GET /metrics.
        const type = route === 'GET /metrics' && status === '200' ? 'text/plain' : 'application/json';
        expect(response.content?.[type]?.schema, `${route} ${status}`).toBeDefined();
      }
      if (op!.requestBody) expect(op!.requestBody.content?.['application/json']?.schema, route).toBeDefined();
    }
  });

  it('documents the error shape and the quarantine body', async () => {
    const { doc } = await spec();
    expect(doc.components.schemas.Error.properties.error.required).toEqual(
      expect.arrayContaining(['code', 'message', 'requestId']),
    );
    expect(doc.components.schemas.QuarantineRequest.required).toEqual(['reason']);
  });
});

describe('/docs', () => {
  it('serves a self-contained page without a key, loading nothing from elsewhere', async () => {
    const { app } = testApp();
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(DOCS_CSP);
    expect(DOCS_CSP).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('/openapi.json');
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/["'(]\/\/[a-z0-9]/i);
  });

  it('reveals nothing of the API itself: the spec still needs a key', async () => {
    const { app } = testApp();
    const html = await (await app.request('/docs')).text();
    expect(html).not.toContain('/api/v1');
    expect((await app.request('/openapi.json')).status).toBe(401);
  });

  it('carries a script that parses and fetches the spec with the bearer key', async () => {
    const { app } = testApp();
    const html = await (await app.request('/docs')).text();
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    expect(() => new Script(scripts[0])).not.toThrow();
    expect(scripts[0]).toContain("fetch('/openapi.json'");
    expect(scripts[0]).toContain("'Bearer '");
  });
});

import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.ts';
import { ConflictError, NotFoundError } from '../../engine/errors.ts';
import { auth, jobStatus, recordingProvisioning, testApp, read } from './helpers.ts';

const quarantined = jobStatus('quarantined', { quarantine: { reason: 'Manual', since: '2026-01-01T00:00:00.000Z' } });

const json = (body: unknown) => ({
  method: 'POST',
  headers: { ...auth(), 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

describe('request ids', () => {
  it('gives every response an X-Request-Id, echoed in error bodies and logs', async () => {
    const { app, lines } = testApp();
    const ok = await app.request('/healthz');
    const missing = await app.request('/api/v1/nothing', { headers: auth() });
    const a = ok.headers.get('x-request-id');
    const b = missing.headers.get('x-request-id');
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
    expect((await read(missing)).error.requestId).toBe(b);
    expect(lines.some((l) => JSON.parse(l).requestId === b)).toBe(true);
  });

  it('keeps a well-formed incoming X-Request-Id and replaces a malformed one', async () => {
    const { app } = testApp();
    const kept = await app.request('/healthz', { headers: { 'X-Request-Id': 'trace-123_abc' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-123_abc');
    const replaced = await app.request('/healthz', { headers: { 'X-Request-Id': 'bad id <script>' } });
    expect(replaced.headers.get('x-request-id')).not.toContain('script');
  });
});

describe('the one error shape', () => {
  it('answers unknown routes with 404 not_found', async () => {
    const { app } = testApp();
    const res = await app.request('/api/v1/nothing', { headers: auth() });
    expect(res.status).toBe(404);
    const body = await read(res);
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatchObject({ code: 'not_found', message: 'No route for GET /api/v1/nothing' });
  });

  it('hides the message of an unexpected error, and logs it with the request id', async () => {
    const { control } = recordingProvisioning(quarantined);
    control.pause = async () => {
      throw new Error('connection to db failed: password=hunter2');
    };
    const { app, lines } = testApp({ provisioning: control });
    const res = await app.request('/api/v1/apps/a1/provisioning/pause', { method: 'POST', headers: auth() });
    expect(res.status).toBe(500);
    const body = await read(res);
    expect(body.error).toEqual({ code: 'internal_error', message: 'Internal error', requestId: body.error.requestId });
    expect(JSON.stringify(body)).not.toContain('hunter2');
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request failed');
    expect(logged.requestId).toBe(body.error.requestId);
    expect(logged.error.message).toContain('connection to db failed');
  });

  it('hides 5xx messages of ApiErrors too, and maps codes to statuses', async () => {
    // A quarantined job: each of these actions reaches the control.
    const { control } = recordingProvisioning(quarantined);
    control.pause = async () => {
      throw new ApiError('unavailable', 'Temporal at 10.1.2.3:7233 is unavailable');
    };
    control.restart = async () => {
      throw new ApiError('conflict', 'Provisioning is not running for app a1; start it first');
    };
    control.runNow = async () => {
      throw new NotFoundError('App a1 not found', { code: 'Conflict' });
    };
    control.release = async () => {
      throw new ConflictError('Already released', { code: 'Conflict' });
    };
    const { app } = testApp({ provisioning: control });
    const post = (action: string) =>
      app.request(`/api/v1/apps/a1/provisioning/${action}`, { method: 'POST', headers: auth() });

    const unavailable = await post('pause');
    expect(unavailable.status).toBe(503);
    const u = await read(unavailable);
    expect(u.error.code).toBe('unavailable');
    expect(u.error.message).not.toContain('10.1.2.3');

    const conflict = await post('restart');
    expect(conflict.status).toBe(409);
    expect((await read(conflict)).error).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('start it first'),
    });

    const notFound = await post('run');
    expect(notFound.status).toBe(404);
    expect((await read(notFound)).error.code).toBe('not_found');

    expect((await post('release')).status).toBe(409);
  });

  it('answers malformed JSON with 400 bad_request', async () => {
    const { app } = testApp();
    const res = await app.request('/api/v1/apps/a1/provisioning/quarantine', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: '{"reason": ',
    });
    expect(res.status).toBe(400);
    expect((await read(res)).error.code).toBe('bad_request');
  });
});

describe('validation errors name the field', () => {
  it('names a nested body field with its dotted path', async () => {
    const { app } = testApp();
    // A route shaped like POST /apps, mounted on the real app to exercise its one validation hook.
    app.openapi(
      createRoute({
        method: 'post',
        path: '/api/v1/test-apps',
        request: {
          body: {
            required: true,
            content: {
              'application/json': {
                schema: z.object({ name: z.string().min(1), target: z.object({ url: z.url(), token: z.string() }) }),
              },
            },
          },
        },
        responses: { 201: { description: 'created' } },
      }),
      (c) => c.body(null, 201),
    );
    const res = await app.request('/api/v1/test-apps', json({ name: 'x', target: { url: 'not a url', token: 't' } }));
    expect(res.status).toBe(400);
    const body = await read(res);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details).toEqual([{ path: 'target.url', message: expect.any(String), in: 'body' }]);
    expect(body.error.message).toContain('target.url');

    const two = await app.request('/api/v1/test-apps', json({ target: { token: 5 } }));
    const paths = (await read(two)).error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['name', 'target.token', 'target.url']);
  });

  it('names a bad path parameter', async () => {
    const { app } = testApp();
    const res = await app.request('/api/v1/apps/bad$id/provisioning', { headers: auth() });
    expect(res.status).toBe(400);
    expect((await read(res)).error.details).toEqual([{ path: 'id', message: expect.any(String), in: 'path' }]);
  });
});

describe('request body size limit', () => {
  const big = (bytes: number) => JSON.stringify({ reason: 'x'.repeat(bytes) });

  it('refuses a body over 1 MiB with 413 payload_too_large', async () => {
    const { app, calls } = testApp();
    const res = await app.request('/api/v1/apps/a1/provisioning/quarantine', json(JSON.parse(big(1024 * 1024 + 10))));
    expect(res.status).toBe(413);
    expect((await read(res)).error.code).toBe('payload_too_large');
    expect(calls).toEqual([]);
  });

  it('counts the bytes of a body sent without Content-Length (chunked)', async () => {
    const { app } = testApp({ limits: { maxBodyBytes: 1000 } });
    const chunk = new TextEncoder().encode(big(3000));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const req = new Request('http://localhost/api/v1/apps/a1/provisioning/quarantine', {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const res = await app.request(req);
    expect(res.status).toBe(413);
  });

  it('allows a larger body on /api/v1/directory/import', async () => {
    const { app } = testApp({ limits: { maxBodyBytes: 1000, maxImportBodyBytes: 10_000 } });
    const body = big(5000);
    const normal = await app.request('/api/v1/apps/a1/provisioning/quarantine', json(JSON.parse(body)));
    expect(normal.status).toBe(413);
    // The import route is not wired yet: passing the limit shows as "no route", not 413.
    const imported = await app.request('/api/v1/directory/import', json(JSON.parse(body)));
    expect(imported.status).toBe(404);
    const tooBig = await app.request('/api/v1/directory/import', json(JSON.parse(big(20_000))));
    expect(tooBig.status).toBe(413);
  });

  it('checks authentication before reading the body', async () => {
    const { app } = testApp({ limits: { maxBodyBytes: 10 } });
    const res = await app.request('/api/v1/apps/a1/provisioning/quarantine', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: big(100),
    });
    expect(res.status).toBe(401);
  });
});

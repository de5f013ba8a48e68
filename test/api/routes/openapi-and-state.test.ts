import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProvisioningPaused, trackProvisioningEnabled } from '../../../api/resources.ts';
import { recordingProvisioning } from '../helpers.ts';
import { read, send, storeApp } from './helpers.ts';

let ctx: Awaited<ReturnType<typeof storeApp>>;
beforeAll(async () => {
  ctx = await storeApp();
});
afterAll(async () => {
  await ctx.close();
});

describe('OpenAPI of the resource routes', () => {
  it('documents every resource route with its methods', async () => {
    const doc = await read(await ctx.app.request('/openapi.json', send('GET')));
    const routes = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/v1/directory/users',
        'DELETE /api/v1/directory/users/{id}',
        'POST /api/v1/directory/users/{id}/restore',
        'POST /api/v1/directory/groups/{id}/members',
        'DELETE /api/v1/directory/groups/{id}/members/{memberId}',
        'POST /api/v1/directory/import',
        'GET /api/v1/gallery',
        'POST /api/v1/apps',
        'PATCH /api/v1/apps/{id}',
        'POST /api/v1/apps/{id}/test-connection',
        'POST /api/v1/apps/{id}/assignments',
        'DELETE /api/v1/apps/{id}/assignments/{principalId}',
        'POST /api/v1/apps/{id}/provision-on-demand',
        'GET /api/v1/apps/{id}/cycles',
        'GET /api/v1/apps/{id}/logs',
      ]),
    );
    expect(Object.keys(doc.paths['/api/v1/apps/{id}/logs'].get.responses['200'].content)).toEqual([
      'application/json',
      'text/csv',
    ]);
  });
});

describe('provisioning on/off is remembered by the database', () => {
  it('start and resume turn it on; pause keeps it on and remembers the pause (resume or restart forget it); stop turns it off', async () => {
    const app = await ctx.store.apps.create({ name: 'Flag', template: 'generic-scim', configuration: {} });
    const { control, calls } = recordingProvisioning();
    const tracked = trackProvisioningEnabled(control, ctx.store);
    await tracked.start(app.id, { appName: 'Flag' });
    expect((await ctx.store.apps.listProvisioningEnabled()).map((a) => a.id)).toEqual([app.id]);
    expect(await isProvisioningPaused(ctx.store, app.id)).toBe(false);
    await tracked.pause(app.id);
    expect((await ctx.store.apps.get(app.id))?.provisioningEnabled).toBe(true);
    expect(await isProvisioningPaused(ctx.store, app.id)).toBe(true);
    await tracked.resume(app.id);
    expect((await ctx.store.apps.get(app.id))?.provisioningEnabled).toBe(true);
    expect(await isProvisioningPaused(ctx.store, app.id)).toBe(false);
    await tracked.pause(app.id);
    await tracked.restart(app.id, 'watermark');
    expect(await isProvisioningPaused(ctx.store, app.id)).toBe(false);
    await tracked.pause(app.id);
    await tracked.stop(app.id);
    expect((await ctx.store.apps.get(app.id))?.provisioningEnabled).toBe(false);
    expect(await isProvisioningPaused(ctx.store, app.id)).toBe(false);
    expect(calls.map((c) => c.method)).toEqual(['start', 'pause', 'resume', 'pause', 'restart', 'pause', 'stop']);
  });
});

// /api/v1/apps/{id}/provisioning — control of an app's provisioning job (DESIGN.md §2, §5).
// Each POST records an intent with the job workflow (a signal) and answers 202: the job acts on
// it from its main loop. GET returns the job's status query.
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError, errorResponses } from '../errors.ts';
import { jobWorkflowId, type ProvisioningControl } from '../provisioning-control.ts';
import { createRouter } from '../router.ts';

/** The little the provisioning routes need to know about apps (the store, once wired). */
export interface AppLookup {
  findApp(appId: string): Promise<{ id: string; name: string } | null>;
}

export const appIdParamsSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._~-]+$/, 'App ids contain only letters, digits, ".", "_", "~" and "-"')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'app_3f2c9a' }),
});

const acceptedSchema = z
  .object({
    appId: z.string(),
    workflowId: z.string().openapi({ example: 'provisioning:app_3f2c9a' }),
    action: z.string().openapi({ example: 'pause' }),
  })
  .openapi('ProvisioningAccepted');

const countsSchema = z.object({
  created: z.number().int(),
  updated: z.number().int(),
  disabled: z.number().int(),
  deleted: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  escrowed: z.number().int(),
  stagedDeletes: z.number().int(),
});

const jobStatusSchema = z
  .looseObject({
    appId: z.string(),
    appName: z.string(),
    state: z.enum(['initial', 'steady', 'paused', 'quarantined', 'disabled']),
    cycle: z
      .object({
        kind: z.enum(['initial', 'incremental']),
        number: z.number().int(),
        processed: z.number().int(),
        total: z.number().int(),
        percent: z.number(),
        etaSeconds: z.number().nullable(),
      })
      .nullable(),
    lastCycle: z
      .object({
        number: z.number().int(),
        kind: z.enum(['initial', 'incremental']),
        status: z.enum(['succeeded', 'failed', 'stopped']),
        startedAt: z.string(),
        endedAt: z.string(),
        counts: countsSchema,
        failure: z.object({ code: z.string(), message: z.string() }).nullable(),
      })
      .nullable(),
    nextCycleAt: z.string().nullable(),
    backoffLevel: z.number().int(),
    quarantine: z.object({ reason: z.string(), since: z.string() }).nullable(),
    pendingDeletions: z.number().int(),
  })
  .openapi('JobStatus');

const provisioningSchema = z
  .object({
    appId: z.string(),
    workflowId: z.string(),
    running: z.boolean().openapi({ description: 'Whether the job workflow is running' }),
    status: jobStatusSchema.nullable().openapi({ description: "The job's status query; null when not running" }),
  })
  .openapi('Provisioning');

const restartBodySchema = z
  .object({
    reset: z
      .enum(['watermark', 'full'])
      .default('watermark')
      .openapi({ description: '`watermark`: keep links; `full`: forget links too, re-match everything' }),
  })
  .openapi('RestartRequest');

const quarantineBodySchema = z
  .object({ reason: z.string().trim().min(1).max(500).openapi({ example: 'Target migration in progress' }) })
  .openapi('QuarantineRequest');

type SimpleAction = 'start' | 'pause' | 'resume' | 'run' | 'release' | 'approve-deletions' | 'reject-deletions';

const SIMPLE_ACTIONS: { action: SimpleAction; summary: string; description: string }[] = [
  {
    action: 'start',
    summary: 'Start provisioning',
    description:
      'Starts the job if it is not running (its first cycle is initial); un-pauses a paused job. Idempotent.',
  },
  {
    action: 'pause',
    summary: 'Pause provisioning',
    description: 'No cycle starts until resume; a running cycle finishes.',
  },
  { action: 'resume', summary: 'Resume provisioning', description: 'Undoes pause; the next cycle runs on schedule.' },
  {
    action: 'run',
    summary: 'Run a cycle now',
    description: 'Starts an incremental cycle now instead of waiting for the timer.',
  },
  {
    action: 'release',
    summary: 'Release from quarantine',
    description: 'Leaves quarantine and resets the backoff; the next cycle runs now.',
  },
  {
    action: 'approve-deletions',
    summary: 'Approve staged deletions',
    description: 'Exports the disables/deletes held as StagedDelete after the deletion threshold was exceeded.',
  },
  {
    action: 'reject-deletions',
    summary: 'Reject staged deletions',
    description: 'Drops the staged disables/deletes and releases the job.',
  },
];

const actionRoute = (action: string, summary: string, description: string) => ({
  method: 'post' as const,
  path: `/apps/{id}/provisioning/${action}`,
  tags: ['provisioning'],
  summary,
  description,
  responses: {
    202: { description: 'Accepted by the job', content: { 'application/json': { schema: acceptedSchema } } },
    ...errorResponses(400, 401, 404, 409, 429, 503),
  },
});

export interface ProvisioningRouterDeps {
  provisioning: ProvisioningControl;
  apps?: AppLookup;
}

export function provisioningRouter({ provisioning, apps }: ProvisioningRouterDeps) {
  const router = createRouter();

  /** The app, when a lookup is wired; 404 for an unknown id. */
  const appOf = async (appId: string) => {
    if (!apps) return null;
    const app = await apps.findApp(appId);
    if (!app) throw new ApiError('not_found', `App ${appId} not found`);
    return app;
  };

  const simple: Record<SimpleAction, (appId: string, appName?: string) => Promise<void>> = {
    start: (appId, appName) => provisioning.start(appId, { appName }),
    pause: (appId) => provisioning.pause(appId),
    resume: (appId) => provisioning.resume(appId),
    run: (appId) => provisioning.runNow(appId),
    release: (appId) => provisioning.release(appId),
    'approve-deletions': (appId) => provisioning.approveDeletions(appId),
    'reject-deletions': (appId) => provisioning.rejectDeletions(appId),
  };

  const accepted = (appId: string, action: string) => ({ appId, workflowId: jobWorkflowId(appId), action });

  for (const { action, summary, description } of SIMPLE_ACTIONS) {
    const route = createRoute({ ...actionRoute(action, summary, description), request: { params: appIdParamsSchema } });
    router.openapi(route, async (c) => {
      const { id } = c.req.valid('param');
      const app = await appOf(id);
      await simple[action](id, app?.name);
      return c.json(accepted(id, action), 202);
    });
  }

  const restart = createRoute({
    ...actionRoute(
      'restart',
      'Restart provisioning',
      'Clears the watermark, escrows and quarantine (and links with `reset: "full"`) and runs an initial cycle.',
    ),
    request: {
      params: appIdParamsSchema,
      body: { required: false, content: { 'application/json': { schema: restartBodySchema } } },
    },
  });
  router.openapi(restart, async (c) => {
    const { id } = c.req.valid('param');
    // Without a body the validator is skipped and the schema default not applied.
    const reset = c.req.valid('json').reset ?? 'watermark';
    await appOf(id);
    await provisioning.restart(id, reset);
    return c.json(accepted(id, 'restart'), 202);
  });

  const quarantine = createRoute({
    ...actionRoute(
      'quarantine',
      'Quarantine the job',
      'Puts the job in quarantine by hand: cycles slow to once a day.',
    ),
    request: {
      params: appIdParamsSchema,
      body: { required: true, content: { 'application/json': { schema: quarantineBodySchema } } },
    },
  });
  router.openapi(quarantine, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    await appOf(id);
    await provisioning.quarantine(id, reason);
    return c.json(accepted(id, 'quarantine'), 202);
  });

  const status = createRoute({
    method: 'get',
    path: '/apps/{id}/provisioning',
    tags: ['provisioning'],
    summary: "The provisioning job's status",
    description:
      'State, current cycle progress, last cycle counts, next cycle time, backoff, quarantine and pending deletions.',
    request: { params: appIdParamsSchema },
    responses: {
      200: { description: 'Status', content: { 'application/json': { schema: provisioningSchema } } },
      ...errorResponses(400, 401, 404, 429, 503),
    },
  });
  router.openapi(status, async (c) => {
    const { id } = c.req.valid('param');
    await appOf(id);
    const jobStatus = await provisioning.status(id);
    return c.json({ appId: id, workflowId: jobWorkflowId(id), running: jobStatus !== null, status: jobStatus }, 200);
  });

  return router;
}

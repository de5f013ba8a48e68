// /api/v1/apps/{id}/provisioning — control of an app's provisioning job.
// Each POST first reads the job's state: an action the job would not act on in that state is
// refused with a 409 naming what to do (provisioning-actions.ts); otherwise it records the intent
// with the job workflow (a signal) and answers 202: the job acts on it from its main loop. GET
// returns the job's status query, with the running cycle's progress read from the store.
import { createRoute, z } from '@hono/zod-openapi';
import { withCycleProgress, type CycleProgressSource } from '../cycle-progress.ts';
import { ApiError, errorResponses, errorSchema } from '../errors.ts';
import { ACTION_CONFLICTS, refusalOf, type ProvisioningAction } from '../provisioning-actions.ts';
import type { ProvisioningControl } from '../provisioning-control.ts';
import { jobWorkflowId } from '../../workflows/messages.ts';
import { createRouter } from '../router.ts';
import { temporalUiWorkflowUrl, type TemporalUi } from '../temporal-ui.ts';
import { TIMED_OUT, withTimeout } from '../timeout.ts';

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
    quarantine: z
      .object({
        reason: z.string(),
        since: z.string(),
        message: z
          .string()
          .optional()
          .openapi({ description: 'The reason given with POST …/provisioning/quarantine (reason `Manual`)' }),
      })
      .nullable(),
    pendingDeletions: z.number().int(),
  })
  .openapi('JobStatus');

const provisioningSchema = z
  .object({
    appId: z.string(),
    workflowId: z.string(),
    running: z.boolean().openapi({ description: 'Whether the job workflow is running' }),
    status: jobStatusSchema.nullable().openapi({
      description:
        "The job's status query, with the running cycle's progress from the database (written after every batch); null when not running",
    }),
    temporalUiUrl: z.string().nullable().openapi({
      description:
        "The job's page in the Temporal Web UI (its latest run: state, search attributes, memo, cycle children); null when Ferry does not know the UI (set TEMPORAL_UI_URL)",
      example: 'http://127.0.0.1:8233/namespaces/default/workflows/provisioning%3Aapp_3f2c9a',
    }),
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
      'Starts the job if it is not running (its first cycle is initial); un-pauses a paused job; a running job is left as it is (idempotent).',
  },
  {
    action: 'pause',
    summary: 'Pause provisioning',
    description:
      'No cycle starts until resume; a running cycle stops after the batch in flight. Pausing a paused job changes nothing.',
  },
  {
    action: 'resume',
    summary: 'Resume provisioning',
    description:
      'Undoes pause; the next cycle runs on schedule (at once when overdue). A job not paused is left as it is.',
  },
  {
    action: 'run',
    summary: 'Run a cycle now',
    description:
      'Starts a cycle now instead of waiting for the timer (right after the running one, if a cycle is running; in quarantine too).',
  },
  {
    action: 'release',
    summary: 'Release from quarantine',
    description: 'Leaves quarantine (or disabled) and resets the backoff; a cycle runs at once.',
  },
  {
    action: 'approve-deletions',
    summary: 'Approve staged deletions',
    description:
      'Exports the disables/deletes held as StagedDelete after the deletion threshold was exceeded: a cycle runs at once.',
  },
  {
    action: 'reject-deletions',
    summary: 'Reject staged deletions',
    description: 'Drops the staged disables/deletes and releases the job.',
  },
];

const actionRoute = (action: ProvisioningAction, summary: string, description: string) => ({
  method: 'post' as const,
  path: `/apps/{id}/provisioning/${action}`,
  tags: ['provisioning'],
  summary,
  description,
  responses: {
    202: { description: 'Accepted by the job', content: { 'application/json': { schema: acceptedSchema } } },
    ...errorResponses(400, 401, 404, 429, 503),
    409: {
      description: `The job would not act on it in its state: ${ACTION_CONFLICTS[action]}`,
      content: { 'application/json': { schema: errorSchema } },
    },
  },
});

export interface ProvisioningRouterDeps {
  provisioning: ProvisioningControl;
  apps?: AppLookup;
  /** The running cycle's progress (the store's cycles table); without it, progress shows as 0. */
  progress?: CycleProgressSource;
  /** The Temporal Web UI, when known: GET links to the job's page there. */
  temporalUi?: TemporalUi | null;
  /** How long an action or a status read waits for the job's status query before answering 503 (ms, default 5000). */
  statusTimeoutMs?: number;
}

export function provisioningRouter({
  provisioning,
  apps,
  progress,
  temporalUi = null,
  statusTimeoutMs = 5000,
}: ProvisioningRouterDeps) {
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

  /**
   * The job's status, waited for at most `statusTimeoutMs`: a running job answers its query only
   * through a worker, and none may be running (or the query may be lost), so nothing here waits on it
   * unbounded. A 503 names the app and what was not done.
   */
  const jobStatus = async (appId: string, consequence: string) => {
    const query = provisioning.status(appId);
    // After the timeout nobody awaits it; its late failure must not become an unhandled rejection.
    query.catch(() => undefined);
    const status = await withTimeout(query, statusTimeoutMs);
    if (status === TIMED_OUT) {
      throw new ApiError(
        'unavailable',
        `The provisioning job of app ${appId} did not answer within ${statusTimeoutMs} ms (is a worker running?); ${consequence}`,
      );
    }
    return status;
  };

  /** Refuses (409) an action the job would not act on in its current state. */
  const checkActs = async (action: ProvisioningAction, appId: string): Promise<void> => {
    // Nothing is sent when the job does not answer, so nothing is accepted that might then be dropped.
    const status = await jobStatus(appId, 'nothing was sent, retry later');
    const refusal = refusalOf(action, appId, status);
    if (refusal) throw new ApiError(refusal.code, refusal.message);
  };

  for (const { action, summary, description } of SIMPLE_ACTIONS) {
    const route = createRoute({ ...actionRoute(action, summary, description), request: { params: appIdParamsSchema } });
    router.openapi(route, async (c) => {
      const { id } = c.req.valid('param');
      const app = await appOf(id);
      await checkActs(action, id);
      await simple[action](id, app?.name);
      return c.json(accepted(id, action), 202);
    });
  }

  const restart = createRoute({
    ...actionRoute(
      'restart',
      'Restart provisioning',
      'Clears the watermark, escrows and quarantine (and links with `reset: "full"`) and runs an initial cycle, in every state: it also un-pauses a paused job and re-enables a disabled one.',
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
    await checkActs('restart', id);
    await provisioning.restart(id, reset);
    return c.json(accepted(id, 'restart'), 202);
  });

  const quarantine = createRoute({
    ...actionRoute(
      'quarantine',
      'Quarantine the job',
      'Puts the job in quarantine by hand (reason `Manual`, your words as the message): cycles slow to once a day until release.',
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
    await checkActs('quarantine', id);
    await provisioning.quarantine(id, reason);
    return c.json(accepted(id, 'quarantine'), 202);
  });

  const status = createRoute({
    method: 'get',
    path: '/apps/{id}/provisioning',
    tags: ['provisioning'],
    summary: "The provisioning job's status",
    description:
      'State, current cycle progress, last cycle counts, next cycle time, backoff, quarantine and pending deletions. 503 when the job does not answer its status query within the status timeout (5 s by default; no worker running, or Temporal unavailable).',
    request: { params: appIdParamsSchema },
    responses: {
      200: { description: 'Status', content: { 'application/json': { schema: provisioningSchema } } },
      ...errorResponses(400, 401, 404, 429, 503),
    },
  });
  router.openapi(status, async (c) => {
    const { id } = c.req.valid('param');
    await appOf(id);
    const status = await jobStatus(id, 'retry later');
    const workflowId = jobWorkflowId(id);
    return c.json(
      {
        appId: id,
        workflowId,
        running: status !== null,
        status: status === null ? null : await withCycleProgress(id, status, progress),
        temporalUiUrl: temporalUi ? temporalUiWorkflowUrl(temporalUi, workflowId) : null,
      },
      200,
    );
  });

  return router;
}

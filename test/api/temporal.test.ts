// The adapter's contract with the job workflow: ids, type, task queue, signal names and payloads,
// and how Temporal's answers become API errors. A recording stand-in for WorkflowClient plays
// the server (the API tests do not start a Temporal service).
import { WorkflowUpdateFailedError, type WorkflowClient } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.ts';
import { createTemporalProvisioningControl } from '../../api/temporal.ts';

interface Sent {
  call: string;
  workflowId?: string;
  [key: string]: unknown;
}

/** Like the SDK, the stand-in takes a signal or query by name or by its definition; it records the wire name. */
type NameOrDefinition = string | { name: string };
const wireName = (nameOrDefinition: NameOrDefinition): string =>
  typeof nameOrDefinition === 'string' ? nameOrDefinition : nameOrDefinition.name;

function fakeClient(
  options: {
    running?: Set<string>;
    results?: Map<string, unknown>;
    /** What executeUpdate does: answer, throw, or never settle (undefined). */
    update?: () => Promise<unknown>;
  } = {},
) {
  const sent: Sent[] = [];
  const running = options.running ?? new Set<string>();
  const results = options.results ?? new Map<string, unknown>();
  const notFound = (id: string) => new WorkflowNotFoundError(`workflow not found: ${id}`, id, undefined);
  const client = {
    connection: {
      // Like the SDK: calls inside fail with a deadline error once the deadline passes.
      async withDeadline<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new Error('Workflow update call timeout or cancelled');
            error.name = 'WorkflowUpdateRPCTimeoutOrCancelledError';
            reject(error);
          }, deadline - Date.now());
        });
        try {
          return await Promise.race([fn(), expired]);
        } finally {
          clearTimeout(timer);
        }
      },
    },
    async start(type: string, opts: Record<string, unknown>) {
      sent.push({ call: 'start', type, ...opts });
      running.add(opts.workflowId as string);
    },
    async signalWithStart(type: string, opts: Record<string, unknown>) {
      sent.push({ call: 'signalWithStart', type, ...opts, signal: wireName(opts.signal as NameOrDefinition) });
      running.add(opts.workflowId as string);
    },
    getHandle(workflowId: string) {
      return {
        async signal(signal: NameOrDefinition, ...args: unknown[]) {
          if (!running.has(workflowId)) throw notFound(workflowId);
          sent.push({ call: 'signal', workflowId, name: wireName(signal), args });
        },
        async describe() {
          if (!running.has(workflowId) && !results.has(workflowId)) throw notFound(workflowId);
          return { status: { name: running.has(workflowId) ? 'RUNNING' : 'COMPLETED' } };
        },
        async query(query: NameOrDefinition) {
          sent.push({ call: 'query', workflowId, name: wireName(query) });
          return { state: 'steady' };
        },
        async result() {
          if (!results.has(workflowId)) throw notFound(workflowId);
          return results.get(workflowId);
        },
        async executeUpdate(update: NameOrDefinition, opts: { args: unknown[]; updateId: string }) {
          if (!running.has(workflowId)) throw notFound(workflowId);
          sent.push({ call: 'executeUpdate', workflowId, name: wireName(update), ...opts });
          return options.update ? options.update() : new Promise(() => undefined);
        },
      };
    },
  };
  // Only the members above are used by the adapter.
  return { client: client as unknown as WorkflowClient, sent, running };
}

describe('Temporal provisioning control', () => {
  it('starts the job provisioning:<appId> of type provisioningJobWorkflow on task queue ferry, with resume', async () => {
    const { client, sent } = fakeClient();
    const control = createTemporalProvisioningControl({ client });
    await control.start('a1', { appName: 'GroupTalk' });
    expect(sent).toEqual([
      {
        call: 'signalWithStart',
        type: 'provisioningJobWorkflow',
        workflowId: 'provisioning:a1',
        taskQueue: 'ferry',
        args: [{ appId: 'a1', appName: 'GroupTalk' }],
        memo: { appName: 'GroupTalk' },
        signal: 'resume',
        signalArgs: [],
      },
    ]);
  });

  it('ensures a job without touching a running one (conflict policy USE_EXISTING)', async () => {
    const { client, sent } = fakeClient();
    await createTemporalProvisioningControl({ client, taskQueue: 'other' }).ensure('a1');
    expect(sent).toEqual([
      {
        call: 'start',
        type: 'provisioningJobWorkflow',
        workflowId: 'provisioning:a1',
        taskQueue: 'other',
        args: [{ appId: 'a1' }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      },
    ]);
  });

  it('sends each control as the signal of that name, with its payload', async () => {
    const { client, sent } = fakeClient({ running: new Set(['provisioning:a1']) });
    const control = createTemporalProvisioningControl({ client });
    await control.pause('a1');
    await control.resume('a1');
    await control.runNow('a1');
    await control.restart('a1', 'full');
    await control.configChanged('a1');
    await control.quarantine('a1', 'manual');
    await control.release('a1');
    await control.approveDeletions('a1');
    await control.rejectDeletions('a1');
    expect(sent.map((s) => [s.workflowId, s.name, s.args])).toEqual([
      ['provisioning:a1', 'pause', []],
      ['provisioning:a1', 'resume', []],
      ['provisioning:a1', 'runNow', []],
      ['provisioning:a1', 'restart', [{ reset: 'full' }]],
      ['provisioning:a1', 'configChanged', []],
      ['provisioning:a1', 'quarantine', [{ reason: 'manual' }]],
      ['provisioning:a1', 'release', []],
      ['provisioning:a1', 'approveDeletions', []],
      ['provisioning:a1', 'rejectDeletions', []],
    ]);
  });

  it('turns a signal to a job that is not running into a 409 conflict', async () => {
    const { client } = fakeClient();
    const error = await createTemporalProvisioningControl({ client })
      .pause('a1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(409);
  });

  it('turns an unreachable Temporal into 503 unavailable', async () => {
    const { client } = fakeClient();
    const broken = Object.assign(Object.create(client), {
      getHandle: () => ({
        signal: async () => {
          const e = new Error('14 UNAVAILABLE: No connection established');
          e.name = 'ServiceError';
          throw e;
        },
      }),
    }) as WorkflowClient;
    const error = await createTemporalProvisioningControl({ client: broken })
      .runNow('a1')
      .catch((e: unknown) => e);
    expect((error as ApiError).code).toBe('unavailable');
  });

  it('queries status of a running job, and reports null for none', async () => {
    const { client, sent } = fakeClient({ running: new Set(['provisioning:a1']) });
    const control = createTemporalProvisioningControl({ client });
    expect(await control.status('a1')).toEqual({ state: 'steady' });
    expect(sent).toEqual([{ call: 'query', workflowId: 'provisioning:a1', name: 'status' }]);
    expect(await control.status('a2')).toBeNull();
  });

  it('sends the Update onDemand to provisioning:<appId> with the request id as update id, and returns its report', async () => {
    const report = { requestId: 'r1', action: 'Create', status: 'Success' };
    const { client, sent } = fakeClient({ running: new Set(['provisioning:a1']), update: async () => report });
    const control = createTemporalProvisioningControl({ client });
    const got = await control.provisionOnDemand('a1', { requestId: 'r1', objectType: 'user', objectId: 'u1' });
    expect(got).toEqual(report);
    expect(sent).toEqual([
      {
        call: 'executeUpdate',
        workflowId: 'provisioning:a1',
        name: 'onDemand',
        updateId: 'r1',
        args: [{ requestId: 'r1', objectType: 'user', objectId: 'u1' }],
      },
    ]);
  });

  it('a request id that ran in an earlier run of the job answers with its child provisioning:<appId>:ondemand:<requestId>', async () => {
    const report = { requestId: 'r1', action: 'Create', status: 'Success' };
    const ranBefore = ApplicationFailure.create({ type: 'OnDemandAlreadyStarted', message: 'already ran' });
    const { client } = fakeClient({
      running: new Set(['provisioning:a1']),
      results: new Map([['provisioning:a1:ondemand:r1', report]]),
      update: async () => {
        throw new WorkflowUpdateFailedError('Workflow Update failed', ranBefore);
      },
    });
    const control = createTemporalProvisioningControl({ client });
    expect(await control.provisionOnDemand('a1', { requestId: 'r1', objectType: 'user', objectId: 'u1' })).toEqual(
      report,
    );
  });

  it('turns each on-demand failure type into its API error (never a bare 500)', async () => {
    const cases: Array<[string, string, number]> = [
      ['ObjectBusy', 'object_busy', 409],
      ['TooManyMembers', 'too_many_members', 422],
      ['OnDemandInvalid', 'on_demand_failed', 422],
      ['ConfigurationError', 'on_demand_failed', 422],
      ['PermanentError', 'on_demand_failed', 422],
      ['TransientError', 'unavailable', 503],
      ['JobEnding', 'job_not_running', 409],
      ['AcceptedUpdateCompletedWorkflow', 'job_not_running', 409],
    ];
    for (const [type, code, status] of cases) {
      const { client } = fakeClient({
        running: new Set(['provisioning:a1']),
        update: async () => {
          throw new WorkflowUpdateFailedError(
            'Workflow Update failed',
            ApplicationFailure.create({ type, message: 'why' }),
          );
        },
      });
      const error = await createTemporalProvisioningControl({ client })
        .provisionOnDemand('a1', { requestId: 'r', objectType: 'user', objectId: 'u1' })
        .catch((e: unknown) => e);
      expect([type, (error as ApiError).code, (error as ApiError).status]).toEqual([type, code, status]);
    }
    const { client } = fakeClient();
    const idle = await createTemporalProvisioningControl({ client })
      .provisionOnDemand('a1', { requestId: 'r', objectType: 'user', objectId: 'u1' })
      .catch((e: unknown) => e);
    expect((idle as ApiError).code).toBe('job_not_running');
  });

  it('gives up on an on-demand report that never comes with 504 timeout', async () => {
    const { client } = fakeClient({ running: new Set(['provisioning:a1']) });
    const control = createTemporalProvisioningControl({ client });
    const error = await control
      .provisionOnDemand('a1', { requestId: 'r2', objectType: 'group', objectId: 'g1' }, { timeoutMs: 30 })
      .catch((e: unknown) => e);
    expect((error as ApiError).code).toBe('timeout');
    expect((error as ApiError).status).toBe(504);
  });
});

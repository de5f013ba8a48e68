import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import {
  QueryNotRegisteredError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proceedSignal, stateQuery } from '../fixtures/temporal-workflows/index.ts';
import type { Msg } from '../../dev/temporal-service/proto.ts';
import { rawClient, type RawClient } from './raw-client.ts';
import { startWorld, type TestWorld } from './worker.ts';
import { until } from '../support/net.ts';
import { temporalBackends } from '../support/temporal-backends.ts';

describe.each(temporalBackends)('on the $name Temporal server', (backend) => {
  let world: TestWorld;
  let raw: RawClient;

  beforeAll(async () => {
    world = await startWorld({ timeSkipping: true, backend });
    raw = rawClient(world.env.address);
  });
  afterAll(async () => {
    raw?.close();
    await world?.stop();
  });

  const start = (workflowType: string, options: Record<string, unknown> = {}) =>
    world.env.client.workflow.start(workflowType, {
      taskQueue: world.taskQueue,
      workflowId: world.id(workflowType),
      ...options,
    });

  describe('connect', () => {
    it('answers GetSystemInfo and describes the default namespace', async () => {
      const info = await raw.call('GetSystemInfo', {});
      expect(info.capabilities.sdkMetadata).toBe(true);
      const namespace = await raw.call('DescribeNamespace', { namespace: 'default' });
      expect(namespace.namespaceInfo).toMatchObject({ name: 'default', state: 'NAMESPACE_STATE_REGISTERED' });
      await expect(raw.call('DescribeNamespace', { namespace: 'elsewhere' })).rejects.toMatchObject({
        code: status.NOT_FOUND,
      });
    });
  });

  describe('start', () => {
    it('is idempotent for the same request id', async () => {
      const request = {
        namespace: 'default',
        workflowId: world.id('idempotent'),
        workflowType: { name: 'waitForeverWorkflow' },
        taskQueue: { name: world.taskQueue },
        requestId: randomUUID(),
      };
      const first = await raw.call('StartWorkflowExecution', request);
      const second = await raw.call('StartWorkflowExecution', request);
      expect(second.runId).toBe(first.runId);
      await world.env.client.workflow.getHandle(request.workflowId).terminate();
    });

    it('rejects a second start of a running workflow id with WorkflowExecutionAlreadyStartedError', async () => {
      const handle = await start('waitForeverWorkflow');
      await expect(start('waitForeverWorkflow', { workflowId: handle.workflowId })).rejects.toBeInstanceOf(
        WorkflowExecutionAlreadyStartedError,
      );
      await handle.terminate();
    });

    it('honours id conflict policies: use existing, terminate existing', async () => {
      const first = await start('waitForeverWorkflow');
      const reused = await start('waitForeverWorkflow', {
        workflowId: first.workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      expect(reused.firstExecutionRunId).toBe(first.firstExecutionRunId);
      const replaced = await start('waitForeverWorkflow', {
        workflowId: first.workflowId,
        workflowIdConflictPolicy: 'TERMINATE_EXISTING',
      });
      expect(replaced.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
      expect(
        (await world.env.client.workflow.getHandle(first.workflowId, first.firstExecutionRunId).describe()).status.name,
      ).toBe('TERMINATED');
      await replaced.terminate();
    });

    it('honours id reuse policies for closed workflows', async () => {
      const completed = await start('childWorkflow', { args: ['x'] });
      await completed.result();
      await expect(
        start('childWorkflow', {
          args: ['x'],
          workflowId: completed.workflowId,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      await expect(
        start('childWorkflow', {
          args: ['x'],
          workflowId: completed.workflowId,
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        }),
      ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      const again = await start('childWorkflow', { args: ['y'], workflowId: completed.workflowId });
      expect(await again.result()).toBe('child:y');
    });

    it('stores memo and search attributes given at start', async () => {
      const handle = await start('waitForeverWorkflow', {
        memo: { team: 'identity' },
        searchAttributes: { FerryTag: ['started'] },
      });
      const description = await handle.describe();
      expect(await description.memo).toEqual({ team: 'identity' });
      expect(description.searchAttributes.FerryTag).toEqual(['started']);
      await handle.terminate();
    });

    it('signal-with-start starts a workflow and delivers the signal, or only signals a running one', async () => {
      const workflowId = world.id('swS');
      const first = await world.env.client.workflow.signalWithStart('signalReceiverWorkflow', {
        taskQueue: world.taskQueue,
        workflowId,
        signal: proceedSignal,
        signalArgs: ['first'],
      });
      expect(await first.result()).toBe('first');
      const waiting = await start('waitForeverWorkflow');
      const again = await world.env.client.workflow.signalWithStart('waitForeverWorkflow', {
        taskQueue: world.taskQueue,
        workflowId: waiting.workflowId,
        signal: proceedSignal,
        signalArgs: ['ignored'],
      });
      expect(again.signaledRunId).toBe(waiting.firstExecutionRunId);
      await waiting.terminate();
    });
  });

  describe('signals, queries, describe, terminate', () => {
    it('answers queries both as a query task and attached to a workflow task', async () => {
      const handle = await start('signalReceiverWorkflow');
      // Idle workflow: the query goes out as a query task of its own.
      await expect.poll(() => handle.query(stateQuery), { timeout: 10_000 }).toBe('none');
      // Signal and query together: the query rides along with the task that handles the signal.
      const [, state] = await Promise.all([handle.signal(proceedSignal, 'hi'), handle.query(stateQuery)]);
      expect(['none', 'hi']).toContain(state);
      expect(await handle.result()).toBe('hi');
      // A closed workflow can still be queried.
      expect(await handle.query(stateQuery)).toBe('hi');
    });

    it('rejects an unknown query with QueryNotRegisteredError', async () => {
      const handle = await start('waitForeverWorkflow');
      await expect(handle.query('no-such-query')).rejects.toBeInstanceOf(QueryNotRegisteredError);
      await handle.terminate();
    });

    it('rejects queries on closed workflows when asked to', async () => {
      const handle = await start('childWorkflow', { args: ['q'] });
      await handle.result();
      const response = await raw.call('QueryWorkflow', {
        namespace: 'default',
        execution: { workflowId: handle.workflowId },
        query: { queryType: 'state' },
        queryRejectCondition: 'QUERY_REJECT_CONDITION_NOT_OPEN',
      });
      expect(response.queryRejected.status).toBe('WORKFLOW_EXECUTION_STATUS_COMPLETED');
    });

    it('describes status, pending activities and pending children', async () => {
      const activityParent = await start('runActivity', {
        args: ['heartbeatOnceThenHang', ['d'], { startToCloseTimeout: '1 minute' }],
      });
      await expect
        .poll(async () => (await activityParent.describe()).raw.pendingActivities?.[0]?.activityType?.name)
        .toBe('heartbeatOnceThenHang');
      const childParent = await start('childOutcomeWorkflow', { args: ['terminate'] });
      await expect
        .poll(async () => (await childParent.describe()).raw.pendingChildren?.[0]?.workflowId)
        .toBe(`${childParent.workflowId}-child`);
      expect((await childParent.describe()).status.name).toBe('RUNNING');
      await activityParent.terminate();
      await childParent.terminate();
      expect((await childParent.describe()).status.name).toBe('TERMINATED');
    });

    it('maps unknown workflows to WorkflowNotFoundError', async () => {
      const missing = world.env.client.workflow.getHandle(`missing-${randomUUID()}`);
      await expect(missing.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      await expect(missing.signal(proceedSignal, 'x')).rejects.toBeInstanceOf(WorkflowNotFoundError);
      await expect(missing.terminate()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });
  });

  describe('history', () => {
    it('pages history and long-polls for new events', async () => {
      const handle = await start('signalReceiverWorkflow');
      await expect.poll(() => handle.query(stateQuery)).toBe('none');
      const execution = { workflowId: handle.workflowId };
      const ids = (page: Msg): number[] => page.history.events.map((e: { eventId: number }) => e.eventId);
      const page1 = await raw.call('GetWorkflowExecutionHistory', {
        namespace: 'default',
        execution,
        maximumPageSize: 2,
      });
      // A page starts where asked; the real server returns whole batches (events written together),
      // so a page may hold a few more events than its size.
      expect(ids(page1)[0]).toBe(1);
      expect(page1.nextPageToken?.length).toBeGreaterThan(0);
      const page2 = await raw.call('GetWorkflowExecutionHistory', {
        namespace: 'default',
        execution,
        waitNewEvent: true,
        nextPageToken: page1.nextPageToken,
      });
      expect(ids(page2)[0]).toBe((ids(page1).at(-1) ?? 0) + 1);
      // The last page of a running workflow, asked with waitNewEvent, carries a token that waits for
      // the next event: it arrives when the signal does.
      expect(page2.nextPageToken?.length).toBeGreaterThan(0);
      const waiting = raw.call('GetWorkflowExecutionHistory', {
        namespace: 'default',
        execution,
        waitNewEvent: true,
        nextPageToken: page2.nextPageToken,
      });
      await handle.signal(proceedSignal, 'wake');
      const woken = await waiting;
      expect(woken.history.events[0].eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
      // The close-event filter returns only the close event, following continue-as-new from the client.
      const close = await raw.call('GetWorkflowExecutionHistory', {
        namespace: 'default',
        execution,
        waitNewEvent: true,
        historyEventFilterType: 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT',
      });
      expect(close.history.events.map((e: { eventType: string }) => e.eventType)).toEqual([
        'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      ]);
    });
  });

  describe('visibility', () => {
    it('lists and counts with WorkflowType, WorkflowId STARTS_WITH, ExecutionStatus, keywords, AND/OR/()', async () => {
      const prefix = `vis-${randomUUID().slice(0, 8)}`;
      const a = await start('waitForeverWorkflow', {
        workflowId: `${prefix}-a`,
        searchAttributes: { FerryTag: ['red'] },
      });
      const b = await start('waitForeverWorkflow', {
        workflowId: `${prefix}-b`,
        searchAttributes: { FerryTag: ['blue'] },
      });
      const c = await start('childWorkflow', { workflowId: `${prefix}-c`, args: ['c'] });
      await c.result();
      const list = async (query: string): Promise<string[]> => {
        const found: string[] = [];
        for await (const info of world.env.client.workflow.list({ query })) found.push(info.workflowId);
        return found.sort();
      };
      // The real server's visibility is eventually consistent (c's completion reaches it a moment
      // after c.result()): ask again, within a bound, until the answer is the expected one.
      const ids = async (query: string, expected: string[]): Promise<string[]> => {
        let found: string[] = [];
        const want = JSON.stringify([...expected].sort());
        await until(async () => JSON.stringify((found = await list(query))) === want, `visibility: ${query}`, {
          timeoutMs: 10_000,
          pollMs: 200,
        }).catch(() => undefined);
        return found;
      };
      const all = [a, b, c].map((h) => h.workflowId).sort();
      expect(await ids(`WorkflowId STARTS_WITH '${prefix}'`, all)).toEqual(all);
      const childOnly = [c.workflowId];
      expect(await ids(`WorkflowId STARTS_WITH '${prefix}' AND WorkflowType = 'childWorkflow'`, childOnly)).toEqual(
        childOnly,
      );
      const running = [a.workflowId, b.workflowId].sort();
      expect(await ids(`WorkflowId STARTS_WITH '${prefix}' AND ExecutionStatus = 'Running'`, running)).toEqual(running);
      const redOrCompleted = [a.workflowId, c.workflowId].sort();
      expect(
        await ids(
          `WorkflowId STARTS_WITH '${prefix}' AND (FerryTag = 'red' OR ExecutionStatus = 'Completed')`,
          redOrCompleted,
        ),
      ).toEqual(redOrCompleted);
      const { count } = await world.env.client.workflow.count(
        `WorkflowId STARTS_WITH '${prefix}' AND FerryTag = 'blue'`,
      );
      expect(count).toBe(1);
      await expect(list('WorkflowId ~~ 1')).rejects.toThrow();
      await a.terminate();
      await b.terminate();
    });
  });
});

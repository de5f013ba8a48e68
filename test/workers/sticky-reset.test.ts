// At start-up the worker tells Temporal to forget the sticky queues of the jobs (a dead worker's
// queue would hold their next workflow task, a status query or a signal, for the server's timeout).
import { describe, expect, it } from 'vitest';
import type { NativeConnection } from '@temporalio/worker';
import { forgetStickyJobQueues } from '../../workers/worker.ts';
import { jobWorkflowId } from '../../workflows/messages.ts';

const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code });

function fakeConnection(answers: Map<string, ((() => void) | undefined)[]>) {
  const calls: string[] = [];
  const connection = {
    workflowService: {
      async resetStickyTaskQueue(request: { execution: { workflowId: string } }) {
        const id = request.execution.workflowId;
        calls.push(id);
        answers.get(id)?.shift()?.();
        return {};
      },
    },
  } as unknown as NativeConnection;
  return { connection, calls };
}

const storeOf = (ids: string[]) => ({
  apps: { listProvisioningEnabled: async () => ids.map((id) => ({ id })) },
});

describe("forgetting the jobs' sticky queues at start-up", () => {
  it('tries a reset again when the server failed to answer, so the job is not left on the dead worker', async () => {
    const unavailable = () => {
      throw grpcError(14, '14 UNAVAILABLE: connection reset');
    };
    const { connection, calls } = fakeConnection(new Map([[jobWorkflowId('a'), [unavailable, unavailable]]]));
    const forgotten = await forgetStickyJobQueues(connection, 'default', storeOf(['a', 'b']) as never, { retryMs: 1 });
    expect(forgotten).toBe(2);
    expect(calls.filter((id) => id === jobWorkflowId('a'))).toHaveLength(3);
  });

  it('does not try again for a job that does not exist (it is started later) nor a reset not permitted', async () => {
    const notFound = () => {
      throw grpcError(5, '5 NOT_FOUND: workflow not found');
    };
    const denied = () => {
      throw grpcError(7, '7 PERMISSION_DENIED');
    };
    const { connection, calls } = fakeConnection(
      new Map([
        [jobWorkflowId('gone'), [notFound, notFound]],
        [jobWorkflowId('locked'), [denied, denied]],
      ]),
    );
    expect(
      await forgetStickyJobQueues(connection, 'default', storeOf(['gone', 'locked']) as never, { retryMs: 1 }),
    ).toBe(0);
    expect(calls).toHaveLength(2);
  });

  it('gives up after a few attempts and goes on with the other jobs', async () => {
    const down = () => {
      throw grpcError(14, '14 UNAVAILABLE');
    };
    const { connection, calls } = fakeConnection(new Map([[jobWorkflowId('a'), Array(10).fill(down)]]));
    expect(await forgetStickyJobQueues(connection, 'default', storeOf(['a', 'b']) as never, { retryMs: 1 })).toBe(1);
    expect(calls.filter((id) => id === jobWorkflowId('a'))).toHaveLength(3);
    expect(calls).toContain(jobWorkflowId('b'));
  });
});

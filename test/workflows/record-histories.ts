// Records the histories replayed by replay.test.ts. Re-record after an intended change of workflow
// behaviour (and only then):  npx tsx test/workflows/record-histories.ts
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import {
  approveDeletionsSignal,
  cycleWorkflowId,
  onDemandWorkflowId,
  pauseSignal,
  provisionOnDemandSignal,
  resumeSignal,
  runNowSignal,
} from '../../workflows/messages.ts';
import { until } from '../support/net.ts';
import { startHarness } from './harness.ts';

export const historiesDir = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));

/** Runs scenarios that cover every path of the three workflows and saves their histories as JSON. */
export async function recordHistories(): Promise<string[]> {
  const h = await startHarness();
  const runs: Record<string, { workflowId: string; runId?: string }> = {};
  try {
    const idle =
      (n: number) => (s: { lastCycle: { number: number } | null; cycle: unknown; nextCycleAt: string | null }) =>
        s.lastCycle?.number === n && s.cycle === null && s.nextCycleAt !== null;

    // A: initial cycle; then a run with on-demand, pause, resume, the timer and an incremental cycle.
    const a = await h.startJob({ users: 450 }, { batchSize: 200 });
    await h.waitForStatus(a.appId, idle(1));
    runs['job-initial'] = { workflowId: a.handle.workflowId, runId: a.handle.firstExecutionRunId };
    const second = (await a.handle.describe()).runId;
    await a.handle.signal(provisionOnDemandSignal, { requestId: 'r1', objectType: 'user', objectId: 'u1' });
    await h.onDemandResult(a.appId, 'r1');
    await a.handle.signal(pauseSignal);
    await h.waitForStatus(a.appId, (s) => s.state === 'paused');
    await a.handle.signal(resumeSignal);
    await h.waitForStatus(a.appId, (s) => s.state === 'steady' && s.nextCycleAt !== null);
    await h.env.skipTime(40 * 60_000);
    await h.waitForStatus(a.appId, idle(2));
    runs['job-signals'] = { workflowId: a.handle.workflowId, runId: second };
    runs['cycle-initial'] = { workflowId: cycleWorkflowId(a.appId, 1) };
    runs['cycle-incremental'] = { workflowId: cycleWorkflowId(a.appId, 2) };
    runs['on-demand'] = { workflowId: onDemandWorkflowId(a.appId, 'r1') };

    // B: 401 → quarantine and notification.
    const b = await h.startJob({ target: 'unauthorized' });
    await h.waitForStatus(b.appId, (s) => idle(1)(s) && s.state === 'quarantined');
    runs['job-quarantine'] = { workflowId: b.handle.workflowId, runId: b.handle.firstExecutionRunId };
    runs['cycle-failed'] = { workflowId: cycleWorkflowId(b.appId, 1) };

    // C: deletion threshold exceeded, then approved.
    const c = await h.startJob();
    await h.waitForStatus(c.appId, idle(1));
    c.app.deletions = 600;
    await c.handle.signal(runNowSignal);
    await h.waitForStatus(c.appId, (s) => idle(2)(s) && s.state === 'quarantined');
    const approving = (await c.handle.describe()).runId;
    await c.handle.signal(approveDeletionsSignal);
    await h.waitForStatus(c.appId, (s) => idle(3)(s) && s.state === 'steady');
    runs['job-approve-deletions'] = { workflowId: c.handle.workflowId, runId: approving };

    // D: a long cycle that continues-as-new twice; the last run starts from `resume`.
    const d = await h.startJob({ users: 10, groups: 3 }, { batchSize: 2, maxBatchesPerRun: 3 });
    await h.waitForStatus(d.appId, idle(1));
    runs['cycle-resumed'] = { workflowId: cycleWorkflowId(d.appId, 1) };

    // E: a long initial cycle stopped by pause after its batch in flight, then run again on resume.
    const e = await h.startJob({ users: 100, groups: 0 }, { batchSize: 10, paused: true });
    const gate = h.fakes.gate(e.appId, 2);
    await e.handle.signal(resumeSignal);
    await until(() => h.fakes.callsOf('processBatch', e.appId).length >= 3);
    await e.handle.signal(pauseSignal);
    await until(async () => {
      const history = await h.client.workflow.getHandle(cycleWorkflowId(e.appId, 1)).fetchHistory();
      return (history.events ?? []).some(
        (ev) => ev.workflowExecutionSignaledEventAttributes?.signalName === 'stopCycle',
      );
    });
    gate.release();
    await h.waitForStatus(e.appId, (s) => s.lastCycle?.number === 1 && s.cycle === null && s.state === 'paused');
    await e.handle.signal(resumeSignal);
    await h.waitForStatus(e.appId, idle(2));
    runs['job-stop-cycle'] = { workflowId: e.handle.workflowId, runId: e.handle.firstExecutionRunId };
    runs['cycle-stopped'] = { workflowId: cycleWorkflowId(e.appId, 1) };

    const written: string[] = [];
    for (const [name, { workflowId, runId }] of Object.entries(runs)) {
      const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const file = `${historiesDir}${name}.json`;
      await writeFile(file, `${historyToJSON(history)}\n`);
      written.push(file);
    }
    return written;
  } finally {
    await h.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await recordHistories();
  console.log(files.join('\n'));
}

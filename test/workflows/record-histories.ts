// Records histories for replay.test.ts. Committed histories are never re-recorded, only added to: only
// scenarios not on disk yet are written (add a scenario for a new behaviour), never an existing file,
// and each one written is listed in test/fixtures/histories.sha256 (history-fixtures.test.ts).
//   npx tsx test/workflows/record-histories.ts                            (on the in-repo service)
//   npx tsx test/workflows/record-histories.ts --real --prefix real-server-   (on `temporal server start-dev`)
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import {
  approveDeletionsSignal,
  cycleWorkflowId,
  onDemandWorkflowId,
  pauseSignal,
  provisionOnDemandSignal,
  quarantineSignal,
  releaseSignal,
  resumeSignal,
  runNowSignal,
} from '../../workflows/messages.ts';
import { until } from '../support/net.ts';
import { inRepoBackend, realBackend, type TemporalBackend } from '../support/temporal.ts';
import { startHarness } from './harness.ts';
import { addToManifest, historiesDir } from './history-fixtures.ts';

/**
 * Runs scenarios that cover every path of the three workflows and saves their histories as JSON, as
 * `<prefix><scenario>.json`; an existing file is never overwritten.
 */
export async function recordHistories(options: { backend?: TemporalBackend; prefix?: string } = {}): Promise<string[]> {
  const backend = options.backend ?? inRepoBackend;
  const h = await startHarness({ backend });
  const runs: Record<string, { workflowId: string; runId?: string }> = {};
  try {
    const idle =
      (n: number) => (s: { lastCycle: { number: number } | null; cycle: unknown; nextCycleAt: string | null }) =>
        s.lastCycle?.number === n && s.cycle === null && s.nextCycleAt !== null;

    // A: initial cycle; then a run with on-demand, pause, resume, the timer and an incremental cycle.
    // On the real server the timer is the app's interval of 6 s instead of 40 minutes skipped.
    const a = await h.startJob(
      { users: 450, ...(backend.skipsTime ? {} : { cycleIntervalMinutes: 0.1 }) },
      { batchSize: 200 },
    );
    await h.waitForStatus(a.appId, idle(1));
    runs['job-initial'] = { workflowId: a.handle.workflowId, runId: a.handle.firstExecutionRunId };
    const second = (await a.handle.describe()).runId;
    await a.handle.signal(provisionOnDemandSignal, { requestId: 'r1', objectType: 'user', objectId: 'u1' });
    await h.onDemandResult(a.appId, 'r1');
    await a.handle.signal(pauseSignal);
    await h.waitForStatus(a.appId, (s) => s.state === 'paused');
    await a.handle.signal(resumeSignal);
    await h.waitForStatus(a.appId, (s) => s.state === 'steady' && s.nextCycleAt !== null);
    if (backend.skipsTime) await h.env.skipTime(40 * 60_000);
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

    // F: a job re-created on a database that already holds cycles (a restart) numbers after them.
    const f = await h.startJob({ storedCycles: 6 });
    await h.waitForStatus(f.appId, idle(7));
    runs['job-restarted'] = { workflowId: f.handle.workflowId, runId: f.handle.firstExecutionRunId };

    // G: a manual quarantine, then release runs a cycle at once (patch `release-runs-cycle`).
    const g = await h.startJob();
    await h.waitForStatus(g.appId, idle(1));
    const releasing = (await g.handle.describe()).runId;
    await g.handle.signal(quarantineSignal, { reason: 'Maintenance' });
    await h.waitForStatus(g.appId, (s) => s.state === 'quarantined');
    await g.handle.signal(releaseSignal);
    await h.waitForStatus(g.appId, (s) => idle(2)(s) && s.state === 'steady');
    runs['job-release'] = { workflowId: g.handle.workflowId, runId: releasing };

    // S: state changes announced to webhook subscribers (patch `job-state-events`): pause, a quarantine
    // while paused (entered, the state stays paused), resume (now quarantined), release (a cycle).
    const st = await h.startJob();
    await h.waitForStatus(st.appId, idle(1));
    const announcing = (await st.handle.describe()).runId;
    await st.handle.signal(pauseSignal);
    await h.waitForStatus(st.appId, (s) => s.state === 'paused');
    await st.handle.signal(quarantineSignal, { reason: 'Audit' });
    await h.waitForStatus(st.appId, (s) => s.state === 'paused' && s.quarantine !== null);
    await st.handle.signal(resumeSignal);
    await h.waitForStatus(st.appId, (s) => s.state === 'quarantined');
    await st.handle.signal(releaseSignal);
    await h.waitForStatus(st.appId, (s) => idle(2)(s) && s.state === 'steady');
    runs['job-state-events'] = { workflowId: st.handle.workflowId, runId: announcing };

    // P: a pause while a long cycle runs: the cycle stops after its batch in flight (patch
    // `stop-cycle-on-interrupt`), the job pauses, and the cycle's progress never goes to the job.
    const p = await h.startJob({ users: 60, groups: 0 }, { batchSize: 10, progressIntervalMs: 0 });
    await h.waitForStatus(p.appId, idle(1));
    const pausing = (await p.handle.describe()).runId;
    const before = h.fakes.callsOf('processBatch', p.appId).length;
    const held = h.fakes.gate(p.appId, 2);
    await p.handle.signal(runNowSignal);
    await until(() => h.fakes.callsOf('processBatch', p.appId).length >= before + 3);
    await p.handle.signal(pauseSignal);
    await until(async () => {
      const history = await h.client.workflow.getHandle(cycleWorkflowId(p.appId, 2)).fetchHistory();
      return (history.events ?? []).some(
        (ev) => ev.workflowExecutionSignaledEventAttributes?.signalName === 'stopCycle',
      );
    });
    held.release();
    await h.waitForStatus(p.appId, (s) => s.lastCycle?.number === 2 && s.cycle === null && s.state === 'paused');
    runs['job-pause-during-cycle'] = { workflowId: p.handle.workflowId, runId: pausing };
    runs['cycle-progress'] = { workflowId: cycleWorkflowId(p.appId, 2) };

    const written: string[] = [];
    for (const [name, { workflowId, runId }] of Object.entries(runs)) {
      const fileName = `${options.prefix ?? ''}${name}.json`;
      const file = `${historiesDir}${fileName}`;
      if (existsSync(file)) continue;
      const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const content = `${historyToJSON(history)}\n`;
      await writeFile(file, content, { flag: 'wx' });
      await addToManifest(`histories/${fileName}`, content);
      written.push(file);
    }
    return written;
  } finally {
    await h.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { real: { type: 'boolean' }, prefix: { type: 'string' } } });
  const files = await recordHistories({ backend: values.real ? realBackend : inRepoBackend, prefix: values.prefix });
  console.log(files.join('\n'));
}

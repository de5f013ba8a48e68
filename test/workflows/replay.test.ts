// Recorded histories of the three workflows replay against the current code, so a change that is not
// deterministic (reordered activities, timers, children without `patched()`) fails here.
// A new scenario adds its history with: npx tsx test/workflows/record-histories.ts (committed ones stay);
// `--real --prefix real-server-` adds it as recorded on the real server.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { fileURLToPath } from 'node:url';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { workflowsPath } from './harness.ts';

const tracingInterceptorsPath = fileURLToPath(new URL('../../workflows/tracing-interceptors.ts', import.meta.url));
import { historiesDir, unreplayableDir } from './history-fixtures.ts';

async function recordedHistories() {
  const files = (await readdir(historiesDir)).filter((f) => f.endsWith('.json')).sort();
  const histories = await Promise.all(
    files.map(async (f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(await readFile(`${historiesDir}${f}`, 'utf8'))),
    })),
  );
  return { files, histories };
}

describe('replay', () => {
  it('replays every recorded history of the job, cycle and on-demand workflows without a determinism error', async () => {
    const { files, histories } = await recordedHistories();
    const types = new Set(
      histories.map((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name),
    );
    expect(types).toEqual(
      new Set(['provisioningJobWorkflow', 'provisioningCycleWorkflow', 'provisionOnDemandWorkflow']),
    );

    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath, replayName: 'ferry-replay' }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    // The in-repo service's set and the real server's set (real-server-*).
    expect(files.filter((f) => !f.startsWith('real-server-')).length).toBeGreaterThanOrEqual(12);
    expect(files.filter((f) => f.startsWith('real-server-')).length).toBeGreaterThanOrEqual(11);
    // Recorded from the code before 9445aa3 (stopCycle) and before issue 11 (progress in the store).
    expect(files.filter((f) => f.startsWith('before-9445aa3-')).length).toBeGreaterThanOrEqual(10);
    expect(files.filter((f) => f.startsWith('before-issue-11-')).length).toBeGreaterThanOrEqual(15);
  });

  it('a traced worker (tracing interceptors bundled in) replays them too: tracing adds no command', async () => {
    const { histories } = await recordedHistories();
    const resource = new Resource({ 'service.name': 'ferry-replay' });
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      {
        workflowsPath,
        replayName: 'ferry-replay-traced',
        interceptors: { workflowModules: [tracingInterceptorsPath] },
        sinks: { exporter: makeWorkflowExporter(new SimpleSpanProcessor(new InMemorySpanExporter()), resource) },
      },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(histories.length).toBeGreaterThan(40);
    expect(failures).toEqual([]);
  });

  it('job runs recorded before the patch job-state-events (no announcement) replay, and so does one with it', async () => {
    const activitiesOf = (history: ReturnType<typeof historyFromJSON>) =>
      (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    const patchesOf = (history: ReturnType<typeof historyFromJSON>) =>
      (history.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length;
    const load = async (file: string) => historyFromJSON(JSON.parse(await readFile(`${historiesDir}${file}`, 'utf8')));
    // Pause, resume, quarantine and release recorded without the patch: the job acted, announced nothing.
    const before = ['job-signals.json', 'job-release.json', 'real-server-job-quarantine.json'];
    const histories = await Promise.all(
      [...before, 'job-state-events.json', 'real-server-job-state-events.json'].map(async (file) => ({
        workflowId: file,
        history: await load(file),
      })),
    );
    for (const { history } of histories.slice(0, before.length)) {
      expect(activitiesOf(history)).not.toContain('announceJobState');
    }
    for (const { history: withPatch } of histories.slice(before.length)) {
      expect(activitiesOf(withPatch).filter((name) => name === 'announceJobState')).toHaveLength(4);
      expect(patchesOf(withPatch)).toBe(2); // job-state-events, release-runs-cycle
    }
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowsPath, replayName: 'ferry-replay-state-events' },
      histories,
    )) {
      failures.push(result.error ? `${result.workflowId}: ${result.error.message}` : 'replayed');
    }
    expect(failures).toEqual(histories.map(() => 'replayed'));
  });

  it('a job run from before 9445aa3 that saw a pause during a cycle cannot replay: that change shipped without patched()', async () => {
    // Before 9445aa3 the job waited for the cycle's end; since, it signals stopCycle at once. Runs of both
    // kinds hold no patch marker, so no code can tell them apart: today's code replays the later kind
    // (job-stop-cycle.json). This history stays to show what a change without patched() costs.
    const file = 'before-9445aa3-job-pause-during-cycle.json';
    const history = historyFromJSON(JSON.parse(await readFile(`${unreplayableDir}${file}`, 'utf8')));
    const errors: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath, replayName: 'ferry-replay-old' }, [
      { workflowId: file, history },
    ])) {
      errors.push(result.error ? `${result.error.name}: ${result.error.message}` : 'replayed');
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^DeterminismViolationError: .*Nondeterminism error: Signal external/);
  });
});

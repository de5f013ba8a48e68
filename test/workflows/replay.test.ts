// Recorded histories of the three workflows replay against the current code, so a change that is not
// deterministic (reordered activities, timers, children without `patched()`) fails here.
// Re-record after an intended change: npx tsx test/workflows/record-histories.ts
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { workflowsPath } from './harness.ts';
import { historiesDir } from './record-histories.ts';

describe('replay', () => {
  it('replays every recorded history of the job, cycle and on-demand workflows without a determinism error', async () => {
    const files = (await readdir(historiesDir)).filter((f) => f.endsWith('.json')).sort();
    const histories = await Promise.all(
      files.map(async (f) => ({
        workflowId: f.replace(/\.json$/, ''),
        history: historyFromJSON(JSON.parse(await readFile(`${historiesDir}${f}`, 'utf8'))),
      })),
    );
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
    expect(histories.length).toBeGreaterThanOrEqual(11);
  });
});

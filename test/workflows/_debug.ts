import { startHarness } from './harness.ts';
import { rejectDeletionsSignal, runNowSignal } from '../../workflows/messages.ts';
const h = await startHarness();
let fails = 0;
try {
  for (let i = 0; i < 15; i++) {
    const { appId, app, handle } = await h.startJob();
    await h.waitForStatus(appId, (s) => s.lastCycle?.number === 1 && s.cycle === null && s.nextCycleAt !== null);
    app.deletions = 600;
    await handle.signal(runNowSignal);
    await h.waitForStatus(
      appId,
      (s) => s.lastCycle?.number === 2 && s.cycle === null && s.state === 'quarantined' && s.nextCycleAt !== null,
    );
    await handle.signal(rejectDeletionsSignal);
    try {
      await h.waitForStatus(appId, (s) => s.state === 'steady', 'x');
    } catch (e) {
      fails++;
      const { executions } = await h.client.workflowService.listWorkflowExecutions({
        namespace: 'default',
        query: `WorkflowId = '${handle.workflowId}'`,
      });
      for (const ex of executions ?? []) {
        const hist = await h.client.workflow.getHandle(handle.workflowId, ex.execution!.runId!).fetchHistory();
        console.log('RUN', ex.execution!.runId, ex.status);
        for (const e of hist.events ?? [])
          console.log(
            ' ',
            e.eventId?.toString(),
            e.eventType,
            e.workflowExecutionSignaledEventAttributes?.signalName ??
              e.activityTaskScheduledEventAttributes?.activityType?.name ??
              '',
            e.workflowTaskFailedEventAttributes?.cause ?? '',
            e.eventTime?.seconds?.toString(),
          );
      }
      const d = await handle.describe();
      console.log(JSON.stringify(d.raw.pendingWorkflowTask ?? null), d.raw.pendingActivities?.length);
    }
    await h.stopJobs();
  }
} finally {
  console.log('fails', fails);
  await h.stopJobs();
  await h.close();
}

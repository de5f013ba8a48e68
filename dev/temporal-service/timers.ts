// Workflow timers: virtual deadlines on the service clock.
import type { Cluster } from './cluster.ts';
import type { Execution } from './execution.ts';
import { durationMs, type Msg } from './proto.ts';
import { appendEvent, deliver } from './workflow-tasks.ts';

export function startTimer(cluster: Cluster, execution: Execution, attributes: Msg, completedEventId: number): void {
  const timerId = String(attributes.timerId);
  const fireInMs = durationMs(attributes.startToFireTimeout) ?? 0;
  const startedEventId = appendEvent(cluster, execution, 'TimerStarted', {
    timerId,
    startToFireTimeout: attributes.startToFireTimeout,
    workflowTaskCompletedEventId: completedEventId,
  });
  const cancel = cluster.clock.schedule(cluster.now() + fireInMs, () => {
    if (!execution.timers.delete(timerId)) return;
    deliver(cluster, execution, [
      { type: 'TimerFired', attributes: () => ({ timerId, startedEventId }), key: `timer:${timerId}` },
    ]);
  });
  execution.timers.set(timerId, { startedEventId, cancel });
}

export function cancelTimer(
  cluster: Cluster,
  execution: Execution,
  attributes: Msg,
  completedEventId: number,
  identity: string,
): void {
  const timerId = String(attributes.timerId);
  let startedEventId = execution.timers.get(timerId)?.startedEventId;
  if (startedEventId !== undefined) {
    execution.timers.get(timerId)?.cancel();
    execution.timers.delete(timerId);
  } else {
    // It fired while the task was in flight: the workflow never saw it, so take the event back.
    const index = execution.buffered.findIndex((e) => e.key === `timer:${timerId}`);
    if (index === -1) return;
    startedEventId = execution.buffered[index].attributes().startedEventId as number;
    execution.buffered.splice(index, 1);
  }
  appendEvent(cluster, execution, 'TimerCanceled', {
    timerId,
    startedEventId,
    workflowTaskCompletedEventId: completedEventId,
    identity,
  });
}

export function cancelAllTimers(execution: Execution): void {
  for (const timer of execution.timers.values()) timer.cancel();
  execution.timers.clear();
}

// One run's event history: contiguous ids from 1, with waiters for new events and for the close.
import { eventAttributesField, eventTypeEnum, lookupType, toTimestamp, type Msg } from './proto.ts';

const HistoryEvent = lookupType('temporal.api.history.v1.HistoryEvent');

export class History {
  readonly events: Msg[] = [];
  private newEventWaiters = new Set<() => void>();
  private closeWaiters = new Set<() => void>();
  closeEvent: Msg | undefined;
  /** Encoded size of all events (what the SDK shows as `workflowInfo().historySize`). */
  sizeBytes = 0;

  get lastEventId(): number {
    return this.events.length;
  }

  /** An event as `append` would write it with id `eventId`, without writing it (speculative tasks). */
  static build(type: string, attributes: Msg, timeMs: number, eventId: number): Msg {
    return {
      eventId,
      eventTime: toTimestamp(timeMs),
      eventType: eventTypeEnum(type),
      taskId: eventId,
      [eventAttributesField(type)]: attributes,
    };
  }

  /** Encoded size of one event. */
  static sizeOf(event: Msg): number {
    return HistoryEvent.encode(HistoryEvent.fromObject(event)).finish().length;
  }

  append(type: string, attributes: Msg, timeMs: number): Msg {
    const event = History.build(type, attributes, timeMs, this.events.length + 1);
    this.events.push(event);
    this.sizeBytes += History.sizeOf(event);
    for (const wake of [...this.newEventWaiters]) wake();
    return event;
  }

  /** Events with ids in [from, to]. */
  slice(from: number, to = this.events.length): Msg[] {
    return this.events.slice(Math.max(from, 1) - 1, to);
  }

  markClosed(event: Msg): void {
    this.closeEvent = event;
    for (const wake of [...this.closeWaiters]) wake();
  }

  /** Resolves when an event after `afterEventId` exists, or when `signal` aborts. */
  waitForEvent(afterEventId: number, signal: AbortSignal): Promise<void> {
    return this.wait(this.newEventWaiters, () => this.lastEventId > afterEventId, signal);
  }

  waitForClose(signal: AbortSignal): Promise<void> {
    return this.wait(this.closeWaiters, () => this.closeEvent !== undefined, signal);
  }

  private wait(set: Set<() => void>, done: () => boolean, signal: AbortSignal): Promise<void> {
    if (done() || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        if (!done() && !signal.aborted) return;
        set.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      set.add(wake);
      signal.addEventListener('abort', wake);
    });
  }
}

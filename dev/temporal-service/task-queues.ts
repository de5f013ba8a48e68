// Task queues with long polls. A task is handed to a poll through `claim`, which runs synchronously
// at match time and returns the response (or undefined when the task went stale), so a task is never
// given to a poll that was cancelled or to state that changed in between.

interface Waiter<T> {
  identity: string;
  claim: (task: T) => unknown;
  resolve: (response: unknown) => void;
}

interface Queue<T> {
  tasks: T[];
  waiters: Waiter<T>[];
}

export class TaskQueues<T> {
  private queues = new Map<string, Queue<T>>();

  private queue(name: string): Queue<T> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = { tasks: [], waiters: [] };
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Adds a task: hands it to the oldest waiting poll that accepts it, or keeps it. */
  offer(name: string, task: T): void {
    const queue = this.queue(name);
    const waiter = queue.waiters.shift();
    if (!waiter) {
      queue.tasks.push(task);
      return;
    }
    const response = waiter.claim(task);
    // A stale task (claim refused it) is dropped; the waiter keeps waiting.
    if (response === undefined) queue.waiters.unshift(waiter);
    else waiter.resolve(response);
  }

  /**
   * Long-polls `name`: resolves with the first task `claim` accepts, or with undefined after
   * `holdMs`, when `signal` aborts, or when the worker shuts down / the service closes.
   */
  poll<R>(
    name: string,
    identity: string,
    claim: (task: T) => R | undefined,
    holdMs: number,
    signal: AbortSignal,
  ): Promise<R | undefined> {
    const queue = this.queue(name);
    while (queue.tasks.length > 0) {
      const response = claim(queue.tasks.shift() as T);
      if (response !== undefined) return Promise.resolve(response);
    }
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise<R | undefined>((resolve) => {
      const waiter: Waiter<T> = {
        identity,
        claim,
        resolve: (response) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(response as R | undefined);
        },
      };
      const onAbort = (): void => {
        const i = queue.waiters.indexOf(waiter);
        if (i !== -1) queue.waiters.splice(i, 1);
        waiter.resolve(undefined);
      };
      const timer = setTimeout(onAbort, holdMs);
      signal.addEventListener('abort', onAbort);
      queue.waiters.push(waiter);
    });
  }

  /** Ends the polls of one worker (identity), or of every worker on queue `name`. */
  release(match: { identity?: string; queue?: string }): void {
    for (const [name, queue] of this.queues) {
      const released = queue.waiters.filter(
        (w) => (match.identity !== undefined && w.identity === match.identity) || match.queue === name,
      );
      queue.waiters = queue.waiters.filter((w) => !released.includes(w));
      for (const waiter of released) waiter.resolve(undefined);
    }
  }

  /** Removes queued tasks matching `predicate` and returns them (used to move sticky tasks). */
  drain(name: string, predicate: (task: T) => boolean = () => true): T[] {
    const queue = this.queues.get(name);
    if (!queue) return [];
    const taken = queue.tasks.filter(predicate);
    queue.tasks = queue.tasks.filter((t) => !taken.includes(t));
    return taken;
  }

  close(): void {
    for (const queue of this.queues.values()) {
      for (const waiter of queue.waiters.splice(0)) waiter.resolve(undefined);
      queue.tasks = [];
    }
  }
}

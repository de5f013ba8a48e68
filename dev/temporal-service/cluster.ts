// The whole in-memory state of the service: executions, task queues, clocks. The behaviour lives in
// the modules that take a Cluster (workflow-tasks, commands, activities, lifecycle, …).
import { RealTimers, VirtualClock } from './clock.ts';
import { isOpen, type Execution } from './execution.ts';
import { DEFAULT_LIMITS, type ServiceLimits } from './limits.ts';
import type { Msg } from './proto.ts';
import { TaskQueues } from './task-queues.ts';

export type WorkflowQueueTask =
  | { kind: 'workflow-task'; execution: Execution; generation: number; sticky: boolean }
  | { kind: 'query'; execution: Execution; queryId: string; query: Msg };

export interface ActivityQueueTask {
  execution: Execution;
  scheduledEventId: number;
  attempt: number;
}

export interface ClusterOptions {
  timeSkipping: boolean;
  /** History and payload limits (default: the real server's). */
  limits?: Partial<ServiceLimits>;
  /** Where warnings go (history past its warning limits); default console.warn. */
  warn?: (line: string) => void;
}

export class Cluster {
  readonly clock = new VirtualClock();
  readonly realTimers = new RealTimers();
  readonly workflowQueues = new TaskQueues<WorkflowQueueTask>();
  readonly activityQueues = new TaskQueues<ActivityQueueTask>();
  /** Every run, by `namespace/workflowId/runId`. */
  readonly runs = new Map<string, Execution>();
  /** Runs of one workflow id, oldest first, by `namespace/workflowId`. */
  readonly chains = new Map<string, Execution[]>();
  readonly open = new Set<Execution>();
  /** Queries waiting for an answer (a pending query keeps time from being skipped). */
  readonly pendingQueries = new Map<string, { execution: Execution; resolve: (result: Msg) => void }>();
  /** Clients awaiting a run's close event (`result()`); with time skipping on, they let time jump. */
  resultWaiters = 0;
  /** TestService LockTimeSkipping count. */
  timeSkippingLocks = 0;
  /** An explicit skip (skipTime / Sleep) is stepping the clock. */
  explicitSkip = false;
  readonly options: ClusterOptions;
  readonly limits: ServiceLimits;
  readonly warn: (line: string) => void;
  /** Aborted by close(): ends every long poll at once. */
  readonly closing = new AbortController();
  private idCounter = 0;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.warn = options.warn ?? ((line) => console.warn(`[temporal-service] ${line}`));
  }

  now(): number {
    return this.clock.now();
  }

  nextId(prefix: string): string {
    return `${prefix}-${++this.idCounter}`;
  }

  addRun(execution: Execution): void {
    this.runs.set(`${execution.namespace}/${execution.workflowId}/${execution.runId}`, execution);
    const chainKey = `${execution.namespace}/${execution.workflowId}`;
    const chain = this.chains.get(chainKey) ?? [];
    chain.push(execution);
    this.chains.set(chainKey, chain);
    this.open.add(execution);
  }

  /** A run by id, or the latest run of the workflow id when `runId` is empty. */
  findRun(namespace: string, workflowId: string, runId?: string | null): Execution | undefined {
    if (runId) return this.runs.get(`${namespace}/${workflowId}/${runId}`);
    const chain = this.chains.get(`${namespace}/${workflowId}`);
    return chain?.[chain.length - 1];
  }

  findOpenRun(namespace: string, workflowId: string, runId?: string | null): Execution | undefined {
    const run = this.findRun(namespace, workflowId, runId);
    return run && isOpen(run) ? run : undefined;
  }

  close(): void {
    this.clock.close();
    this.realTimers.close();
    this.workflowQueues.close();
    this.activityQueues.close();
    this.closing.abort();
  }
}

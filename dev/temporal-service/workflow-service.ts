// Handlers of temporal.api.workflowservice.v1.WorkflowService, by method name.
import {
  cancelActivity,
  claimActivityTask,
  completeActivity,
  failActivity,
  pendingActivityInfo,
  recordHeartbeat,
} from './activities.ts';
import type { Cluster } from './cluster.ts';
import { invalidArgument, notFound, workflowNotFound } from './errors.ts';
import { isOpen, type Execution } from './execution.ts';
import { checkBlob } from './limits.ts';
import { requestCancelWorkflow, signalWorkflow, startWorkflow, terminateWorkflow } from './lifecycle.ts';
import type { Msg } from './proto.ts';
import type { AutoSkipper } from './time-skipping.ts';
import { decodePageToken, decodeToken, encodePageToken, runKey } from './tokens.ts';
import { compileQuery, executionInfo } from './visibility.ts';
import { admitUpdate, findUpdate, STAGE, stageOf, waitForStage, type UpdateState } from './updates.ts';
import {
  answerQuery,
  assertWithinHistoryLimits,
  claimWorkflowQueueTask,
  completeWorkflowTask,
  failWorkflowTask,
  releaseStickyQueue,
  routeQuery,
  scheduleTaskForUpdates,
} from './workflow-tasks.ts';

export interface CallContext {
  signal: AbortSignal;
}

export type Handler = (request: Msg, context: CallContext) => Msg | Promise<Msg>;

/** How long an empty long poll is held (workers poll with ~70 s deadlines). */
export const LONG_POLL_MS = 55_000;
/**
 * How long an update call waits for the stage it asked for before answering with the stage reached
 * (the client then asks again), as the real server's `frontend.longPollExpirationInterval`.
 */
export const UPDATE_LONG_POLL_MS = 20_000;
const NAMESPACE_ID = '3bd3a5cd-7c27-4a5e-a3b5-6f1c2d4e5f60';
export const SERVER_VERSION = '1.24.0-ferry-test-service';

function holdSignal(context: CallContext, ms = LONG_POLL_MS): AbortSignal {
  return AbortSignal.any([context.signal, AbortSignal.timeout(ms)]);
}

function findRun(cluster: Cluster, namespace: string, execution: Msg | undefined): Execution {
  const run = cluster.findRun(namespace || 'default', execution?.workflowId, execution?.runId);
  if (!run) throw workflowNotFound(execution?.workflowId, execution?.runId);
  return run;
}

function findOpenRun(cluster: Cluster, namespace: string, execution: Msg | undefined): Execution {
  const run = findRun(cluster, namespace, execution);
  if (!isOpen(run)) throw notFound('workflow execution already completed');
  return run;
}

export function workflowServiceHandlers(cluster: Cluster, autoSkipper: AutoSkipper): Record<string, Handler> {
  return {
    GetSystemInfo: () => ({
      serverVersion: SERVER_VERSION,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        supportsSchedules: false,
        encodedFailureAttributes: true,
        buildIdBasedVersioning: false,
        upsertMemo: true,
        eagerWorkflowStart: false,
        sdkMetadata: true,
        countGroupByExecutionStatus: false,
        nexus: false,
      },
    }),

    DescribeNamespace: (request) => {
      if (request.namespace && request.namespace !== 'default')
        throw notFound(`namespace ${request.namespace} not found`);
      return {
        namespaceInfo: {
          name: 'default',
          state: 'NAMESPACE_STATE_REGISTERED',
          id: NAMESPACE_ID,
          capabilities: { eagerWorkflowStart: false, syncUpdate: true, asyncUpdate: true, workerHeartbeats: false },
        },
        config: { workflowExecutionRetentionTtl: { seconds: 86_400 } },
        isGlobalNamespace: false,
      };
    },

    GetClusterInfo: () => ({
      serverVersion: SERVER_VERSION,
      clusterId: NAMESPACE_ID,
      clusterName: 'ferry-test',
      historyShardCount: 1,
      persistenceStore: 'memory',
      visibilityStore: 'memory',
    }),

    GetSearchAttributes: () => ({
      keys: {
        WorkflowType: 'INDEXED_VALUE_TYPE_KEYWORD',
        WorkflowId: 'INDEXED_VALUE_TYPE_KEYWORD',
        RunId: 'INDEXED_VALUE_TYPE_KEYWORD',
        ExecutionStatus: 'INDEXED_VALUE_TYPE_KEYWORD',
        TaskQueue: 'INDEXED_VALUE_TYPE_KEYWORD',
      },
    }),

    StartWorkflowExecution: (request) => {
      checkBlob(cluster.limits, request.input);
      const { execution, started } = startWorkflow(cluster, request);
      return { runId: execution.runId, started };
    },

    SignalWithStartWorkflowExecution: (request) => {
      checkBlob(cluster.limits, request.input);
      checkBlob(cluster.limits, request.signalInput);
      const signal = {
        signalName: request.signalName,
        input: request.signalInput,
        identity: request.identity,
        header: request.header,
      };
      const { execution, started } = startWorkflow(cluster, request, { signal });
      return { runId: execution.runId, started };
    },

    SignalWorkflowExecution: (request) => {
      checkBlob(cluster.limits, request.input);
      const run = findOpenRun(cluster, request.namespace, request.workflowExecution);
      assertWithinHistoryLimits(cluster, run);
      signalWorkflow(cluster, run, request);
      return {};
    },

    RequestCancelWorkflowExecution: (request) => {
      const run = findOpenRun(cluster, request.namespace, request.workflowExecution);
      requestCancelWorkflow(cluster, run, { cause: request.reason, identity: request.identity });
      return {};
    },

    TerminateWorkflowExecution: (request) => {
      const run = findOpenRun(cluster, request.namespace, request.workflowExecution);
      terminateWorkflow(cluster, run, request.reason, request.details, request.identity);
      return {};
    },

    DescribeWorkflowExecution: (request) => {
      const run = findRun(cluster, request.namespace, request.execution);
      return {
        executionConfig: {
          taskQueue: { name: run.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
          workflowExecutionTimeout: run.started.workflowExecutionTimeout,
          workflowRunTimeout: run.started.workflowRunTimeout,
          defaultWorkflowTaskTimeout: run.started.workflowTaskTimeout,
        },
        workflowExecutionInfo: executionInfo(run),
        pendingActivities: pendingActivityInfo(cluster, run),
        pendingChildren: [...run.children.values()].map((child) => ({
          workflowId: child.workflowId,
          runId: child.runId,
          workflowTypeName: child.workflowType,
          initiatedId: child.initiatedEventId,
          parentClosePolicy: child.parentClosePolicy,
        })),
      };
    },

    GetWorkflowExecutionHistory: async (request, context) => {
      const token = decodePageToken(request.nextPageToken);
      const run = token ? cluster.runs.get(token.run) : findRun(cluster, request.namespace, request.execution);
      if (!run) throw workflowNotFound(request.execution?.workflowId, request.execution?.runId);
      const history = run.history;
      if (request.historyEventFilterType === 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT') {
        if (!history.closeEvent && request.waitNewEvent) {
          // Somebody awaits the result: with time skipping on, time may jump meanwhile.
          cluster.resultWaiters++;
          autoSkipper.update();
          try {
            await history.waitForClose(holdSignal(context));
          } finally {
            cluster.resultWaiters--;
            autoSkipper.update();
          }
        }
        if (history.closeEvent) return { history: { events: [history.closeEvent] } };
        return { history: { events: [] }, nextPageToken: encodePageToken({ run: runKey(run), next: 0 }) };
      }
      const from = token?.next ?? 1;
      if (request.waitNewEvent && history.lastEventId < from && isOpen(run)) {
        await history.waitForEvent(from - 1, holdSignal(context));
      }
      const pageSize = Number(request.maximumPageSize) || 1000;
      const events = history.slice(from, from + pageSize - 1);
      const next = from + events.length;
      const more = next <= history.lastEventId || (request.waitNewEvent && isOpen(run));
      return {
        history: { events },
        nextPageToken: more ? encodePageToken({ run: runKey(run), next }) : undefined,
      };
    },

    PollWorkflowTaskQueue: async (request, context) => {
      const identity = String(request.identity ?? '');
      const response = await cluster.workflowQueues.poll(
        String(request.taskQueue?.name ?? ''),
        identity,
        (task) => claimWorkflowQueueTask(cluster, task, identity, cluster.nextId('poll')),
        LONG_POLL_MS,
        AbortSignal.any([context.signal, cluster.closing.signal]),
      );
      return response ?? {};
    },

    RespondWorkflowTaskCompleted: (request) => completeWorkflowTask(cluster, request),
    RespondWorkflowTaskFailed: (request) => failWorkflowTask(cluster, request),

    PollActivityTaskQueue: async (request, context) => {
      const identity = String(request.identity ?? '');
      const response = await cluster.activityQueues.poll(
        String(request.taskQueue?.name ?? ''),
        identity,
        (task) => claimActivityTask(cluster, task, identity),
        LONG_POLL_MS,
        AbortSignal.any([context.signal, cluster.closing.signal]),
      );
      return response ?? {};
    },

    RecordActivityTaskHeartbeat: (request) => recordHeartbeat(cluster, request),
    RecordActivityTaskHeartbeatById: (request) => recordHeartbeat(cluster, request, true),
    RespondActivityTaskCompleted: (request) => completeActivity(cluster, request),
    RespondActivityTaskCompletedById: (request) => completeActivity(cluster, request, true),
    RespondActivityTaskFailed: (request) => failActivity(cluster, request),
    RespondActivityTaskFailedById: (request) => failActivity(cluster, request, true),
    RespondActivityTaskCanceled: (request) => cancelActivity(cluster, request),
    RespondActivityTaskCanceledById: (request) => cancelActivity(cluster, request, true),

    UpdateWorkflowExecution: async (request, context) => {
      const updateId = String(request.request?.meta?.updateId ?? '');
      if (!updateId) throw invalidArgument('Update id is not set on request.');
      if (!request.request?.input?.name) throw invalidArgument('Update name is not set on request.');
      checkBlob(cluster.limits, request.request?.input?.args);
      const wanted = waitStage(request.waitPolicy?.lifecycleStage, STAGE.ACCEPTED);
      const soft = holdSignal(context, UPDATE_LONG_POLL_MS);
      for (;;) {
        const run = findRun(cluster, request.namespace, request.workflowExecution);
        let update = findUpdate(run, updateId);
        if (!update) {
          if (!isOpen(run)) throw notFound('workflow execution already completed');
          assertWithinHistoryLimits(cluster, run);
          update = admitUpdate(run, request.request);
          scheduleTaskForUpdates(cluster, run);
        }
        await waitForStage(update, wanted, soft);
        if (update.error) throw update.error;
        // The run continued before the workflow saw the update: ask the new run (as the server retries).
        if (update.moved) continue;
        return updateAnswer(run, update);
      }
    },

    PollWorkflowExecutionUpdate: async (request, context) => {
      const ref = request.updateRef ?? {};
      const updateId = String(ref.updateId ?? '');
      const wanted = waitStage(request.waitPolicy?.lifecycleStage, STAGE.COMPLETED);
      const soft = holdSignal(context, UPDATE_LONG_POLL_MS);
      for (;;) {
        const run = findRun(cluster, request.namespace, ref.workflowExecution);
        const update = findUpdate(run, updateId);
        if (!update) throw notFound(`update ${updateId} not found`);
        await waitForStage(update, wanted, soft);
        if (update.error) throw update.error;
        if (update.moved) continue;
        return updateAnswer(run, update);
      }
    },

    QueryWorkflow: async (request, context) => {
      const run = findRun(cluster, request.namespace, request.execution);
      const condition = request.queryRejectCondition;
      const rejected =
        (condition === 'QUERY_REJECT_CONDITION_NOT_OPEN' && !isOpen(run)) ||
        (condition === 'QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY' &&
          !isOpen(run) &&
          run.status !== 'WORKFLOW_EXECUTION_STATUS_COMPLETED');
      if (rejected) return { queryRejected: { status: run.status } };
      const id = cluster.nextId('query');
      const signal = holdSignal(context, 60_000);
      const result = await new Promise<Msg | undefined>((resolve) => {
        cluster.pendingQueries.set(id, { execution: run, resolve });
        signal.addEventListener('abort', () => resolve(undefined), { once: true });
        routeQuery(cluster, run, { id, query: request.query, resolve });
      });
      cluster.pendingQueries.delete(id);
      if (!result) throw notFound('query timed out before a worker answered it');
      if (result.resultType === 'QUERY_RESULT_TYPE_ANSWERED') return { queryResult: result.answer };
      throw invalidArgument(String(result.errorMessage || result.failure?.message || 'query failed'));
    },

    RespondQueryTaskCompleted: (request) => {
      const token = decodeToken(request.taskToken);
      if (token.k !== 'query' || !cluster.pendingQueries.has(token.id)) throw notFound('query task not found');
      answerQuery(cluster, token.id, {
        resultType: request.completedType,
        answer: request.queryResult,
        errorMessage: request.errorMessage,
        failure: request.failure,
      });
      return {};
    },

    ResetStickyTaskQueue: (request) => {
      const run = findRun(cluster, request.namespace, request.execution);
      run.sticky = undefined;
      return {};
    },

    ShutdownWorker: (request) => {
      const stickyQueue = request.stickyTaskQueue as string | undefined;
      if (stickyQueue) releaseStickyQueue(cluster, stickyQueue);
      cluster.workflowQueues.release({ identity: request.identity, queue: stickyQueue });
      cluster.activityQueues.release({ identity: request.identity });
      return {};
    },

    ListWorkflowExecutions: (request) => listExecutions(cluster, request),
    ScanWorkflowExecutions: (request) => listExecutions(cluster, request),

    CountWorkflowExecutions: (request) => {
      const predicate = compileQuery(request.query);
      const namespace = request.namespace || 'default';
      let count = 0;
      for (const run of cluster.runs.values()) if (run.namespace === namespace && predicate(run)) count++;
      return { count };
    },
  };
}

/** The stage a call waits for: ACCEPTED or COMPLETED (earlier stages wait for ACCEPTED, as the client asks). */
function waitStage(stage: string | undefined, fallback: string): typeof STAGE.ACCEPTED | typeof STAGE.COMPLETED {
  if (stage === STAGE.COMPLETED) return STAGE.COMPLETED;
  if (stage === STAGE.ACCEPTED) return STAGE.ACCEPTED;
  return fallback === STAGE.COMPLETED ? STAGE.COMPLETED : STAGE.ACCEPTED;
}

function updateAnswer(run: Execution, update: UpdateState): Msg {
  const { stage, outcome } = stageOf(update);
  return {
    updateRef: { workflowExecution: { workflowId: run.workflowId, runId: run.runId }, updateId: update.id },
    outcome,
    stage,
  };
}

function listExecutions(cluster: Cluster, request: Msg): Msg {
  const predicate = compileQuery(request.query);
  const namespace = request.namespace || 'default';
  const all = [...cluster.runs.values()].filter((run) => run.namespace === namespace && predicate(run)).reverse(); // newest first
  const offset = request.nextPageToken?.length ? Number(Buffer.from(request.nextPageToken).toString('utf8')) : 0;
  const pageSize = Number(request.pageSize) || 1000;
  const page = all.slice(offset, offset + pageSize);
  const next = offset + page.length;
  return {
    executions: page.map(executionInfo),
    nextPageToken: next < all.length ? Buffer.from(String(next), 'utf8') : undefined,
  };
}

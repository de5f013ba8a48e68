// Activity options shared by the provisioning workflows. Retrying cannot help a configuration error
// (401/403, non-SCIM target, bad settings) or a permanent one (400), so those fail at once.
import type { ActivityOptions } from '@temporalio/workflow';

export const NON_RETRYABLE_ERROR_TYPES = ['ConfigurationError', 'PermanentError'];

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  // A cycle must end (and the job back off) rather than retry for ever against a dead database.
  maximumAttempts: 8,
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
} satisfies ActivityOptions['retry'];

/** Short bookkeeping calls: load the app, test the connection, finish a cycle, notify, reset. */
export const shortActivity: ActivityOptions = { startToCloseTimeout: '2 minutes', retry };

/**
 * beginCycle stages the directory changes of the whole cycle (1M objects on a large initial cycle) in a
 * few statements; deletionGuard reads the whole staged cycle, page by page. Both heartbeat on a clock,
 * so a lost worker is noticed in two minutes, not at the timeout.
 */
export const stagingActivity: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry,
};

/** processBatch exports one batch and heartbeats its cursor, so a lost worker is noticed in a minute. */
export const batchActivity: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry,
};

/**
 * On-demand answers a person waiting in front of the console: few, quick retries. It heartbeats every
 * 2 s while it runs (activities/on-demand-progress.ts), so a worker that dies is noticed in 10 s and the
 * request retried on another, not after the whole 2 minutes. (Activity options are not compared on
 * replay: changing them needs no patch.)
 */
export const onDemandActivity: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...retry, maximumAttempts: 3, maximumInterval: '5 seconds' },
};

/** Maintenance: retention deletes in batches and heartbeats after each; a first run may take a while. */
export const retentionActivity: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '5 minutes',
  retry,
};

/** Webhooks: the dispatcher's bookkeeping call, and one delivery retried with backoff for about two minutes. */
export const webhookDispatchActivity: ActivityOptions = { startToCloseTimeout: '1 minute', retry };
export const webhookDeliveryActivity: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { ...retry, maximumAttempts: 8 },
};

/**
 * The job's announcement of a state change (webhook events): a few quick tries, then the job goes on
 * without it rather than hold provisioning for a notice.
 */
export const announceActivity: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 3, maximumInterval: '5 seconds' },
};

/**
 * A reconcile pass reads the whole target in one call, heartbeating after each page with its
 * position: a lost worker is noticed in two minutes and the retry resumes from that page.
 */
export const reconcileActivity: ActivityOptions = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '2 minutes',
  retry,
};

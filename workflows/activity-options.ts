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

/** beginCycle stages the directory changes of the whole cycle (100k objects on an initial cycle). */
export const stagingActivity: ActivityOptions = { startToCloseTimeout: '30 minutes', retry };

/** processBatch exports one batch and heartbeats its cursor, so a lost worker is noticed in a minute. */
export const batchActivity: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry,
};

/** On-demand answers a person waiting in front of the console: few, quick retries. */
export const onDemandActivity: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { ...retry, maximumAttempts: 3, maximumInterval: '5 seconds' },
};

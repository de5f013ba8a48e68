// The webhook dispatcher: one long-running workflow (id `ferry:webhooks`) that polls the outbox,
// starts one delivery activity per pending delivery (each retried by Temporal with backoff) and
// continues as new every few hundred polls so its history stays short. Ensured at every start of
// Ferry like the maintenance workflow.
import { continueAsNew, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { FerryActivities } from '../activities/types.ts';
import { webhookDeliveryActivity, webhookDispatchActivity } from './activity-options.ts';

const { dispatchWebhooks } = proxyActivities<FerryActivities>(webhookDispatchActivity);
const { deliverWebhook } = proxyActivities<FerryActivities>(webhookDeliveryActivity);

export interface WebhooksInput {
  /** Time between outbox polls (ms); default 5 s. */
  pollMs?: number;
  /** Polls per run before continuing as new; default 200. */
  pollsPerRun?: number;
}

export async function webhooksWorkflow(input: WebhooksInput = {}): Promise<void> {
  const inFlight = new Map<string, Promise<void>>();
  for (let poll = 0; poll < (input.pollsPerRun ?? 200); poll++) {
    let pending: string[] = [];
    try {
      pending = await dispatchWebhooks();
    } catch (error) {
      // An eternal workflow must not fail: the next poll tries again (dispatching is idempotent).
      log.warn('webhook dispatch failed; trying again at the next poll', { error: String(error) });
    }
    for (const deliveryId of pending) {
      if (inFlight.has(deliveryId)) continue;
      const run = deliverWebhook({ deliveryId }).then(
        () => undefined,
        (error: unknown) => log.warn('webhook delivery failed', { deliveryId, error: String(error) }),
      );
      inFlight.set(
        deliveryId,
        run.finally(() => inFlight.delete(deliveryId)),
      );
    }
    await sleep(input.pollMs ?? 5_000);
  }
  await Promise.all(inFlight.values());
  await continueAsNew<typeof webhooksWorkflow>(input);
}

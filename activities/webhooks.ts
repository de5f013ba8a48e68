// Webhook delivery: the dispatcher activity fans new outbox events out into delivery rows; the
// delivery activity POSTs one event to one subscription, signed, through the outbound address
// policy. A non-2xx answer or a network error is transient (Temporal retries it with backoff, the
// workflow's retry policy); the last attempt, a refused address or an http URL marks it failed.
import { createHmac } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ConfigurationError, TransientError } from '../engine/errors.ts';
import { AddressNotAllowedError } from '../scim/address-policy.ts';
import { Transport } from '../scim/transport.ts';
import type { Store } from '../store/index.ts';
import type { ActivityDeps } from './deps.ts';

/** Attempts per delivery (the workflow's retry policy says the same). */
export const WEBHOOK_MAX_ATTEMPTS = 8;

export const SIGNATURE_HEADER = 'ferry-signature';
export const TIMESTAMP_HEADER = 'ferry-timestamp';

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` — what a receiver recomputes and compares. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface DeliveryResult {
  status: 'delivered' | 'failed' | 'skipped';
  responseStatus: number | null;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message !== error.message
      ? `${error.message}: ${cause.message}`
      : error.message;
  }
  return String(error);
}

function refusedAddress(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause)
    if (e instanceof AddressNotAllowedError) return true;
  return false;
}

export class WebhookDeliverer {
  private readonly transport: Transport;

  constructor(
    private readonly store: Store,
    deps: Pick<ActivityDeps, 'allowInsecureLoopback' | 'allowedTargetNetworks' | 'resolve'>,
  ) {
    this.transport = new Transport({
      connections: 4,
      maxResponseBytes: 64 * 1024,
      timeouts: { connectMs: 10_000, headersMs: 15_000, bodyMs: 15_000 },
      allowInsecureLoopback: deps.allowInsecureLoopback === true,
      outbound: { allowedNetworks: deps.allowedTargetNetworks, resolve: deps.resolve },
    });
  }

  /** Fans out new events and returns the ids of every pending delivery. */
  async dispatch(): Promise<string[]> {
    await this.store.webhooks.dispatch();
    return this.store.webhooks.pendingDeliveries();
  }

  async deliver(deliveryId: string, attempt = Context.current().info.attempt): Promise<DeliveryResult> {
    const webhooks = this.store.webhooks;
    const delivery = await webhooks.delivery(deliveryId);
    if (!delivery || delivery.status !== 'pending') return { status: 'skipped', responseStatus: null };
    const [subscription, event] = await Promise.all([
      webhooks.get(delivery.webhookId),
      webhooks.event(delivery.eventId),
    ]);
    if (!subscription || !event) return { status: 'skipped', responseStatus: null };
    if (!subscription.enabled) {
      await webhooks.recordAttempt(deliveryId, {
        status: 'failed',
        responseStatus: null,
        error: 'subscription disabled',
      });
      return { status: 'failed', responseStatus: null };
    }
    const body = JSON.stringify({
      id: String(event.id),
      type: event.type,
      createdAt: event.createdAt,
      appId: event.appId,
      data: event.data,
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const secret = await webhooks.getSecret(subscription.id);
    let responseStatus: number | null = null;
    let error: string;
    try {
      const response = await this.transport.send({
        method: 'POST',
        url: new URL(subscription.url),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Ferry-Webhooks',
          'ferry-event': event.type,
          'ferry-delivery': deliveryId,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: webhookSignature(secret, timestamp, body),
        },
        body,
      });
      responseStatus = response.status;
      if (response.status >= 200 && response.status < 300) {
        await webhooks.recordAttempt(deliveryId, { status: 'delivered', responseStatus, error: null });
        return { status: 'delivered', responseStatus };
      }
      error = `the receiver answered ${response.status}`;
    } catch (thrown) {
      error = describe(thrown);
      // A refused address or a URL Ferry must not send to (http off loopback) stays refused: no retry.
      if (refusedAddress(thrown) || thrown instanceof ConfigurationError) {
        await webhooks.recordAttempt(deliveryId, { status: 'failed', responseStatus: null, error });
        return { status: 'failed', responseStatus: null };
      }
    }
    const last = attempt >= WEBHOOK_MAX_ATTEMPTS;
    await webhooks.recordAttempt(deliveryId, { status: last ? 'failed' : 'pending', responseStatus, error });
    if (last) return { status: 'failed', responseStatus };
    throw new TransientError(`Webhook delivery ${deliveryId} failed: ${error}`, { code: 'ServiceUnavailable' });
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

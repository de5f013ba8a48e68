// Webhooks: subscriptions (an app's or global), the event outbox and the delivery log. Events are
// written where they happen (in the transaction that makes them true, when there is one); the
// dispatcher workflow fans each new event out to the subscriptions that want it, one delivery row
// per (subscription, event), and delivers those rows. The signing secret is sealed like app
// secrets (bound to the subscription's id) and leaves only through `getSecret`, for the worker.
import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { SecretBox } from './crypto.ts';
import { decodeCursor, encodeCursor, iso, type Executor } from './db.ts';
import type { Page } from './directory.ts';
import { notFound } from './errors.ts';
import { webhookDeliveries, webhookEvents, webhooks } from './schema.ts';

/** The events a subscription can ask for. */
export const WEBHOOK_EVENT_TYPES = [
  'cycle.finished',
  'job.state_changed',
  'quarantine.entered',
  'quarantine.left',
  'deletions.staged',
  'object.failed',
  'source.quarantine.entered',
  'source.quarantine.left',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Events of no app (a source's): only subscriptions of every app (no `appId`) receive them. */
export const GLOBAL_ONLY_EVENT_TYPES: readonly WebhookEventType[] = [
  'source.quarantine.entered',
  'source.quarantine.left',
];

/** The safe view of a subscription: never its secret. */
export interface WebhookRecord {
  id: string;
  /** null: every app's events. */
  appId: string | null;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NewWebhook {
  appId: string | null;
  url: string;
  events: WebhookEventType[];
  description?: string | null;
  enabled?: boolean;
}

export interface WebhookUpdate {
  url?: string;
  events?: WebhookEventType[];
  description?: string | null;
  enabled?: boolean;
}

export interface WebhookEvent {
  id: number;
  appId: string | null;
  type: WebhookEventType;
  data: Record<string, unknown>;
  createdAt: string;
}

export interface WebhookDeliveryRecord {
  id: string;
  webhookId: string;
  eventId: number;
  eventType: WebhookEventType;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  responseStatus: number | null;
  error: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
}

type WebhookRow = typeof webhooks.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

function toRecord(row: WebhookRow): WebhookRecord {
  return {
    id: row.id,
    appId: row.appId,
    url: row.url,
    events: row.events as WebhookEventType[],
    description: row.description,
    enabled: row.enabled,
    createdAt: iso(row.createdAt)!,
    updatedAt: iso(row.updatedAt)!,
  };
}

function toDelivery(row: DeliveryRow): WebhookDeliveryRecord {
  return {
    id: row.id,
    webhookId: row.webhookId,
    eventId: row.eventId,
    eventType: row.eventType as WebhookEventType,
    status: row.status,
    attempts: row.attempts,
    responseStatus: row.responseStatus,
    error: row.error,
    createdAt: iso(row.createdAt)!,
    lastAttemptAt: iso(row.lastAttemptAt),
    deliveredAt: iso(row.deliveredAt),
  };
}

const owner = (id: string): string => `webhook:${id}`;

export class WebhookRepository {
  constructor(
    private readonly db: Executor,
    private readonly box: SecretBox,
  ) {}

  /** Creates a subscription with a fresh signing secret, returned here once and never again. */
  async create(input: NewWebhook): Promise<{ webhook: WebhookRecord; secret: string }> {
    const id = randomUUID();
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const [row] = await this.db
      .insert(webhooks)
      .values({
        id,
        appId: input.appId,
        url: input.url,
        events: [...input.events],
        description: input.description ?? null,
        enabled: input.enabled ?? true,
        secret: this.box.seal(secret, owner(id)),
      })
      .returning();
    return { webhook: toRecord(row), secret };
  }

  async get(id: string): Promise<WebhookRecord | null> {
    const [row] = await this.db.select().from(webhooks).where(eq(webhooks.id, id));
    return row ? toRecord(row) : null;
  }

  async require(id: string): Promise<WebhookRecord> {
    const found = await this.get(id);
    if (!found) throw notFound('Webhook', id);
    return found;
  }

  /** Subscriptions in creation order; `appId` narrows to one app's (global ones excluded). */
  async list(options: { appId?: string; cursor?: string | null; limit?: number } = {}): Promise<Page<WebhookRecord>> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const after = options.cursor ? (decodeCursor(options.cursor) as [string, string]) : null;
    const rows = await this.db
      .select()
      .from(webhooks)
      .where(
        and(
          options.appId ? eq(webhooks.appId, options.appId) : undefined,
          after ? sql`(${webhooks.createdAt}, ${webhooks.id}) > (${after[0]}::timestamptz, ${after[1]})` : undefined,
        ),
      )
      .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toRecord);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor([last.createdAt, last.id]) : null };
  }

  async update(id: string, update: WebhookUpdate): Promise<WebhookRecord> {
    const [row] = await this.db
      .update(webhooks)
      .set({
        ...(update.url !== undefined ? { url: update.url } : {}),
        ...(update.events !== undefined ? { events: [...update.events] } : {}),
        ...(update.description !== undefined ? { description: update.description } : {}),
        ...(update.enabled !== undefined ? { enabled: update.enabled } : {}),
        updatedAt: new Date(),
      })
      .where(eq(webhooks.id, id))
      .returning();
    if (!row) throw notFound('Webhook', id);
    return toRecord(row);
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
    return rows.length > 0;
  }

  /** The signing secret in clear — for the worker's delivery activity only. */
  async getSecret(id: string): Promise<string> {
    const [row] = await this.db.select({ secret: webhooks.secret }).from(webhooks).where(eq(webhooks.id, id));
    if (!row) throw notFound('Webhook', id);
    return this.box.open(row.secret, owner(id));
  }

  /** Writes one event to the outbox (call it on the transaction that makes the event true). */
  async emit(event: { appId: string | null; type: WebhookEventType; data: Record<string, unknown> }): Promise<void> {
    // Written only when an enabled subscription wants it, so the outbox stays empty without webhooks.
    await this.db.execute(sql`
      insert into ${webhookEvents} (app_id, type, data)
      select ${event.appId}, ${event.type}, ${JSON.stringify(event.data)}::jsonb
      where exists (
        select 1 from ${webhooks}
        where ${webhooks.enabled} and ${event.type} = any(${webhooks.events})
          and (${webhooks.appId} is null or ${webhooks.appId} = ${event.appId}))`);
  }

  async event(id: number): Promise<WebhookEvent | null> {
    const [row] = await this.db.select().from(webhookEvents).where(eq(webhookEvents.id, id));
    if (!row) return null;
    return {
      id: row.id,
      appId: row.appId,
      type: row.type as WebhookEventType,
      data: row.data,
      createdAt: iso(row.createdAt)!,
    };
  }

  /**
   * Fans out up to `limit` undispatched events: one pending delivery per enabled subscription that
   * wants the event (the app's own and the global ones), then marks the events dispatched. Safe to
   * run twice or from two workers: rows are locked (skip locked) and deliveries are unique per pair.
   */
  async dispatch(limit = 500): Promise<number> {
    return this.db.transaction(async (tx) => {
      const events = await tx
        .select()
        .from(webhookEvents)
        .where(isNull(webhookEvents.dispatchedAt))
        .orderBy(asc(webhookEvents.id))
        .limit(limit)
        .for('update', { skipLocked: true });
      if (events.length === 0) return 0;
      const subscriptions = await tx.select().from(webhooks).where(eq(webhooks.enabled, true));
      const rows = events.flatMap((event) =>
        subscriptions
          .filter((s) => (s.appId === null || s.appId === event.appId) && s.events.includes(event.type))
          .map((s) => ({ id: randomUUID(), webhookId: s.id, eventId: event.id, eventType: event.type })),
      );
      if (rows.length > 0) await tx.insert(webhookDeliveries).values(rows).onConflictDoNothing();
      await tx
        .update(webhookEvents)
        .set({ dispatchedAt: new Date() })
        .where(
          inArray(
            webhookEvents.id,
            events.map((e) => e.id),
          ),
        );
      return events.length;
    });
  }

  /** Ids of pending deliveries, oldest first. */
  async pendingDeliveries(limit = 500): Promise<string[]> {
    const rows = await this.db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.status, 'pending'))
      .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id))
      .limit(limit);
    return rows.map((r) => r.id);
  }

  async delivery(id: string): Promise<WebhookDeliveryRecord | null> {
    const [row] = await this.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
    return row ? toDelivery(row) : null;
  }

  /** Records one attempt: `delivered`, still `pending` (to be retried) or finally `failed`. */
  async recordAttempt(
    id: string,
    attempt: { status: 'pending' | 'delivered' | 'failed'; responseStatus: number | null; error: string | null },
  ): Promise<void> {
    const now = new Date();
    await this.db
      .update(webhookDeliveries)
      .set({
        status: attempt.status,
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        responseStatus: attempt.responseStatus,
        error: attempt.error,
        lastAttemptAt: now,
        ...(attempt.status === 'delivered' ? { deliveredAt: now } : {}),
      })
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, 'pending')));
  }

  /** A subscription's delivery log, newest first. */
  async deliveries(
    webhookId: string,
    options: { cursor?: string | null; limit?: number } = {},
  ): Promise<Page<WebhookDeliveryRecord>> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const after = options.cursor ? (decodeCursor(options.cursor) as [string, string]) : null;
    const rows = await this.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.webhookId, webhookId),
          after
            ? sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < (${after[0]}::timestamptz, ${after[1]})`
            : undefined,
        ),
      )
      .orderBy(sql`${webhookDeliveries.createdAt} desc, ${webhookDeliveries.id} desc`)
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toDelivery);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor([last.createdAt, last.id]) : null };
  }
}

// An app as the activities use it: its parsed configuration (secrets merged in from the store),
// compiled mappings and scoping filters, and ONE SCIM client per app and configuration, so the
// app's rate and concurrency limits hold for everything this worker sends to it (cycles and
// on-demand alike). On Postgres the rate limit and Retry-After pauses are also shared with every
// other worker process through the app's row in app_rate_slots (sharedRateOf); the concurrency
// limit stays per process.
import { createHash } from 'node:crypto';
import { ConfigurationError } from '../engine/errors.ts';
import {
  configWithSecrets,
  parseAppConfig,
  formatConfigIssue,
  type AppConfig,
  type CompiledAppConfig,
} from '../engine/config/index.ts';
import { createScimClient, SharedRateSchedule, type ScimAuth, type ScimClient } from '../scim/index.ts';
import type { AppRecord } from '../store/index.ts';
import type { ScimClientEvent } from '../scim/index.ts';
import { moduleLogger, type ActivityDeps, type ActivityLogger } from './deps.ts';
import { recordRequestEvent } from './request-capture.ts';

export interface AppRuntime {
  app: AppRecord;
  config: AppConfig;
  compiled: CompiledAppConfig;
  client: ScimClient;
  /** Changes when configuration or secrets change. */
  fingerprint: string;
}

function scimAuth(config: AppConfig): ScimAuth {
  const auth = config.auth;
  if (auth.type === 'bearer') return { type: 'bearer', token: auth.token };
  return {
    type: 'oauth',
    tokenUrl: auth.tokenUrl,
    clientId: auth.clientId,
    clientSecret: auth.clientSecret,
    scope: auth.scope,
  };
}

/**
 * The SCIM client's event hook of one app: on-demand capture, metrics, and a debug line per request
 * (module `scim`) whose path has no query string: filters carry user names.
 */
export function scimEventHook(deps: ActivityDeps, log: ActivityLogger, appId: string) {
  return (event: ScimClientEvent): void => {
    recordRequestEvent(event);
    deps.metrics?.scimEvent(appId, event);
    if (event.type === 'request') log.debug?.('scim request', { appId, ...event, path: event.path.split('?')[0] });
    else if (event.type === 'throttled') log.info('target asked for a pause', { appId, ...event });
    else if (event.type === 'warning') log.warn('target warning', { appId, message: event.message });
  };
}

export class AppRuntimes {
  private readonly cache = new Map<string, AppRuntime>();
  private readonly scimLog: ActivityLogger;
  /** One shared schedule per app, kept across client rebuilds (its reserved run stays usable). */
  private readonly schedules = new Map<string, SharedRateSchedule>();
  private scheduleUnavailable = false;

  constructor(private readonly deps: ActivityDeps) {
    this.scimLog = moduleLogger(deps.logger, 'scim');
  }

  /**
   * The app's request schedule shared with the other workers, or undefined where this worker is the
   * only one that can exist (embedded PGlite: one process owns the database). Warns once when the
   * database stops answering (each worker then keeps the limit alone) and once when it is back.
   */
  sharedRateOf(appId: string): SharedRateSchedule | undefined {
    const { store } = this.deps;
    if (!(this.deps.sharedRateLimit ?? store.backend === 'postgres')) return undefined;
    let schedule = this.schedules.get(appId);
    if (!schedule) {
      schedule = new SharedRateSchedule({
        source: {
          reserve: (slots, intervalMs) => store.rateSlots.reserve(appId, slots, intervalMs),
          pause: (forMs) => store.rateSlots.pause(appId, forMs),
        },
        onUnavailable: (error) => {
          if (this.scheduleUnavailable) return;
          this.scheduleUnavailable = true;
          this.scimLog.warn(
            'the database did not answer for the shared rate limit; this worker keeps each app’s limit alone until it does',
            { appId, error },
          );
        },
        onAvailable: () => {
          if (!this.scheduleUnavailable) return;
          this.scheduleUnavailable = false;
          this.scimLog.info('the shared rate limit is back: workers keep each app’s limit together', { appId });
        },
      });
      this.schedules.set(appId, schedule);
    }
    return schedule;
  }

  async get(appId: string): Promise<AppRuntime> {
    const { store } = this.deps;
    const app = await store.apps.require(appId);
    const secrets = await store.apps.getSecrets(appId);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([app.configVersion, app.configuration, secrets]))
      .digest('hex');
    const cached = this.cache.get(appId);
    if (cached && cached.fingerprint === fingerprint) {
      cached.app = app;
      return cached;
    }
    const parsed = parseAppConfig(configWithSecrets(app.configuration, secrets, app.name));
    if (!parsed.ok) {
      throw new ConfigurationError(
        `App ${appId} has an invalid configuration: ${parsed.errors.map(formatConfigIssue).join('; ')}`,
        {
          code: 'Unknown',
        },
      );
    }
    const config = parsed.config;
    const factory = this.deps.createScimClient ?? createScimClient;
    const client = factory({
      baseUrl: config.target.url,
      auth: scimAuth(config),
      profile: config.compatibilityProfile,
      requestsPerSecond: config.rateLimit.requestsPerSecond,
      concurrency: config.rateLimit.concurrency,
      sharedRate: this.sharedRateOf(appId),
      maxRetryAfterMs: config.rateLimit.maxRetryAfterSeconds * 1000,
      bulk: config.bulk,
      // Where the app may connect is the worker's environment's to say, never the app's own
      // stored `allowInsecureLoopback` (which an API key could set).
      allowInsecureLoopback: this.deps.allowInsecureLoopback === true,
      outbound: { allowedNetworks: this.deps.allowedTargetNetworks, resolve: this.deps.resolve },
      logger: scimEventHook(this.deps, this.scimLog, appId),
    });
    if (cached) void cached.client.close().catch(() => {});
    const runtime: AppRuntime = { app, config, compiled: parsed.compiled, client, fingerprint };
    this.cache.set(appId, runtime);
    return runtime;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.cache.values()].map((r) => r.client);
    this.cache.clear();
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

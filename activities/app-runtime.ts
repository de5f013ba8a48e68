// An app as the activities use it: its parsed configuration (secrets merged in from the store),
// compiled mappings and scoping filters, and ONE SCIM client per app and configuration, so the
// app's rate and concurrency limits hold for everything this worker sends to it.
import { createHash } from 'node:crypto';
import { ConfigurationError } from '../engine/errors.ts';
import { parseAppConfig, formatConfigIssue, type AppConfig, type CompiledAppConfig } from '../engine/config/index.ts';
import { createScimClient, type ScimAuth, type ScimClient } from '../scim/index.ts';
import type { AppRecord } from '../store/index.ts';
import type { ActivityDeps } from './deps.ts';
import { recordRequestEvent } from './request-capture.ts';

export interface AppRuntime {
  app: AppRecord;
  config: AppConfig;
  compiled: CompiledAppConfig;
  client: ScimClient;
  /** Changes when configuration or secrets change. */
  fingerprint: string;
}

function withSecrets(configuration: Record<string, unknown>, secrets: Record<string, string>, name: string): unknown {
  const auth = { ...((configuration.auth as Record<string, unknown> | undefined) ?? {}) };
  if (auth.type === undefined) auth.type = secrets.clientSecret ? 'oauth2' : 'bearer';
  if (secrets.token !== undefined) auth.token = secrets.token;
  if (secrets.clientSecret !== undefined) auth.clientSecret = secrets.clientSecret;
  return { name, ...configuration, auth };
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

export class AppRuntimes {
  private readonly cache = new Map<string, AppRuntime>();

  constructor(private readonly deps: ActivityDeps) {}

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
    const parsed = parseAppConfig(withSecrets(app.configuration, secrets, app.name));
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
      // Plain http to a loopback target: allowed for the whole worker (tests, bench) or per app,
      // where the API stored the app's own `allowInsecureLoopback` setting.
      allowInsecureLoopback: this.deps.allowInsecureLoopback === true || allowsInsecureLoopback(app.configuration),
      logger: recordRequestEvent,
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

function allowsInsecureLoopback(configuration: unknown): boolean {
  return (configuration as { allowInsecureLoopback?: unknown } | null)?.allowInsecureLoopback === true;
}

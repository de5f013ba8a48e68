// docker-compose.yml is checked statically (there is no Docker engine in CI): the services,
// images, ports, start order, health checks, and that the environment given to Ferry's worker
// and API is one workers/env.ts accepts.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../workers/env.ts';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  volumes?: string[];
}

const root = new URL('../../', import.meta.url);
const composeText = readFileSync(new URL('docker-compose.yml', root), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

const SAMPLE_ENV = {
  FERRY_API_KEYS: 'compose-test-key-0123456789',
  FERRY_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};

/** Docker Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}/g,
    (_, name: string, op: string | undefined, arg: string) => {
      const set = env[name] !== undefined && env[name] !== '';
      if (set) return env[name];
      if (op === ':?') throw new Error(`${name}: ${arg}`);
      return op === ':-' ? arg : '';
    },
  );
}

function environmentOf(name: string, env: Record<string, string> = SAMPLE_ENV): Record<string, string> {
  return Object.fromEntries(
    Object.entries(services[name].environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]),
  );
}

const publishedPorts = (name: string, env: Record<string, string> = {}) =>
  (services[name].ports ?? []).map((p) => interpolate(p, env));

describe('docker-compose.yml', () => {
  it('runs Postgres 15, Temporal with its Web UI and search-attribute setup, the Ferry worker and API', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['ferry-api', 'ferry-worker', 'postgres', 'temporal', 'temporal-search-attributes', 'temporal-ui'].sort(),
    );
    expect(services.postgres.image).toMatch(/^postgres:15(\.|-|$)/);
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:\d+\.\d+\.\d+$/);
    expect(services['temporal-search-attributes'].image).toMatch(/^temporalio\/admin-tools:\d+\.\d+\.\d+$/);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(services['ferry-worker'].build).toBe('.');
    expect(services['ferry-api'].image).toBe(services['ferry-worker'].image);
  });

  it('runs Temporal on the same Postgres', () => {
    const env = environmentOf('temporal');
    expect(env).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres', DB_PORT: '5432' });
    const pg = environmentOf('postgres');
    expect(env.POSTGRES_USER).toBe(pg.POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
  });

  it("registers Ferry's search attributes FerryAppId and FerryJobState as Keyword", () => {
    const service = services['temporal-search-attributes'];
    const command = [service.entrypoint, service.command].flat().join(' ');
    expect(command).toContain('temporal operator search-attribute create');
    expect(command).toMatch(/--name FerryAppId --type Keyword/);
    expect(command).toMatch(/--name FerryJobState --type Keyword/);
    expect(environmentOf('temporal-search-attributes').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('publishes the API on 8080, the Web UI on 8088 and Temporal on 7233 by default', () => {
    expect(publishedPorts('ferry-api')).toEqual(['8080:8080']);
    expect(publishedPorts('temporal-ui')).toEqual(['8088:8080']);
    expect(publishedPorts('temporal')).toEqual(['7233:7233']);
    expect(publishedPorts('ferry-api', { FERRY_PORT: '9000' })).toEqual(['9000:8080']);
    expect(services['ferry-worker'].ports).toBeUndefined();
  });

  it('starts the worker and API after healthy dependencies and registered search attributes', () => {
    for (const name of ['ferry-worker', 'ferry-api']) {
      expect(services[name].depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        temporal: { condition: 'service_healthy' },
        'temporal-search-attributes': { condition: 'service_completed_successfully' },
      });
    }
    // Every dependency waited on as healthy has a health check.
    for (const service of Object.values(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(Object.keys(services)).toContain(dependency);
        if (condition === 'service_healthy') expect(services[dependency].healthcheck, dependency).toBeDefined();
      }
    }
    expect(services['ferry-api'].healthcheck?.test).toEqual(
      expect.arrayContaining([expect.stringContaining('/healthz')]),
    );
  });

  it('runs npm run worker and npm run api', () => {
    expect(services['ferry-worker'].command).toEqual(['npm', 'run', 'worker']);
    expect(services['ferry-api'].command).toEqual(['npm', 'run', 'api']);
  });

  it("gives the worker and API an environment workers/env.ts accepts, pointing at compose's services", () => {
    for (const name of ['ferry-worker', 'ferry-api']) {
      const env = loadEnv(environmentOf(name));
      expect(env.databaseUrl).toBe('postgres://ferry:ferry@postgres:5432/ferry');
      expect(env.temporal).toEqual({ address: 'temporal:7233', namespace: 'default', taskQueue: 'ferry' });
      expect(env.encryptionKey).toBe(SAMPLE_ENV.FERRY_ENCRYPTION_KEY);
      expect(env.dataDir).toBe('/var/lib/ferry');
      expect(services[name].volumes).toContain('ferry-data:/var/lib/ferry');
    }
    const api = loadEnv(environmentOf('ferry-api'));
    expect(api.apiKeys).toEqual([SAMPLE_ENV.FERRY_API_KEYS]);
    expect(api.host).toBe('0.0.0.0');
    expect(publishedPorts('ferry-api')[0].split(':')[1]).toBe(String(api.port));
    expect(Object.keys(compose.volumes).sort()).toEqual(['ferry-data', 'postgres-data']);
  });

  it('refuses to start without the API keys and the encryption key', () => {
    expect(() => environmentOf('ferry-api', { FERRY_ENCRYPTION_KEY: SAMPLE_ENV.FERRY_ENCRYPTION_KEY })).toThrow(
      /FERRY_API_KEYS/,
    );
    expect(() => environmentOf('ferry-worker', {})).toThrow(/FERRY_ENCRYPTION_KEY/);
  });

  it('documents every variable it reads from the host', () => {
    const header = composeText.split('\nx-ferry-environment')[0];
    const read = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]));
    for (const name of read) expect(header, name).toContain(name);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
  const ignored = readFileSync(new URL('.dockerignore', root), 'utf8').split('\n');

  it('builds on Node 20 with production dependencies only, running as a non-root user', () => {
    expect(dockerfile).toMatch(/^FROM node:20\b/m);
    expect(dockerfile).toMatch(/npm install --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('keeps local state, secrets and node_modules out of the image', () => {
    for (const entry of ['node_modules', '.ferry', '.env', '.git']) expect(ignored).toContain(entry);
  });
});

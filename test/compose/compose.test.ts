// docker-compose.yml is checked statically (there is no Docker engine in CI): the services,
// images, ports, start order, health checks, and that the environment given to Ferry's worker
// and API is one workers/env.ts accepts.
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../support/postgres.ts';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../workers/env.ts';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number>;
  env_file?: string | string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  volumes?: string[];
  user?: string;
  restart?: string;
}

const root = new URL('../../', import.meta.url);
const composeText = readFileSync(new URL('docker-compose.yml', root), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

/** ferry.env as an operator fills it in from ferry.env.example. */
const SAMPLE_SECRETS = {
  FERRY_API_KEYS: 'compose-test-key-0123456789',
  FERRY_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};
const SAMPLE_ENV: Record<string, string> = {};

/** KEY=value lines of an env file (comments and blank lines skipped), as Docker Compose reads them. */
function parseEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
const exampleEnvFile = parseEnvFile(readFileSync(new URL('ferry.env.example', root), 'utf8'));

/** What a Ferry container gets: its env file (filled in), overridden by its `environment:`. */
function containerEnvironment(name: string, secrets: Record<string, string> = SAMPLE_SECRETS): Record<string, string> {
  return { ...exampleEnvFile, ...secrets, ...environmentOf(name) };
}

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
  it('runs Postgres 15, Temporal with its schema and namespace setup and Web UI, the Ferry worker and API', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'ferry-api',
        'ferry-worker',
        'postgres',
        'temporal',
        'temporal-schema',
        'temporal-namespace',
        'temporal-ui',
      ].sort(),
    );
    expect(services.postgres.image).toMatch(/^postgres:15(\.|-|$)/);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(services['ferry-worker'].build).toBe('.');
    expect(services['ferry-api'].image).toBe(services['ferry-worker'].image);
  });

  it('runs the plain Temporal server image (auto-setup is retired upstream) of the 1.29 line or newer, with admin tools of the same version', () => {
    const version = (image: string | undefined, name: string) => {
      const match = new RegExp(`^temporalio/${name}:(\\d+)\\.(\\d+)\\.(\\d+)$`).exec(image ?? '');
      expect(match, `${name}: ${image}`).not.toBeNull();
      return match!.slice(1).map(Number);
    };
    const server = version(services.temporal.image, 'server');
    expect(server[0] > 1 || (server[0] === 1 && server[1] >= 29), services.temporal.image).toBe(true);
    for (const name of ['temporal-schema', 'temporal-namespace']) {
      expect(version(services[name].image, 'admin-tools'), name).toEqual(server);
    }
  });

  it('creates the schemas of both Temporal databases before the server starts, and gives the server a dynamic config file', () => {
    const command = [services['temporal-schema'].entrypoint, services['temporal-schema'].command].flat().join(' ');
    expect(command).toContain('for db in temporal temporal_visibility');
    for (const step of [
      'create-database',
      'setup-schema -v 0.0',
      'update-schema -d /etc/temporal/schema/postgresql/v12/',
    ]) {
      expect(command).toContain(step);
    }
    expect(services.temporal.depends_on).toMatchObject({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    const dynamicConfig = environmentOf('temporal').DYNAMIC_CONFIG_FILE_PATH;
    const mount = (services.temporal.volumes ?? []).find((v) => v.split(':')[1] === dynamicConfig);
    expect(mount, dynamicConfig).toBeDefined();
    expect(existsSync(new URL(mount!.split(':')[0], root))).toBe(true);
  });

  it('runs Temporal on the same Postgres', () => {
    const env = environmentOf('temporal');
    expect(env).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres', DB_PORT: '5432', BIND_ON_IP: '0.0.0.0' });
    const pg = environmentOf('postgres');
    expect(env.POSTGRES_USER).toBe(pg.POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
    const schema = environmentOf('temporal-schema');
    expect(schema).toMatchObject({ SQL_PLUGIN: 'postgres12', SQL_HOST: 'postgres', SQL_PORT: '5432' });
    expect(schema.SQL_USER).toBe(pg.POSTGRES_USER);
    expect(schema.SQL_PASSWORD).toBe(pg.POSTGRES_PASSWORD);
  });

  it("creates the default namespace and registers Ferry's search attributes FerryAppId and FerryJobState as Keyword", () => {
    const service = services['temporal-namespace'];
    const command = [service.entrypoint, service.command].flat().join(' ');
    expect(command).toContain('temporal operator namespace create --namespace default');
    expect(command).toContain('temporal operator search-attribute create');
    expect(command).toMatch(/--name FerryAppId --type Keyword/);
    expect(command).toMatch(/--name FerryJobState --type Keyword/);
    expect(environmentOf('temporal-namespace').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('publishes the API on 8080, the Web UI on 8088 and Temporal on 7233 by default', () => {
    expect(publishedPorts('ferry-api')).toEqual(['8080:8080']);
    expect(publishedPorts('temporal-ui')).toEqual(['127.0.0.1:8088:8080']);
    expect(publishedPorts('temporal')).toEqual(['127.0.0.1:7233:7233']);
    expect(publishedPorts('ferry-api', { FERRY_PORT: '9000' })).toEqual(['9000:8080']);
    expect(publishedPorts('temporal-ui', { TEMPORAL_UI_PORT: '9088' })).toEqual(['127.0.0.1:9088:8080']);
    expect(services['ferry-worker'].ports).toBeUndefined();
  });

  it("publishes nothing without authentication beyond the Docker host: Temporal's gRPC and Web UI on 127.0.0.1 only, Postgres not at all", () => {
    expect(services.postgres.ports).toBeUndefined();
    for (const [name, service] of Object.entries(services)) {
      if (name === 'ferry-api') continue; // the control API asks for an API key on every data route
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('runs every long-running container as a non-root user (Ferry as the image user node)', () => {
    const longRunning = Object.entries(services).filter(([, s]) => s.restart === 'unless-stopped');
    expect(longRunning.map(([name]) => name).sort()).toEqual(
      ['ferry-api', 'ferry-worker', 'postgres', 'temporal', 'temporal-ui'].sort(),
    );
    for (const [name, service] of longRunning) {
      if (service.image === services['ferry-worker'].image) {
        // Built from the Dockerfile, whose last USER is node (checked below); nothing overrides it.
        expect(service.user, name).toBeUndefined();
        continue;
      }
      expect(service.user, name).toMatch(/^[a-z_][a-z0-9_-]*$/);
      expect(service.user, name).not.toMatch(/^(root|0)(:|$)/);
    }
    expect(services.postgres.user).toBe('postgres');
  });

  it('starts the worker and API after healthy dependencies and registered search attributes', () => {
    for (const name of ['ferry-worker', 'ferry-api']) {
      expect(services[name].depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        temporal: { condition: 'service_healthy' },
        'temporal-namespace': { condition: 'service_completed_successfully' },
      });
    }
    // Every dependency waited on as healthy has a health check.
    for (const service of Object.values(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(Object.keys(services)).toContain(dependency);
        if (condition === 'service_healthy') expect(services[dependency].healthcheck, dependency).toBeDefined();
      }
    }
    // Readiness (database and Temporal reachable; the worker polling), not mere liveness.
    expect(services['ferry-api'].healthcheck?.test).toEqual(
      expect.arrayContaining([expect.stringContaining('127.0.0.1:8080/readyz')]),
    );
    expect(services['ferry-worker'].healthcheck?.test).toEqual(
      expect.arrayContaining([expect.stringContaining('127.0.0.1:9464/readyz')]),
    );
    expect(loadEnv(containerEnvironment('ferry-worker')).workerHttp?.port).toBe(9464);
  });

  it('runs npm run worker and npm run api', () => {
    expect(services['ferry-worker'].command).toEqual(['npm', 'run', 'worker']);
    expect(services['ferry-api'].command).toEqual(['npm', 'run', 'api']);
  });

  it("gives the worker and API an environment workers/env.ts accepts, pointing at compose's services", () => {
    for (const name of ['ferry-worker', 'ferry-api']) {
      const env = loadEnv(containerEnvironment(name));
      expect(env.databaseUrl).toBe('postgres://ferry:ferry@postgres:5432/ferry');
      expect(env.temporal).toEqual({
        address: 'temporal:7233',
        namespace: 'default',
        taskQueue: 'ferry',
        uiUrl: 'http://localhost:8088',
        tls: null,
        apiKey: null,
      });
      expect(env.encryptionKey).toBe(SAMPLE_SECRETS.FERRY_ENCRYPTION_KEY);
      expect(env.payloadKeys).toEqual([]);
      expect(env.smtp).toBeNull();
      expect(env.dataDir).toBe('/var/lib/ferry');
      expect(services[name].volumes).toContain('ferry-data:/var/lib/ferry');
    }
    const api = loadEnv(containerEnvironment('ferry-api'));
    expect(api.apiKeys).toEqual([SAMPLE_SECRETS.FERRY_API_KEYS]);
    expect(api.host).toBe('0.0.0.0');
    expect(publishedPorts('ferry-api')[0].split(':')[1]).toBe(String(api.port));
    expect(Object.keys(compose.volumes).sort()).toEqual(['ferry-data', 'postgres-data']);
  });

  it("takes Ferry's secrets from an env file, never from the compose file, and documents them in ferry.env.example", () => {
    const secrets = [
      'FERRY_API_KEYS',
      'FERRY_ENCRYPTION_KEY',
      'FERRY_PAYLOAD_KEYS',
      'TEMPORAL_API_KEY',
      'SMTP_PASSWORD',
    ];
    for (const name of ['ferry-worker', 'ferry-api']) {
      expect(services[name].env_file, name).toBe('${FERRY_ENV_FILE:-./ferry.env}');
      // `environment:` wins over the env file: a secret (or an empty default) there would shadow it.
      for (const secret of [...secrets, 'SMTP_URL', 'SMTP_HOST', 'SMTP_USER', 'TEMPORAL_TLS_KEY']) {
        expect(Object.keys(services[name].environment ?? {}), `${name} ${secret}`).not.toContain(secret);
      }
    }
    const example = readFileSync(new URL('ferry.env.example', root), 'utf8');
    for (const secret of secrets) expect(example, secret).toMatch(new RegExp(`^#? ?${secret}=`, 'm'));
    // The example holds no value for a secret; the real file is never committed or built into the image.
    for (const [name, value] of Object.entries(exampleEnvFile)) expect(value, name).toBe('');
    const gitignore = readFileSync(new URL('.gitignore', root), 'utf8').split('\n');
    expect(gitignore).toEqual(expect.arrayContaining(['.env', '*.env', '!*.env.example']));
  });

  it('lets Ferry refuse to start when the env file lacks the API keys or the encryption key', async () => {
    const { startApi } = await import('../../workers/api.ts');
    const { silentLogger } = await import('../../api/logger.ts');
    // The API alone may run on keys stored in the database: an empty database (here a fresh one in
    // place of the compose network's `postgres`) holds none, so it refuses to start.
    const db = await createTestDatabase('compose');
    try {
      const apiEnv = loadEnv({
        ...containerEnvironment('ferry-api', { FERRY_ENCRYPTION_KEY: SAMPLE_SECRETS.FERRY_ENCRYPTION_KEY }),
        DATABASE_URL: db.url,
      });
      await expect(startApi(apiEnv, silentLogger)).rejects.toThrow(/FERRY_API_KEYS is required/);
    } finally {
      await db.drop();
    }
    const { openStoreFromEnv } = await import('../../workers/worker.ts');
    await expect(openStoreFromEnv(loadEnv(containerEnvironment('ferry-worker', {})))).rejects.toThrow(
      /FERRY_ENCRYPTION_KEY is not set/,
    );
  });

  it("configures the Web UI with Ferry's codec endpoint, and lets Ferry allow the UI's origin", () => {
    const ui = environmentOf('temporal-ui');
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe('http://localhost:8080/codec');
    expect(
      environmentOf('temporal-ui', { FERRY_PUBLIC_URL: 'https://ferry.contoso.example' }).TEMPORAL_CODEC_ENDPOINT,
    ).toBe('https://ferry.contoso.example/codec');
    expect(ui.TEMPORAL_CODEC_PASS_ACCESS_TOKEN).toBe('false');
    // The UI's pages come from TEMPORAL_UI_URL's origin: the origin Ferry's CORS allows.
    expect(new URL(loadEnv(containerEnvironment('ferry-api')).temporal.uiUrl!).origin).toBe(
      `http://localhost:${publishedPorts('temporal-ui')[0].split(':')[1]}`,
    );
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
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
  });

  it('gives the non-root user the data directory (a fresh ferry-data volume takes its owner from the image)', () => {
    const dataDir = /FERRY_DATA_DIR=(\S+)/.exec(dockerfile)?.[1];
    expect(dataDir).toBe('/var/lib/ferry');
    expect(dockerfile).toMatch(new RegExp(`chown node:node ${dataDir}\\b`));
    expect(dockerfile.indexOf('chown node:node')).toBeLessThan(dockerfile.lastIndexOf('USER node'));
  });

  it('keeps local state, secrets and node_modules out of the image', () => {
    // .tools holds the Temporal CLI `npm run setup:temporal` builds (a quarter of a gigabyte).
    for (const entry of ['node_modules', '.ferry', '.tools', '.env', '.git']) expect(ignored).toContain(entry);
  });

  it('ships no development infrastructure: dev/ stays out, and the worker, API and keys commands import nothing from it', async () => {
    expect(ignored).toContain('dev');
    const { build } = await import('esbuild');
    const entryPoints = ['workers/worker.ts', 'workers/api.ts', 'workers/keys.ts', 'workers/start.ts'].map((f) =>
      fileURLToPath(new URL(f, root)),
    );
    const result = await build({
      entryPoints,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outdir: 'unused',
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.startsWith('workers/'))).toBe(true);
    // npm start falls back to the in-repo Temporal service with a dynamic import, only when it must.
    const bundledFromDev = Object.entries(result.metafile.inputs)
      .filter(([file]) => file.startsWith('dev/'))
      .map(([file]) => file);
    const staticFromDev = Object.entries(result.metafile.inputs)
      .filter(([file]) => !file.startsWith('dev/'))
      .flatMap(([file, input]) =>
        input.imports
          .filter((i) => i.path.startsWith('dev/') && i.kind === 'import-statement')
          .map((i) => `${file} -> ${i.path}`),
      );
    expect(staticFromDev).toEqual([]);
    expect(bundledFromDev.every((f) => f.startsWith('dev/temporal-service/'))).toBe(true);
  });
});

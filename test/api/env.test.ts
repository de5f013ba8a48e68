// workers/env.ts: the environment shared by npm start, the worker and the API.
import { describe, expect, it } from 'vitest';
import { parseNetwork } from '../../scim/index.ts';
import { EnvError, loadEnv } from '../../workers/env.ts';

const KEY_HEX = 'a'.repeat(64);
const KEY_B64 = Buffer.alloc(32, 7).toString('base64');

function failure(env: Record<string, string>): EnvError {
  try {
    loadEnv(env);
  } catch (error) {
    if (error instanceof EnvError) return error;
    throw error;
  }
  throw new Error('loadEnv accepted a bad environment');
}

describe('loadEnv', () => {
  it('runs with an empty environment on embedded defaults', () => {
    expect(loadEnv({})).toEqual({
      databaseUrl: null,
      dataDir: './.ferry',
      temporal: { address: null, namespace: 'default', taskQueue: 'ferry', uiUrl: null, tls: null, apiKey: null },
      payloadKeys: [],
      host: '127.0.0.1',
      port: 8080,
      apiKeys: [],
      encryptionKey: null,
      smtp: null,
      logLevel: 'info',
      logLevels: {},
      workerHttp: null,
      metricsToken: null,
      temporalMetricsAddress: null,
      allowInsecureLoopback: false,
      allowedTargetNetworks: [],
      workflowBundlePath: null,
    });
  });

  it('reads every variable', () => {
    const env = loadEnv({
      DATABASE_URL: 'postgres://ferry:pw@db:5432/ferry',
      FERRY_DATA_DIR: '/var/lib/ferry',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      TEMPORAL_UI_URL: 'https://temporal.contoso.example/ui/',
      FERRY_TASK_QUEUE: 'ferry-eu',
      HOST: '0.0.0.0',
      PORT: '9000',
      FERRY_API_KEYS: ' key-one-0123456789 , key-two-0123456789,, ',
      FERRY_ENCRYPTION_KEY: KEY_HEX,
      SMTP_HOST: 'mail.internal',
      SMTP_PORT: '25',
      SMTP_FROM: 'ferry@contoso.example',
      LOG_LEVEL: 'debug',
      FERRY_ALLOW_INSECURE_LOOPBACK: '1',
      FERRY_ALLOWED_TARGET_NETWORKS: '10.0.0.0/8, fd00::/8',
      FERRY_WORKFLOW_BUNDLE: '/opt/ferry/workflow-bundle.js',
      FERRY_LOG_LEVELS: 'scim=debug, api=warn',
      FERRY_WORKER_HTTP_PORT: '9464',
      FERRY_METRICS_TOKEN: 'metrics-token-0123456789',
      FERRY_TEMPORAL_METRICS_ADDRESS: '0.0.0.0:9465',
    });
    expect(env).toEqual({
      databaseUrl: 'postgres://ferry:pw@db:5432/ferry',
      dataDir: '/var/lib/ferry',
      temporal: {
        address: 'temporal:7233',
        namespace: 'prod',
        taskQueue: 'ferry-eu',
        uiUrl: 'https://temporal.contoso.example/ui',
        tls: null,
        apiKey: null,
      },
      payloadKeys: [],
      host: '0.0.0.0',
      port: 9000,
      apiKeys: ['key-one-0123456789', 'key-two-0123456789'],
      encryptionKey: KEY_HEX,
      smtp: {
        url: null,
        host: 'mail.internal',
        port: 25,
        from: 'ferry@contoso.example',
        secure: false,
        startTls: 'auto',
        user: null,
        password: null,
        tlsCaFile: null,
      },
      logLevel: 'debug',
      logLevels: { scim: 'debug', api: 'warn' },
      workerHttp: { host: '0.0.0.0', port: 9464 },
      metricsToken: 'metrics-token-0123456789',
      temporalMetricsAddress: '0.0.0.0:9465',
      allowInsecureLoopback: true,
      allowedTargetNetworks: [parseNetwork('10.0.0.0/8'), parseNetwork('fd00::/8')],
      workflowBundlePath: '/opt/ferry/workflow-bundle.js',
    });
  });

  it('reads TLS, mTLS and the API key for Temporal; TLS is on as soon as any of them is given', () => {
    const mtls = loadEnv({
      TEMPORAL_ADDRESS: 'temporal.contoso.example:7233',
      TEMPORAL_TLS_CERT: '/run/secrets/client.pem',
      TEMPORAL_TLS_KEY: '/run/secrets/client.key',
      TEMPORAL_TLS_CA: '/run/secrets/ca.pem',
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    }).temporal;
    expect(mtls).toMatchObject({
      tls: {
        certFile: '/run/secrets/client.pem',
        keyFile: '/run/secrets/client.key',
        caFile: '/run/secrets/ca.pem',
        serverName: 'temporal.internal',
      },
      apiKey: null,
    });
    expect(loadEnv({ TEMPORAL_API_KEY: 'cloud-key' }).temporal).toMatchObject({
      tls: { certFile: null, keyFile: null, caFile: null, serverName: null },
      apiKey: 'cloud-key',
    });
    expect(loadEnv({ TEMPORAL_TLS: '1' }).temporal.tls).toEqual({
      certFile: null,
      keyFile: null,
      caFile: null,
      serverName: null,
    });
    expect(loadEnv({ TEMPORAL_TLS: '0' }).temporal.tls).toBeNull();
  });

  it('refuses half an mTLS pair, and an API key or TLS files with TEMPORAL_TLS=0', () => {
    expect(failure({ TEMPORAL_TLS_CERT: '/c.pem' }).issues).toEqual([
      { variable: 'TEMPORAL_TLS_KEY', message: 'must be set with TEMPORAL_TLS_CERT (mTLS needs both)' },
    ]);
    expect(failure({ TEMPORAL_TLS_KEY: '/c.key' }).issues.map((i) => i.variable)).toEqual(['TEMPORAL_TLS_CERT']);
    expect(failure({ TEMPORAL_TLS: '0', TEMPORAL_API_KEY: 'secret-api-key' }).issues).toEqual([
      {
        variable: 'TEMPORAL_TLS',
        message: 'is 0, but TLS settings or TEMPORAL_API_KEY are given (an API key is only sent over TLS)',
      },
    ]);
    expect(failure({ TEMPORAL_TLS: 'yes' }).issues.map((i) => i.variable)).toEqual(['TEMPORAL_TLS']);
    expect(failure({ TEMPORAL_TLS_SERVER_NAME: 'not a host' }).issues.map((i) => i.variable)).toEqual([
      'TEMPORAL_TLS_SERVER_NAME',
    ]);
    // The message never repeats the API key.
    expect(failure({ TEMPORAL_TLS: '0', TEMPORAL_API_KEY: 'secret-api-key' }).message).not.toContain('secret-api-key');
  });

  it('reads FERRY_PAYLOAD_KEYS as id:key pairs in order, and names a bad entry without echoing a key', () => {
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(32, 2);
    expect(
      loadEnv({ FERRY_PAYLOAD_KEYS: ` 2026-11:${k1.toString('base64')} , 2025.q3:${k2.toString('hex')}` }).payloadKeys,
    ).toEqual([
      { id: '2026-11', key: k1 },
      { id: '2025.q3', key: k2 },
    ]);
    const short = failure({ FERRY_PAYLOAD_KEYS: `a:${k1.toString('base64')},b:c2hvcnQ=` });
    expect(short.issues).toEqual([
      { variable: 'FERRY_PAYLOAD_KEYS', message: 'entry 2 (b): the key must be 32 bytes, base64 or 64 hex characters' },
    ]);
    expect(short.message).not.toContain('c2hvcnQ=');
    expect(failure({ FERRY_PAYLOAD_KEYS: k1.toString('base64') }).issues[0].message).toMatch(/entry 1 must be id:key/);
    expect(
      failure({ FERRY_PAYLOAD_KEYS: `a:${k1.toString('base64')},a:${k2.toString('base64')}` }).issues[0].message,
    ).toBe('entry 2: the id a is given twice');
  });

  it('names FERRY_LOG_LEVELS and FERRY_WORKER_HTTP_PORT when they cannot be read', () => {
    expect(failure({ FERRY_LOG_LEVELS: 'scim=loud' }).issues[0].variable).toBe('FERRY_LOG_LEVELS');
    expect(failure({ FERRY_WORKER_HTTP_PORT: '70000' }).issues[0].variable).toBe('FERRY_WORKER_HTTP_PORT');
  });

  it('serves no Temporal SDK metrics unless FERRY_TEMPORAL_METRICS_ADDRESS is set; reads IPv4 and [IPv6] addresses', () => {
    expect(loadEnv({}).temporalMetricsAddress).toBeNull();
    expect(loadEnv({ FERRY_TEMPORAL_METRICS_ADDRESS: ' 127.0.0.1:9465 ' }).temporalMetricsAddress).toBe(
      '127.0.0.1:9465',
    );
    expect(loadEnv({ FERRY_TEMPORAL_METRICS_ADDRESS: '[::]:9465' }).temporalMetricsAddress).toBe('[::]:9465');
  });

  it('refuses a FERRY_TEMPORAL_METRICS_ADDRESS that is not ip:port, naming the variable', () => {
    // Host names too: the SDK runtime binds a socket address and would refuse them at start.
    for (const value of [
      '9465',
      'localhost:9465',
      '127.0.0.1',
      '127.0.0.1:0',
      '127.0.0.1:70000',
      '::1:9465',
      'http://127.0.0.1:9465',
    ]) {
      const error = failure({ FERRY_TEMPORAL_METRICS_ADDRESS: value });
      expect(error.issues).toEqual([
        {
          variable: 'FERRY_TEMPORAL_METRICS_ADDRESS',
          message:
            'must be ip:port with an IP address (not a host name) and a port 1–65535, e.g. 127.0.0.1:9465 or [::]:9465',
        },
      ]);
      expect(error.message).toContain('FERRY_TEMPORAL_METRICS_ADDRESS');
    }
  });

  it('names FERRY_ALLOW_INSECURE_LOOPBACK when it is neither 0 nor 1', () => {
    expect(failure({ FERRY_ALLOW_INSECURE_LOOPBACK: 'yes' }).issues).toEqual([
      { variable: 'FERRY_ALLOW_INSECURE_LOOPBACK', message: 'must be 0 or 1' },
    ]);
  });

  it('names FERRY_ALLOWED_TARGET_NETWORKS and the entry that is not a network, never its text', () => {
    expect(failure({ FERRY_ALLOWED_TARGET_NETWORKS: '10.0.0.0/8,intranet.corp' }).issues).toEqual([
      {
        variable: 'FERRY_ALLOWED_TARGET_NETWORKS',
        message: 'entry 2 is not an IPv4 or IPv6 network in CIDR notation (e.g. 10.0.0.0/8 or fd00::/8)',
      },
    ]);
    expect(failure({ FERRY_ALLOWED_TARGET_NETWORKS: '10.1.2.3/8' }).issues[0].message).toMatch(
      /^entry 1 has address bits set past its prefix length/,
    );
  });

  it('names TEMPORAL_UI_URL when it is not an http(s) URL without query', () => {
    for (const bad of ['temporal-ui:8080', 'ftp://ui.example', 'http://ui.example/?q=1', 'http://ui example']) {
      expect(failure({ TEMPORAL_UI_URL: bad }).issues.map((i) => i.variable)).toEqual(['TEMPORAL_UI_URL']);
    }
  });

  it('names SMTP_STARTTLS and SMTP_SECURE when they are not one of their values', () => {
    expect(failure({ SMTP_HOST: 'mail', SMTP_STARTTLS: 'maybe', SMTP_SECURE: 'yes' }).issues).toEqual([
      { variable: 'SMTP_SECURE', message: 'must be 0 or 1' },
      { variable: 'SMTP_STARTTLS', message: 'must be auto, required or off' },
    ]);
  });

  it('speaks TLS from the first byte on port 465 unless SMTP_SECURE says otherwise', () => {
    expect(loadEnv({ SMTP_HOST: 'mail', SMTP_PORT: '465' }).smtp?.secure).toBe(true);
    expect(loadEnv({ SMTP_HOST: 'mail', SMTP_PORT: '465', SMTP_SECURE: '0' }).smtp?.secure).toBe(false);
    expect(loadEnv({ SMTP_HOST: 'mail' }).smtp?.secure).toBe(false);
  });

  it('treats empty strings as unset (docker-compose passes VAR= for blanks)', () => {
    const env = loadEnv({ DATABASE_URL: '', PORT: ' ', TEMPORAL_ADDRESS: '', FERRY_API_KEYS: '' });
    expect(env.databaseUrl).toBeNull();
    expect(env.port).toBe(8080);
    expect(env.temporal.address).toBeNull();
    expect(env.apiKeys).toEqual([]);
  });

  it('accepts SMTP_URL and a base64 encryption key', () => {
    const env = loadEnv({ SMTP_URL: 'smtps://u:p@mail.example:465', FERRY_ENCRYPTION_KEY: KEY_B64, PORT: '0' });
    expect(env.smtp).toEqual({
      url: 'smtps://u:p@mail.example:465',
      host: null,
      port: 587,
      from: 'Ferry <ferry@localhost>',
      secure: false,
      startTls: 'auto',
      user: null,
      password: null,
      tlsCaFile: null,
    });
    expect(env.encryptionKey).toBe(KEY_B64);
    expect(env.port).toBe(0);
  });

  it('names every bad variable in one error', () => {
    const error = failure({
      DATABASE_URL: 'mysql://x',
      TEMPORAL_ADDRESS: 'temporal',
      PORT: '80a',
      SMTP_PORT: '70000',
      FERRY_API_KEYS: 'short',
      LOG_LEVEL: 'loud',
    });
    expect(error.issues.map((i) => i.variable).sort()).toEqual(
      ['DATABASE_URL', 'FERRY_API_KEYS', 'LOG_LEVEL', 'PORT', 'SMTP_PORT', 'TEMPORAL_ADDRESS'].sort(),
    );
    for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'PORT', 'SMTP_PORT', 'FERRY_API_KEYS', 'LOG_LEVEL']) {
      expect(error.message).toContain(name);
    }
  });

  it('never repeats a secret value in its error', () => {
    const secretKey = 'not-a-valid-encryption-key-but-secret';
    const error = failure({ FERRY_ENCRYPTION_KEY: secretKey, FERRY_API_KEYS: 'tiny-secret' });
    expect(error.issues.map((i) => i.variable).sort()).toEqual(['FERRY_API_KEYS', 'FERRY_ENCRYPTION_KEY']);
    expect(error.message).not.toContain(secretKey);
    expect(error.message).not.toContain('tiny-secret');
  });

  it('reads process.env by default', () => {
    const before = process.env.FERRY_TASK_QUEUE;
    process.env.FERRY_TASK_QUEUE = 'from-process-env';
    try {
      expect(loadEnv().temporal.taskQueue).toBe('from-process-env');
    } finally {
      if (before === undefined) delete process.env.FERRY_TASK_QUEUE;
      else process.env.FERRY_TASK_QUEUE = before;
    }
  });
});

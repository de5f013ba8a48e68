// workers/env.ts: the environment shared by npm start, the worker and the API.
import { describe, expect, it } from 'vitest';
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
      temporal: { address: null, namespace: 'default', taskQueue: 'ferry' },
      host: '127.0.0.1',
      port: 8080,
      apiKeys: [],
      encryptionKey: null,
      smtp: null,
      logLevel: 'info',
      allowInsecureLoopback: false,
      workflowBundlePath: null,
    });
  });

  it('reads every variable', () => {
    const env = loadEnv({
      DATABASE_URL: 'postgres://ferry:pw@db:5432/ferry',
      FERRY_DATA_DIR: '/var/lib/ferry',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'prod',
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
      FERRY_WORKFLOW_BUNDLE: '/opt/ferry/workflow-bundle.js',
    });
    expect(env).toEqual({
      databaseUrl: 'postgres://ferry:pw@db:5432/ferry',
      dataDir: '/var/lib/ferry',
      temporal: { address: 'temporal:7233', namespace: 'prod', taskQueue: 'ferry-eu' },
      host: '0.0.0.0',
      port: 9000,
      apiKeys: ['key-one-0123456789', 'key-two-0123456789'],
      encryptionKey: KEY_HEX,
      smtp: { url: null, host: 'mail.internal', port: 25, from: 'ferry@contoso.example' },
      logLevel: 'debug',
      allowInsecureLoopback: true,
      workflowBundlePath: '/opt/ferry/workflow-bundle.js',
    });
  });

  it('names FERRY_ALLOW_INSECURE_LOOPBACK when it is neither 0 nor 1', () => {
    expect(failure({ FERRY_ALLOW_INSECURE_LOOPBACK: 'yes' }).issues).toEqual([
      { variable: 'FERRY_ALLOW_INSECURE_LOOPBACK', message: 'must be 0 or 1' },
    ]);
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

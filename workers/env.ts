// Ferry's environment variables, parsed once with zod at start (DESIGN.md §7). Shared by
// `npm start`, the worker and the API so that every process reads the same names the same way.
// A bad environment fails with one error naming every bad variable, never echoing a secret.
import { z } from 'zod';
import { parseEncryptionKey } from '../store/crypto.ts';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const port = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? String(fallback) : v.trim()))
    .pipe(
      z
        .string()
        .regex(/^\d+$/, 'must be a whole number')
        .transform(Number)
        .pipe(z.number().int().min(0, 'must be 0–65535').max(65535, 'must be 0–65535')),
    );

const withDefault = (fallback: string) => optionalText.transform((v) => v ?? fallback);

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const envSchema = z.object({
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  FERRY_DATA_DIR: withDefault('./.ferry'),
  TEMPORAL_ADDRESS: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233')
      .optional(),
  ),
  TEMPORAL_NAMESPACE: withDefault('default'),
  FERRY_TASK_QUEUE: withDefault('ferry'),
  HOST: withDefault('127.0.0.1'),
  PORT: port(8080),
  FERRY_API_KEYS: optionalText
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k.length > 0),
    )
    .pipe(
      z.array(z.string().min(16, 'each key must be at least 16 characters').regex(/^\S+$/, 'keys contain no spaces')),
    ),
  FERRY_ENCRYPTION_KEY: optionalText.pipe(
    z
      .string()
      .refine((v) => {
        try {
          parseEncryptionKey(v);
          return true;
        } catch {
          return false;
        }
      }, 'must be 32 bytes as 64 hex characters or base64 (openssl rand -base64 32)')
      .optional(),
  ),
  SMTP_URL: optionalText.pipe(
    z
      .string()
      .regex(/^smtps?:\/\/\S+$/, 'must be an smtp:// or smtps:// URL')
      .optional(),
  ),
  SMTP_HOST: optionalText,
  SMTP_PORT: port(587),
  SMTP_FROM: withDefault('Ferry <ferry@localhost>'),
  FERRY_ALLOW_INSECURE_LOOPBACK: optionalText.pipe(z.enum(['0', '1'], { error: 'must be 0 or 1' }).optional()),
  FERRY_WORKFLOW_BUNDLE: optionalText,
  LOG_LEVEL: withDefault('info').pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

/** SMTP settings for notification e-mail; null when neither SMTP_URL nor SMTP_HOST is set. */
export interface SmtpEnv {
  /** SMTP_URL when given (it wins over host/port), e.g. smtps://user:pass@mail.example:465. */
  url: string | null;
  host: string | null;
  port: number;
  from: string;
}

export interface FerryEnv {
  /** Postgres URL; null = embedded PGlite under dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  temporal: {
    /** host:port of a Temporal frontend; null = start one locally (npm start). */
    address: string | null;
    namespace: string;
    taskQueue: string;
  };
  /** Interface the API listens on. */
  host: string;
  port: number;
  /** Accepted API keys; empty = none configured (npm start generates one). */
  apiKeys: string[];
  /** Secret-encryption key as given; null = none configured (npm start generates one). */
  encryptionKey: string | null;
  smtp: SmtpEnv | null;
  logLevel: LogLevel;
  /** Allow plain http to loopback SCIM targets (demo, tests, bench); https is required otherwise. */
  allowInsecureLoopback: boolean;
  /** Prebuilt workflow bundle (skips bundling at start); null = bundle workflows/ at start. */
  workflowBundlePath: string | null;
}

/** Thrown by loadEnv; `issues` names each bad variable (values are never included). */
export class EnvError extends Error {
  readonly issues: { variable: string; message: string }[];

  constructor(issues: { variable: string; message: string }[]) {
    super(`Invalid environment: ${issues.map((i) => `${i.variable} ${i.message}`).join('; ')}`);
    this.name = 'EnvError';
    this.issues = issues;
  }
}

/** Environment variables Ferry reads, for documentation and `--help` output. */
export const ENV_VARIABLES = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

export function loadEnv(env: Record<string, string | undefined> = process.env): FerryEnv {
  const picked = Object.fromEntries(ENV_VARIABLES.map((name) => [name, env[name]]));
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      message: issue.message,
    }));
    // One line per variable: the first problem is enough to fix it.
    const seen = new Set<string>();
    throw new EnvError(issues.filter((i) => !seen.has(i.variable) && seen.add(i.variable)));
  }
  const e = parsed.data;
  const smtpConfigured = e.SMTP_URL !== undefined || e.SMTP_HOST !== undefined;
  return {
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir: e.FERRY_DATA_DIR,
    temporal: { address: e.TEMPORAL_ADDRESS ?? null, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.FERRY_TASK_QUEUE },
    host: e.HOST,
    port: e.PORT,
    apiKeys: e.FERRY_API_KEYS,
    encryptionKey: e.FERRY_ENCRYPTION_KEY ?? null,
    smtp: smtpConfigured
      ? { url: e.SMTP_URL ?? null, host: e.SMTP_HOST ?? null, port: e.SMTP_PORT, from: e.SMTP_FROM }
      : null,
    logLevel: e.LOG_LEVEL,
    allowInsecureLoopback: e.FERRY_ALLOW_INSECURE_LOOPBACK === '1',
    workflowBundlePath: e.FERRY_WORKFLOW_BUNDLE ?? null,
  };
}

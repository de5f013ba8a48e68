// Ferry's environment variables, parsed once with zod at start. Shared by
// `npm start`, the worker and the API so that every process reads the same names the same way.
// A bad environment fails with one error naming every bad variable, never echoing a secret.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parseModuleLevels } from '../api/logger.ts';
import { parseNetworkList, type NetworkRange } from '../scim/address-policy.ts';
import { parseEncryptionKey } from '../store/crypto.ts';
import { PAYLOAD_KEY_ID_PATTERN, type PayloadKey } from './payload-codec.ts';
import { TASK_QUEUE } from '../workflows/messages.ts';

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

const zeroOrOne = optionalText.pipe(z.enum(['0', '1'], { error: 'must be 0 or 1' }).optional());

/** `id:key,id:key` — ids as PAYLOAD_KEY_ID_PATTERN, keys 32 bytes (base64 or 64 hex); ids unique. */
const payloadKeyList = optionalText.transform((value, ctx): PayloadKey[] => {
  const keys: PayloadKey[] = [];
  for (const [index, entry] of (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0)
    .entries()) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon).trim();
    const where = `entry ${index + 1}`;
    if (!PAYLOAD_KEY_ID_PATTERN.test(id)) {
      ctx.addIssue({ code: 'custom', message: `${where} must be id:key, the id of letters, digits, . _ - (≤ 64)` });
      return z.NEVER;
    }
    if (keys.some((k) => k.id === id)) {
      ctx.addIssue({ code: 'custom', message: `${where}: the id ${id} is given twice` });
      return z.NEVER;
    }
    try {
      keys.push({ id, key: parseEncryptionKey(entry.slice(colon + 1)) });
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `${where} (${id}): the key must be 32 bytes, base64 or 64 hex characters`,
      });
      return z.NEVER;
    }
  }
  return keys;
});

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const SMTP_STARTTLS_MODES = ['auto', 'required', 'off'] as const;
export type SmtpStartTls = (typeof SMTP_STARTTLS_MODES)[number];

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
  TEMPORAL_TLS: zeroOrOne,
  TEMPORAL_TLS_CERT: optionalText,
  TEMPORAL_TLS_KEY: optionalText,
  TEMPORAL_TLS_CA: optionalText,
  TEMPORAL_TLS_SERVER_NAME: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/, 'must be a host name, e.g. temporal.example.com')
      .optional(),
  ),
  TEMPORAL_API_KEY: optionalText,
  TEMPORAL_UI_URL: optionalText.pipe(
    z
      .string()
      .regex(
        /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/,
        'must be an http:// or https:// URL without query, e.g. http://127.0.0.1:8233',
      )
      .transform((v) => v.replace(/\/+$/, ''))
      .optional(),
  ),
  FERRY_TASK_QUEUE: withDefault(TASK_QUEUE),
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
  FERRY_PAYLOAD_KEYS: payloadKeyList,
  SMTP_URL: optionalText.pipe(
    z
      .string()
      .regex(/^smtps?:\/\/\S+$/, 'must be an smtp:// or smtps:// URL')
      .optional(),
  ),
  SMTP_HOST: optionalText,
  SMTP_PORT: port(587),
  SMTP_FROM: withDefault('Ferry <ferry@localhost>'),
  SMTP_SECURE: zeroOrOne,
  SMTP_STARTTLS: withDefault('auto').pipe(z.enum(SMTP_STARTTLS_MODES, { error: 'must be auto, required or off' })),
  SMTP_USER: optionalText,
  SMTP_PASSWORD: optionalText,
  SMTP_TLS_CA: optionalText,
  FERRY_ALLOW_INSECURE_LOOPBACK: zeroOrOne,
  FERRY_ALLOWED_TARGET_NETWORKS: optionalText.transform((value, context): NetworkRange[] => {
    try {
      return parseNetworkList(value ?? '');
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  FERRY_WORKFLOW_BUNDLE: optionalText,
  LOG_LEVEL: withDefault('info').pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })),
  FERRY_LOG_LEVELS: optionalText.transform((value, context): Record<string, LogLevel> => {
    try {
      return parseModuleLevels(value ?? '');
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  FERRY_WORKER_HTTP_PORT: optionalText.pipe(
    z
      .string()
      .regex(/^\d+$/, 'must be a port number (0 picks a free one)')
      .transform(Number)
      .refine((n) => n <= 65535, 'must be a port number (0 picks a free one)')
      .optional(),
  ),
  FERRY_WORKER_HTTP_HOST: withDefault('0.0.0.0'),
  FERRY_METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  FERRY_TEMPORAL_METRICS_ADDRESS: optionalText.pipe(
    z
      .string()
      .refine(
        isSocketAddress,
        'must be ip:port with an IP address (not a host name) and a port 1–65535, e.g. 127.0.0.1:9465 or [::]:9465',
      )
      .optional(),
  ),
});

/**
 * `1.2.3.4:port` or `[v6]:port`, port 1–65535: the Temporal Core runtime binds its Prometheus
 * server to a socket address and refuses host names; port 0 would pick a port nobody can scrape.
 */
function isSocketAddress(value: string): boolean {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (!match) return false;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return false;
  return match[1] !== undefined ? isIPv6(match[1]) : isIPv4(match[2]);
}

export type LogLevel = (typeof LOG_LEVELS)[number];

/** SMTP settings for notification e-mail; null when neither SMTP_URL nor SMTP_HOST is set. */
export interface SmtpEnv {
  /** SMTP_URL when given (it wins over host/port), e.g. smtps://user:pass@mail.example:465. */
  url: string | null;
  host: string | null;
  port: number;
  from: string;
  /** Host/port mode: TLS from the first byte (SMTP_SECURE; default when the port is 465). */
  secure: boolean;
  /** Host/port mode: `auto` upgrades with STARTTLS when offered, `required` refuses to send without it, `off` never upgrades. */
  startTls: SmtpStartTls;
  /** Host/port mode: credentials for AUTH (the password is a secret: never logged). */
  user: string | null;
  password: string | null;
  /** Path of a PEM file of CA certificates to verify the server with (a private relay's CA). */
  tlsCaFile: string | null;
}

/** TLS (and mTLS) to Temporal. Each file is a path to PEM, or the PEM text itself. */
export interface TemporalTlsEnv {
  /** Client certificate for mTLS (with keyFile), or null. */
  certFile: string | null;
  keyFile: string | null;
  /** CA certificates to verify the server with; null = the system's. */
  caFile: string | null;
  /** Name the server's certificate is checked against (and SNI); null = the host of TEMPORAL_ADDRESS. */
  serverName: string | null;
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
    /** Base URL of the Temporal Web UI (no trailing slash); null = unknown, unless npm start runs a dev server. */
    uiUrl: string | null;
    /** TLS to the Temporal frontend; null = plain gRPC (workers/temporal-connection.ts reads the files). */
    tls: TemporalTlsEnv | null;
    /** API key sent as `Authorization: Bearer …` (Temporal Cloud); a secret, never logged. */
    apiKey: string | null;
  };
  /** FERRY_PAYLOAD_KEYS in order (the first encrypts payloads); empty = the key derived from the encryption key. */
  payloadKeys: PayloadKey[];
  /** Interface the API listens on. */
  host: string;
  port: number;
  /** Accepted API keys; empty = none configured (npm start generates one). */
  apiKeys: string[];
  /** Secret-encryption key as given; null = none configured (npm start generates one). */
  encryptionKey: string | null;
  smtp: SmtpEnv | null;
  logLevel: LogLevel;
  /** Levels of single modules (FERRY_LOG_LEVELS, e.g. scim=debug,api=warn); the others log at logLevel. */
  logLevels: Record<string, LogLevel>;
  /** The worker's own HTTP port for /metrics, /healthz, /readyz (FERRY_WORKER_HTTP_PORT); null = none. */
  workerHttp: { host: string; port: number } | null;
  /** A bearer token that may read GET /metrics besides API keys (FERRY_METRICS_TOKEN); a secret. */
  metricsToken: string | null;
  /** ip:port where the Temporal SDK runtime serves its own Prometheus metrics (FERRY_TEMPORAL_METRICS_ADDRESS); null = off. */
  temporalMetricsAddress: string | null;
  /** Allow loopback SCIM targets, also over plain http (demo, tests, bench); https to public addresses otherwise. */
  allowInsecureLoopback: boolean;
  /** Networks SCIM targets and token URLs may be in although private, link-local, … (FERRY_ALLOWED_TARGET_NETWORKS). */
  allowedTargetNetworks: NetworkRange[];
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
  const tlsAsked =
    [e.TEMPORAL_TLS_CERT, e.TEMPORAL_TLS_KEY, e.TEMPORAL_TLS_CA, e.TEMPORAL_TLS_SERVER_NAME].some(
      (v) => v !== undefined,
    ) || e.TEMPORAL_API_KEY !== undefined;
  const tlsIssues: { variable: string; message: string }[] = [];
  if ((e.TEMPORAL_TLS_CERT === undefined) !== (e.TEMPORAL_TLS_KEY === undefined)) {
    tlsIssues.push(
      e.TEMPORAL_TLS_CERT === undefined
        ? { variable: 'TEMPORAL_TLS_CERT', message: 'must be set with TEMPORAL_TLS_KEY (mTLS needs both)' }
        : { variable: 'TEMPORAL_TLS_KEY', message: 'must be set with TEMPORAL_TLS_CERT (mTLS needs both)' },
    );
  }
  if (e.TEMPORAL_TLS === '0' && tlsAsked) {
    tlsIssues.push({
      variable: 'TEMPORAL_TLS',
      message: 'is 0, but TLS settings or TEMPORAL_API_KEY are given (an API key is only sent over TLS)',
    });
  }
  if (tlsIssues.length > 0) throw new EnvError(tlsIssues);
  const tlsOn = e.TEMPORAL_TLS === '1' || (e.TEMPORAL_TLS === undefined && tlsAsked);
  const smtpConfigured = e.SMTP_URL !== undefined || e.SMTP_HOST !== undefined;
  return {
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir: e.FERRY_DATA_DIR,
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? null,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.FERRY_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL ?? null,
      tls: tlsOn
        ? {
            certFile: e.TEMPORAL_TLS_CERT ?? null,
            keyFile: e.TEMPORAL_TLS_KEY ?? null,
            caFile: e.TEMPORAL_TLS_CA ?? null,
            serverName: e.TEMPORAL_TLS_SERVER_NAME ?? null,
          }
        : null,
      apiKey: e.TEMPORAL_API_KEY ?? null,
    },
    payloadKeys: e.FERRY_PAYLOAD_KEYS,
    host: e.HOST,
    port: e.PORT,
    apiKeys: e.FERRY_API_KEYS,
    encryptionKey: e.FERRY_ENCRYPTION_KEY ?? null,
    smtp: smtpConfigured
      ? {
          url: e.SMTP_URL ?? null,
          host: e.SMTP_HOST ?? null,
          port: e.SMTP_PORT,
          from: e.SMTP_FROM,
          secure: e.SMTP_SECURE === undefined ? e.SMTP_PORT === 465 : e.SMTP_SECURE === '1',
          startTls: e.SMTP_STARTTLS,
          user: e.SMTP_USER ?? null,
          password: e.SMTP_PASSWORD ?? null,
          tlsCaFile: e.SMTP_TLS_CA ?? null,
        }
      : null,
    logLevel: e.LOG_LEVEL,
    logLevels: e.FERRY_LOG_LEVELS,
    workerHttp:
      e.FERRY_WORKER_HTTP_PORT === undefined
        ? null
        : { host: e.FERRY_WORKER_HTTP_HOST, port: e.FERRY_WORKER_HTTP_PORT },
    metricsToken: e.FERRY_METRICS_TOKEN ?? null,
    temporalMetricsAddress: e.FERRY_TEMPORAL_METRICS_ADDRESS ?? null,
    allowInsecureLoopback: e.FERRY_ALLOW_INSECURE_LOOPBACK === '1',
    allowedTargetNetworks: e.FERRY_ALLOWED_TARGET_NETWORKS,
    workflowBundlePath: e.FERRY_WORKFLOW_BUNDLE ?? null,
  };
}

// Structured logging over pino: one JSON object per line. Secrets never reach a line: fields whose
// names look like secrets are redacted at any depth (a careless `log.info({ headers })` cannot leak a
// bearer token), and error messages lose the SQL parameters the database driver appends to them and
// the values Postgres quotes in its own messages.
// Each module (api, scim, cycle, worker, workflow…) may log at its own level.
import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `module` and follow that module's level (FERRY_LOG_LEVELS). */
  child(module: string): Logger;
}

const SECRET_FIELD = /authorization|token|secret|password|passwd|api[-_]?key|cookie|credential|encryption[-_]?key/i;

export const REDACTED = '[redacted]';

/**
 * An error message without the parameters the driver appends to a failed query ("Failed query: …
 * params: alice@example.com,…"): they are the rows' values, personal data or secrets.
 */
export function withoutQueryParams(message: string): string {
  const at = message.search(/\n?\s*params:/);
  return at === -1 ? message : `${message.slice(0, at)} [params hidden]`;
}

/** A database error (SQLSTATE code, or the driver's wrapper carrying the query's params). */
function isDatabaseError(error: Error): boolean {
  const { code, params } = error as { code?: unknown; params?: unknown };
  return (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) || Array.isArray(params);
}

/** Postgres quotes the offending value in its messages (`invalid input syntax …: "x"`, `Key (email)=(x)`). */
function withoutQuotedValues(text: string): string {
  return text.replace(/"[^"\n]*"/g, '"[hidden]"').replace(/\(([^()\n]*)\)=\([^()\n]*\)/g, '($1)=([hidden])');
}

function errorFields(error: Error, depth: number): Record<string, unknown> {
  const clean = isDatabaseError(error)
    ? (text: string) => withoutQuotedValues(withoutQueryParams(text))
    : withoutQueryParams;
  const out: Record<string, unknown> = {
    name: error.name,
    message: clean(error.message),
    stack: error.stack ? clean(error.stack) : undefined,
  };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (error.cause !== undefined) out.cause = redact(error.cause, depth + 1);
  return out;
}

/** Copies `value` with every secret-looking field replaced by `[redacted]` and errors made safe. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return errorFields(value, depth);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** `scim=debug,api=warn` → { scim: 'debug', api: 'warn' }; throws naming a bad entry. */
export function parseModuleLevels(text: string): Record<string, LogLevel> {
  const levels: Record<string, LogLevel> = {};
  for (const entry of text.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const [module, level] = entry.split('=').map((s) => s?.trim());
    if (!module || !level || !['debug', 'info', 'warn', 'error'].includes(level)) {
      throw new Error(`"${entry}" is not module=level (levels: debug, info, warn, error)`);
    }
    levels[module] = level as LogLevel;
  }
  return levels;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Levels of single modules, e.g. `{ scim: 'debug' }` (FERRY_LOG_LEVELS); others use `level`. */
  moduleLevels?: Record<string, LogLevel>;
  /** Where lines go (without their newline); stdout by default. */
  write?: (line: string) => void;
  /** Fields added to every line, e.g. `{ service: 'api' }`. */
  base?: LogFields;
  now?: () => Date;
}

function wrap(target: pino.Logger, moduleLevels: Record<string, LogLevel>, level: LogLevel): Logger {
  const emit = (lvl: LogLevel) => (message: string, fields?: LogFields) => {
    if (!target.isLevelEnabled(lvl)) return;
    target[lvl](redact(fields ?? {}) as LogFields, message);
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child(module: string) {
      return wrap(target.child({ module }, { level: moduleLevels[module] ?? level }), moduleLevels, level);
    },
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const destination = { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) };
  const root = pino(
    {
      level,
      base: options.base ?? null,
      messageKey: 'msg',
      timestamp: () => `,"time":"${now().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      // A second line of defence for the usual places, should a field reach pino unredacted.
      redact: {
        paths: ['headers.authorization', 'req.headers.authorization', '*.token', '*.secret', '*.password'],
        censor: REDACTED,
      },
    },
    destination,
  );
  return wrap(root, options.moduleLevels ?? {}, level);
}

const nothing = () => {};
/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: nothing,
  info: nothing,
  warn: nothing,
  error: nothing,
  child: () => silentLogger,
};

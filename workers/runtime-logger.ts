// The Temporal SDK's log (worker state, and the workflows' replay-aware `log` lines: job state
// changes, quarantine) written through Ferry's logger, so every line is the same JSON with the same
// redaction. Modules: `workflow` for workflow code, `temporal` for the rest of the SDK.
// The same runtime serves the SDK's own metrics (task slots, pollers, task latencies, sticky cache)
// as Prometheus text when FERRY_TEMPORAL_METRICS_ADDRESS is set.
import { IllegalStateError } from '@temporalio/common';
import { DefaultLogger, Runtime, type LogEntry, type LogLevel as TemporalLogLevel } from '@temporalio/worker';
import type { Logger, LogLevel } from '../api/logger.ts';

const TEMPORAL_LEVEL: Record<LogLevel, TemporalLogLevel> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
};

const FERRY_LEVEL: Record<TemporalLogLevel, LogLevel> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Writes one SDK log entry through `logger` (exported for tests). */
export function forwardEntry(workflowLog: Logger, sdkLog: Logger, entry: LogEntry): void {
  const meta = { ...(entry.meta ?? {}) } as Record<string, unknown>;
  const target = meta.sdkComponent === 'workflow' ? workflowLog : sdkLog;
  delete meta.sdkComponent;
  target[FERRY_LEVEL[entry.level]](entry.message, meta);
}

export interface RuntimeOptions {
  /**
   * ip:port (FERRY_TEMPORAL_METRICS_ADDRESS) where the runtime serves the SDK's metrics at
   * `/metrics`, names prefixed `temporal_`; null/undefined = none.
   */
  metricsAddress?: string | null;
}

/**
 * Installs the runtime once per process, before the first worker or NativeConnection; a runtime
 * already installed (a second start in one process, tests) is kept — with a warning when it was
 * asked to serve metrics, which only a new process can add. A metrics address the runtime cannot
 * bind (in use) fails with an error naming FERRY_TEMPORAL_METRICS_ADDRESS.
 */
export function installRuntimeLogger(
  logger: Logger,
  level: LogLevel,
  moduleLevels: Record<string, LogLevel> = {},
  options: RuntimeOptions = {},
) {
  const workflowLog = logger.child('workflow');
  const sdkLog = logger.child('temporal');
  // The runtime drops entries below its own level: the most verbose of Ferry's levels lets all through.
  const levels = [level, moduleLevels.workflow, moduleLevels.temporal].filter((l): l is LogLevel => l !== undefined);
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const lowest = order.find((l) => levels.includes(l)) ?? level;
  const metricsAddress = options.metricsAddress ?? null;
  try {
    Runtime.install({
      logger: new DefaultLogger(TEMPORAL_LEVEL[lowest], (entry) => forwardEntry(workflowLog, sdkLog, entry)),
      ...(metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } } : {}),
    });
    if (metricsAddress) sdkLog.info('serving the Temporal SDK metrics', { url: `http://${metricsAddress}/metrics` });
  } catch (error) {
    if (!(error instanceof IllegalStateError)) {
      throw new Error(
        `FERRY_TEMPORAL_METRICS_ADDRESS: cannot serve the Temporal SDK metrics on ${metricsAddress}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    // Already installed: keep the first.
    if (metricsAddress) {
      sdkLog.warn('the Temporal runtime was already installed in this process: its metrics are not served', {
        metricsAddress,
      });
    }
  }
}

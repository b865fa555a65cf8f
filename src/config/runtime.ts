// The Temporal SDK runtime of a process that runs workers (worker, gateway, `npm start`): its log lines go
// to our pino logger (workflow `log` lines and activity context logs included, with kind, key, workflow
// and run id), and its metrics to a Prometheus endpoint when one is configured.
import { DefaultLogger, Runtime, type LogLevel, type RuntimeOptions } from '@temporalio/worker';
import type pino from 'pino';
import type { Config } from './config';
import { sessionFieldsOf } from './log-context';

const sdkLevels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
const pinoMethod = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** pino's level name as the SDK's (`fatal` → ERROR, `silent` → ERROR: the SDK has nothing quieter). */
function sdkLevelOf(level: string): LogLevel {
  const upper = level.toUpperCase();
  return (sdkLevels as readonly string[]).includes(upper) ? (upper as LogLevel) : 'ERROR';
}

/**
 * The SDK's logger, writing through pino. Lines of workflows and activities (what a session did) pass at
 * the logger's level; the SDK's own chatter (worker state, bundler, core) only from `sdkLevel` up.
 */
export function sdkLogger(logger: pino.Logger, sdkLevel: LogLevel = 'WARN'): DefaultLogger {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const own = sdkLevels.indexOf(sdkLevel);
  return new DefaultLogger(sdkLevelOf(logger.level), ({ level, message, meta }) => {
    const component: unknown = meta?.sdkComponent;
    const aboutSession = component === 'workflow' || component === 'activity';
    if (!aboutSession && sdkLevels.indexOf(level) < own) return;
    const workflowId = typeof meta?.workflowId === 'string' ? meta.workflowId : undefined;
    sdk[pinoMethod[level]]({ ...meta, ...sessionFieldsOf(workflowId) }, message);
  });
}

export interface InstallRuntimeOptions {
  /** Signals the SDK drains its workers on; `npm start` stops things in its own order. */
  shutdownSignals?: RuntimeOptions['shutdownSignals'];
}

/** Installs the process's SDK runtime; call once, before any worker or native connection is made. */
export function installRuntime(
  logger: pino.Logger,
  telemetry: Pick<Config['telemetry'], 'metricsAddress'>,
  opts: InstallRuntimeOptions = {},
): void {
  const { metricsAddress } = telemetry;
  Runtime.install({
    logger: sdkLogger(logger, sdkLevelOf(process.env.TEMPORAL_LOG_LEVEL ?? 'WARN')),
    ...(opts.shutdownSignals ? { shutdownSignals: opts.shutdownSignals } : {}),
    telemetryOptions: {
      // Core's own (Rust) lines, warnings and errors only, through the same logger.
      logging: { forward: {}, filter: { core: 'WARN', other: 'WARN' } },
      ...(metricsAddress
        ? {
            metrics: {
              prometheus: {
                bindAddress: metricsAddress,
                // Prometheus conventions: counters end in _total, durations are `_seconds`.
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }
        : {}),
    },
  });
  if (metricsAddress) logger.info({ metricsAddress }, 'SDK metrics at /metrics');
}

// One structured logger for every process. Authorization headers and tokens are redacted by path,
// so even a careless `log.info({ req })` cannot leak a secret.
import pino from 'pino';
import { currentLogFields } from './log-context';

export type Logger = Pick<pino.Logger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

/** LOG_FORMAT=pretty|json; default: readable lines on a terminal, JSON lines everywhere else. */
function transportFor(format = process.env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json')) {
  if (format !== 'pretty') return undefined;
  return {
    target: 'pino-pretty',
    options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true },
  };
}

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): pino.Logger {
  return pino({
    name,
    level,
    transport: transportFor(),
    // The request or activity a line is about (request id; kind, key, workflow and run id of its session).
    mixin: currentLogFields,
    redact: {
      paths: [
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'headers.authorization',
        '*.headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}

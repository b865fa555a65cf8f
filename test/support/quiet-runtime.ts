// Imported first by Temporal test files: the SDK's runtime logs at WARN unless LOG_LEVEL asks for more.
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

const level = (process.env.TEMPORAL_LOG_LEVEL ?? 'WARN') as LogLevel;
try {
  Runtime.install({ logger: new DefaultLogger(level) });
} catch {
  // Already installed by an earlier test file in this process: keep it (sdk-typescript#614).
}

// Imported first by Temporal test files: the SDK's runtime logs errors only unless TEMPORAL_LOG_LEVEL asks for more (tests provoke many expected activity failures).
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

const level = (process.env.TEMPORAL_LOG_LEVEL ?? 'ERROR') as LogLevel;
try {
  Runtime.install({ logger: new DefaultLogger(level) });
} catch {
  // Already installed by an earlier test file in this process: keep it (sdk-typescript#614).
}

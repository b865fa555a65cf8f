// Where `npm start` keeps its data and its generated config; the demo scripts read the same places.
import { resolve } from 'node:path';

export const projectRoot = resolve(__dirname, '../..');

/** SESSIONFLOW_DATA_DIR lets a second stack (or a test) run beside the default one. */
export function localDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(projectRoot, env.SESSIONFLOW_DATA_DIR ?? '.data');
}

export function localConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.SESSIONFLOW_CONFIG_FILE || resolve(localDataDir(env), 'sessionflow.local.json');
}

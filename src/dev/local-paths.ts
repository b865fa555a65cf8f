// Where `npm start` keeps its data and its generated config; the demo scripts read the same places.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The checkout: two levels up from src/dev or dist/dev, one more from the bench's dist-bench/src/dev. */
function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

export const projectRoot = findProjectRoot(resolve(__dirname, '../..'));

/** SESSIONFLOW_DATA_DIR lets a second stack (or a test) run beside the default one. */
export function localDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(projectRoot, env.SESSIONFLOW_DATA_DIR ?? '.data');
}

export function localConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.SESSIONFLOW_CONFIG_FILE || resolve(localDataDir(env), 'sessionflow.local.json');
}

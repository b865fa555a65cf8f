// Where `npm start` keeps its data and its generated config; the demo scripts read the same places.
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
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

/** The running dev server's pid (and db file), so a launcher that was killed can be cleaned up after. */
export function localServerPidFile(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(localDataDir(env), 'temporal-server.pid');
}

/**
 * The data dir holds tokens, the codec key and every session: ours only (0700). `mkdir`'s mode is
 * filtered by the umask and ignored for an existing dir, hence the explicit chmod. Returns what it tightened.
 */
export function ensurePrivateDir(dir: string): { tightenedFrom?: number } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return tighten(dir, 0o700);
}

/** An existing file or dir readable by others is made owner-only; returns the old mode when it changed. */
export function tighten(path: string, mode: number): { tightenedFrom?: number } {
  const old = statSync(path).mode & 0o777;
  if ((old & ~mode) === 0) return {};
  chmodSync(path, old & mode);
  return { tightenedFrom: old };
}

// Built entrypoints as their own processes (worker, gateway), logging to test-artifacts/, for crash tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';

const artifacts = resolve(__dirname, '../../test-artifacts');

/** Spawns `node <main>` with `env` over the test's own environment; output goes to `<logName>.log`. */
export function spawnBuilt(
  main: string,
  logName: string,
  env: NodeJS.ProcessEnv,
  running: Set<ChildProcess>,
): ChildProcess {
  mkdirSync(artifacts, { recursive: true });
  const log = openSync(join(artifacts, `${logName}.log`), 'w');
  const child = spawn(process.execPath, [main], {
    stdio: ['ignore', log, log],
    env: { ...process.env, ...env },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** SIGKILL, as a power cut or the OOM killer would, and wait until it is gone. */
export async function killed(child: ChildProcess): Promise<void> {
  const exit = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exit;
}

// A real Mosquitto (Debian's package, `scripts/install-mosquitto.sh`) per test file: a free loopback port,
// a private config and persistence dir, its log in test-artifacts/. Restartable on the same dir, so a
// test can stop the broker and find its retained messages and sessions again.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { freePort, spawnServer, stopChild } from '../../src/dev/temporal-dev-server';

const artifacts = resolve(__dirname, '../../test-artifacts');

export function mosquittoBinary(): string {
  const candidates = [process.env.SESSIONFLOW_MOSQUITTO, resolve(__dirname, '../../.tools/bin/mosquitto')];
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error('no Mosquitto: run `bash scripts/install-mosquitto.sh` (npm test does)');
  return found;
}

export interface RunningMosquitto {
  url: string;
  port: number;
  /** Stops the broker (it saves its persistence file) and starts it again on the same port and dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const listening = async (port: number, timeoutMs = 10_000) => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      }).once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port} in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

export async function startMosquitto(name = 'mosquitto'): Promise<RunningMosquitto> {
  mkdirSync(artifacts, { recursive: true });
  const dir = mkdtempSync(join(artifacts, `${name}-`));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      // As root it would switch to the `mosquitto` user, who cannot write our dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'log_dest stdout',
      'log_type all',
      '',
    ].join('\n'),
  );
  let server = spawnServer(mosquittoBinary(), ['-c', conf], { logFile: join(dir, 'mosquitto.log') });
  await listening(port);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async restart() {
      await stopChild(server.child, server.exited);
      server = spawnServer(mosquittoBinary(), ['-c', conf], { logFile: join(dir, 'mosquitto.log') });
      await listening(port);
    },
    async stop() {
      await stopChild(server.child, server.exited);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

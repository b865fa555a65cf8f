// Starting the dev server: a server that cannot start says why instead of only "exited".
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTemporalDevServer } from '../../src/dev/temporal-dev-server';

let dir: string;
let holder: Server;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sessionflow-dev-server-'));
  // Answers nothing: our readiness probe's connections are dropped at once.
  holder = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  port = (holder.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((r) => holder.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('When the port asked for is taken, then the start fails at once, names the address and quotes the end of the server log', async () => {
  const logFile = join(dir, 'temporal.log');
  const started = Date.now();
  const err = await startTemporalDevServer({ port, uiPort: false, logFile }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(Error);
  expect(err!.message).toContain(`127.0.0.1:${port} exited during start`);
  expect(err!.message).toContain(logFile);
  expect(err!.message).toMatch(/address already in use/i);
  expect(Date.now() - started).toBeLessThan(30_000);
});

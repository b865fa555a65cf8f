// Ports for the servers we start. A port picked for a server must not become an outgoing connection's
// local port before the server binds it; and the launcher restarts its server on the same port right
// after stopping the one a crashed run left behind, whose last connections can hold it a while.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startTemporalDevServer } from '../../src/dev/temporal-dev-server';
import { holdPort } from '../support/hold-port';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sessionflow-dev-server-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('When the port asked for is freed while the server waits for it, then the server starts on that port', async () => {
  const { port, release } = await holdPort();
  setTimeout(() => void release(), 2500);
  const server = await startTemporalDevServer({ port, uiPort: false, logFile: join(dir, 'freed.log') });
  try {
    expect(server.address).toBe(`127.0.0.1:${port}`);
  } finally {
    await server.stop();
  }
});

test('When the port asked for stays taken, then the start gives up after its wait, names the address and quotes the end of the server log', async () => {
  const { port, release } = await holdPort();
  const logFile = join(dir, 'taken.log');
  try {
    const started = Date.now();
    const err = await startTemporalDevServer({ port, uiPort: false, logFile, portWaitMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(`127.0.0.1:${port} exited during start`);
    expect(err!.message).toContain(logFile);
    expect(err!.message).toMatch(/address already in use/i);
    expect(Date.now() - started).toBeLessThan(30_000);
  } finally {
    await release();
  }
});

test('When a port is picked for a server, then it lies below the range the kernel gives outgoing connections, and is free', async () => {
  const ephemeralFrom = Number(
    readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
  );
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  for (const port of ports) expect(port).toBeLessThan(ephemeralFrom - 1000);
  const { release } = await holdPort(ports[0]);
  await release();
});

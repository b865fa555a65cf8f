// A port held by something else, for tests of servers that must bind it.
import { createServer, type Server } from 'node:net';

/** A listener on `port` (any free one by default) that drops every connection (readiness probes' too). */
export async function holdPort(port = 0): Promise<{ port: number; release: () => Promise<void> }> {
  const holder: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((done, fail) => {
    holder.once('error', fail);
    holder.listen(port, '127.0.0.1', done);
  });
  return {
    port: (holder.address() as { port: number }).port,
    release: () => new Promise((done) => holder.close(() => done())),
  };
}

// The broker `npm start` runs in its own process (aedes, in memory, on loopback by default), so MQTT works
// out of the box; any other broker (Mosquitto, EMQX, Home Assistant's add-on) is used by setting mqtt.url.
// In-memory: sessions and retained states last as long as the process; the states are published again
// when it starts.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type Aedes from 'aedes';
import { createBroker } from 'aedes';

export interface EmbeddedBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(
  opts: { host?: string; port?: number } = {},
): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const broker: Aedes = createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 1883, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

// Start/stop the HTTP server; port 0 picks a free port (tests).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createApp, type AppDeps } from './app';

export interface RunningWebServer {
  url: string;
  port: number;
  server: Server;
}

export async function startWebServer(
  deps: AppDeps,
  port: number,
  host = '127.0.0.1',
): Promise<RunningWebServer> {
  return listen(createApp(deps), port, host);
}

/** Listens with the same socket limits for any app (the API, a gateway's status server). */
export async function listen(app: Express, port: number, host = '127.0.0.1'): Promise<RunningWebServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  // Slow clients must not pin sockets forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const actual = (server.address() as AddressInfo).port;
  return { url: `http://${host}:${actual}`, port: actual, server };
}

export async function stopWebServer(running: RunningWebServer): Promise<void> {
  running.server.closeIdleConnections();
  await new Promise<void>((resolve, reject) =>
    running.server.close((err) => (err ? reject(err) : resolve())),
  );
}

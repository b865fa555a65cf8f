// Start/stop the HTTP server; port 0 picks a free port (tests).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createApp, type AppDeps } from './app';
import { sessionKinds } from '../config/kinds';
import { ReadModel } from '../read-model/read-model';

export interface RunningWebServer {
  url: string;
  port: number;
  server: Server;
  /** The API's read model (absent on other servers, e.g. a gateway's status server). */
  readModel?: ReadModel;
}

export async function startWebServer(
  deps: Omit<AppDeps, 'readModel'>,
  port: number,
  host = '127.0.0.1',
): Promise<RunningWebServer> {
  const readModel = ReadModel.of(deps.config, deps.temporal, sessionKinds(), deps.logger);
  readModel.start();
  try {
    return { ...(await listen(createApp({ ...deps, readModel }), port, host)), readModel };
  } catch (err) {
    await readModel.stop();
    throw err;
  }
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
  // Ends the change streams, which never go idle by themselves.
  await running.readModel?.stop();
  running.server.closeIdleConnections();
  await new Promise<void>((resolve, reject) =>
    running.server.close((err) => (err ? reject(err) : resolve())),
  );
}

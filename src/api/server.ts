// Start/stop the HTTP(S) server; port 0 picks a free port (tests).
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { UserFacingError } from '../config/run-main';
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
    return {
      ...(await listen(createApp({ ...deps, readModel }), port, host, deps.config.api.tls)),
      readModel,
    };
  } catch (err) {
    await readModel.stop();
    throw err;
  }
}

/**
 * Listens with the same socket limits for any app (the API, a gateway's status server); HTTPS when given
 * a certificate and key (read once, at start: a renewed certificate takes a restart).
 */
export async function listen(
  app: Express,
  port: number,
  host = '127.0.0.1',
  tls?: { certPath: string; keyPath: string },
): Promise<RunningWebServer> {
  const server: Server = tls
    ? createHttpsServer({ cert: readPem(tls.certPath), key: readPem(tls.keyPath) }, app)
    : createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => (server.off('error', reject), resolve()));
  });
  // Slow clients must not pin sockets forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const actual = (server.address() as AddressInfo).port;
  return { url: `${tls ? 'https' : 'http'}://${host}:${actual}`, port: actual, server };
}

function readPem(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UserFacingError(`api.tls: cannot read ${path}: ${(err as Error).message}`);
  }
}

export async function stopWebServer(running: RunningWebServer): Promise<void> {
  // Ends the change streams, which never go idle by themselves.
  await running.readModel?.stop();
  running.server.closeIdleConnections();
  await new Promise<void>((resolve, reject) =>
    running.server.close((err) => (err ? reject(err) : resolve())),
  );
}

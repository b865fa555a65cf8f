// Start/stop the HTTP(S) server; port 0 picks a free port (tests).
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { UserFacingError } from '../config/run-main';
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
  return listen(createApp(deps), port, host, deps.config.api.tls);
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
  running.server.closeIdleConnections();
  await new Promise<void>((resolve, reject) =>
    running.server.close((err) => (err ? reject(err) : resolve())),
  );
}

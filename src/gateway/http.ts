// The gateway's small HTTP face: GET /status (boards, pins, last error) for people and monitoring, and for
// simulated boards only, controls that play the hardware (press a detector, open a door, pull the USB cable).
// It listens on loopback by default: the controls are a demo/test bench, not a remote API.
import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config/config';
import { pinNumber } from '../config/config';
import type { Logger } from '../config/logger';
import { listen, type RunningWebServer } from '../api/server';
import type { Gateway } from './gateway';

const idSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
const inputParams = z.strictObject({ homeId: idSchema, inputId: idSchema });
const homeParams = z.strictObject({ homeId: idSchema });

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function createGatewayApp(gateway: Gateway, config: Config, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/status', (_req, res) => {
    const status = gateway.status();
    // For a simulated board, also what is really on its pins (what a meter on a real board would show).
    const homes = status.homes.map((h) => {
      const io = gateway.simulatedBoards.get(h.homeId);
      if (!io) return h;
      const pins = [...Object.values(h.sirens), ...Object.values(h.inputs)].map((x) => pinNumber(x.pin));
      return { ...h, simulatedPins: Object.fromEntries(pins.map((p) => [p, io.pinValue(p)])) };
    });
    res.json({ ...status, homes });
  });

  /** The simulated board of a home this gateway serves, or a clear 4xx. */
  const simulatedBoard = (homeId: string) => {
    const home = config.homes[homeId];
    if (!home || !gateway.serves(homeId))
      throw new HttpError(404, 'unknown-home', `home '${homeId}' is not served by gateway '${gateway.id}'`);
    if (home.board.type !== 'simulated')
      throw new HttpError(409, 'not-simulated', `home '${homeId}' has a real board (${home.board.type})`);
    gateway.board(homeId);
    const io = gateway.simulatedBoards.get(homeId);
    if (!io) throw new HttpError(409, 'not-simulated', `home '${homeId}' has no simulated board`);
    return { io };
  };

  const params = <T>(schema: z.ZodType<T>, req: Request): T => {
    const parsed = schema.safeParse(req.params);
    if (!parsed.success) throw new HttpError(400, 'bad-request', 'ids are letters, digits, . _ - (1-64)');
    return parsed.data;
  };

  // Any configured input (a detector, a door contact); `detectors/` is the older spelling of the same.
  for (const action of ['press', 'release'] as const) {
    app.post(
      [`/homes/:homeId/inputs/:inputId/${action}`, `/homes/:homeId/detectors/:inputId/${action}`],
      (req, res) => {
        const { homeId, inputId } = params(inputParams, req);
        const { io } = simulatedBoard(homeId);
        const input = gateway.input(homeId, inputId);
        if (!input) {
          const known = gateway.inputIds(homeId).join(', ') || 'none';
          throw new HttpError(
            404,
            'unknown-input',
            `home '${homeId}' has no input '${inputId}' (known: ${known})`,
          );
        }
        // Drive the pin to the input's active level (LOW for active-low / pull-up wiring) or back to idle.
        const { wiring } = input;
        const activeLevel = wiring.activeLow || wiring.pullUp ? 0 : 1;
        io.setInput(pinNumber(wiring.pin), action === 'press' ? activeLevel : 1 - activeLevel);
        logger.info({ homeId, inputId, action }, 'simulated input');
        res.status(202).json({ homeId, inputId, action });
      },
    );
  }

  for (const action of ['unplug', 'plug'] as const) {
    app.post(`/homes/:homeId/board/${action}`, (req, res) => {
      const { homeId } = params(homeParams, req);
      const { io } = simulatedBoard(homeId);
      if (action === 'unplug') io.unplug();
      else io.plugIn();
      logger.info({ homeId, action }, 'simulated board');
      res.status(202).json({ homeId, action });
    });
  }

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not-found', message: `no route ${req.method} ${req.path}` } });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: () => void) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message } });
      return;
    }
    logger.error({ err: (err as Error)?.message }, 'gateway http error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });
  return app;
}

/** Starts the status server when `gateway.http.port` is configured (0 picks a free port). */
export async function startGatewayHttp(
  gateway: Gateway,
  config: Config,
  logger: Logger,
): Promise<RunningWebServer | undefined> {
  const { host, port } = config.gateway.http;
  if (port === undefined) return undefined;
  const running = await listen(createGatewayApp(gateway, config, logger), port, host);
  logger.info({ url: `${running.url}/status` }, 'gateway status endpoint');
  return running;
}

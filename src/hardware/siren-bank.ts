// Sirens as johnny-five components (Relay or Led) on one Board per home. The board's IO comes from a
// factory: the simulated IO by default, a Firmata serial port in the gateway follow-up.
import * as five from 'johnny-five';
import type { Logger } from '../config/logger';

export interface SirenSpec {
  pin: number | string;
  /** `relay` switches a siren's supply; `led` drives a buzzer or an indicator directly. */
  component: 'relay' | 'led';
  /** Relay wiring: normally open (default) or normally closed. */
  relayType?: 'NO' | 'NC';
}

/** What the siren activities need: set a home's siren on or off, or fail clearly. */
export interface SirenBank {
  set(homeId: string, on: boolean): Promise<void>;
  close(): void;
}

export class BoardUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BoardUnavailable';
  }
}

export class UnknownSirenError extends Error {
  constructor(homeId: string) {
    super(`no siren is configured for home '${homeId}'`);
    this.name = 'BadConfiguration';
  }
}

/** The IO-plugin object johnny-five drives (SimulatedIO, or firmata's Board for real hardware). */
export type BoardIO = NodeJS.EventEmitter & { isReady: boolean; pinMode(pin: number, mode: number): unknown };

interface HomeSiren {
  io: BoardIO;
  ready: Promise<{ on(): void; off(): void }>;
}

export interface JohnnyFiveSirenBankOptions {
  sirenFor: (homeId: string) => SirenSpec | undefined;
  ioFor: (homeId: string) => BoardIO;
  /** How long a command waits for a board that is still connecting. */
  readyTimeoutMs: number;
  logger: Logger;
}

export class JohnnyFiveSirenBank implements SirenBank {
  private readonly homes = new Map<string, HomeSiren>();

  constructor(private readonly opts: JohnnyFiveSirenBankOptions) {}

  async set(homeId: string, on: boolean): Promise<void> {
    const home = this.homes.get(homeId) ?? this.open(homeId);
    const siren = await withTimeout(
      home.ready,
      this.opts.readyTimeoutMs,
      () => new BoardUnavailableError(`board for home '${homeId}' did not become ready`),
    );
    if (!home.io.isReady) throw new BoardUnavailableError(`board for home '${homeId}' is disconnected`);
    if (on) siren.on();
    else siren.off();
    this.opts.logger.info({ homeId, siren: on ? 'on' : 'off' }, 'siren set');
  }

  close(): void {
    this.homes.clear();
  }

  private open(homeId: string): HomeSiren {
    const spec = this.opts.sirenFor(homeId);
    if (!spec) throw new UnknownSirenError(homeId);
    const io = this.opts.ioFor(homeId);
    // repl/sigint off: a worker has no terminal, and johnny-five's REPL exits the process when stdin closes.
    const boardOptions = { io, id: `home:${homeId}`, repl: false, debug: false, sigint: false };
    const board = new five.Board(boardOptions);
    const log = this.opts.logger;
    const ready = new Promise<{ on(): void; off(): void }>((resolve, reject) => {
      board.on('ready', () => {
        const options = { board, pin: spec.pin };
        const component =
          spec.component === 'led'
            ? new five.Led(options)
            : new five.Relay({ ...options, type: spec.relayType ?? 'NO' });
        // Relay does not set a digital pin's mode; a real Firmata board needs OUTPUT before writes.
        if (typeof component.pin === 'number') io.pinMode(component.pin, 1);
        log.info({ homeId, pin: spec.pin, kind: spec.component }, 'siren board ready');
        resolve({
          on: () => (component instanceof five.Relay ? component.close() : component.on()),
          off: () => (component instanceof five.Relay ? component.open() : component.off()),
        });
      });
      board.on('fail', (event: { message?: string }) => {
        log.error({ homeId, message: event?.message }, 'siren board failed');
        reject(
          new BoardUnavailableError(`board for home '${homeId}' failed: ${event?.message ?? 'unknown'}`),
        );
      });
    });
    board.on('error', (err: Error) => log.error({ homeId, err: err?.message }, 'siren board error'));
    // An unhandled rejection of `ready` must not crash the worker; callers see it through set().
    ready.catch(() => this.homes.delete(homeId));
    const home = { io, ready };
    this.homes.set(homeId, home);
    return home;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// One home's board as johnny-five sees it: sirens (Relay/Led) and inputs such as smoke detectors or door
// contacts (Button, debounced), plus
// the siren state the session wants. The board may come and go (USB pulled, Arduino reset): every time it
// becomes ready the components are rebuilt and the desired state is written again — reconcile, not replay.
import { EventEmitter } from 'node:events';
import * as five from 'johnny-five';
import type { Logger } from '../config/logger';
import type { InputWiring } from '../shared/session-kind';
import { Debouncer } from './debounce';

export interface SirenSpec {
  pin: number | string;
  /** `relay` switches a siren's supply; `led` drives a buzzer or an indicator directly. */
  component: 'relay' | 'led';
  /** Relay wiring: normally open (default) or normally closed. */
  relayType?: 'NO' | 'NC';
}

/** An input's wiring: pin, debounce and active level (see `inputWiringSchema`). */
export type InputSpec = InputWiring;

/** What hangs on one home's board. */
export interface HomeHardware {
  homeId: string;
  sirens: Record<string, SirenSpec>;
  inputs: Record<string, InputSpec>;
}

/** The IO-plugin object johnny-five drives (SimulatedIO, or firmata's Board for real hardware). */
export type BoardIO = NodeJS.EventEmitter & {
  isReady: boolean;
  pinMode(pin: number, mode: number): unknown;
  transport?: { close?: (cb?: () => void) => void; isOpen?: boolean };
};

export class BoardUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BoardUnavailable';
  }
}

/** An input's debounced level changed: `active` (a detector alarms, a door opens) or back to idle. */
export interface InputEdge {
  homeId: string;
  inputId: string;
  active: boolean;
  /**
   * The level was already active at the first reading after (re)connecting: possibly an alarm reported
   * before a gateway restart, so the caller may check whether the session already knows it.
   */
  initial: boolean;
}

export interface BoardStatus {
  homeId: string;
  board: string;
  connected: boolean;
  /** When the board last became ready, or was lost. */
  since: string | null;
  lastError: { message: string; at: string } | null;
  reconnects: number;
  /** What the session wants; `unknown` until a command or a sync from Temporal said so. */
  desiredSiren: 'on' | 'off' | 'unknown';
  sirens: Record<string, { pin: number | string; component: string; written: 'on' | 'off' | null }>;
  inputs: Record<string, { pin: number | string; active: boolean }>;
}

export interface HomeBoardOptions {
  /** Opens the board's IO; called on every (re)connect (a serial port must be opened afresh). */
  openIO: () => BoardIO;
  /** For status and logs, e.g. `simulated` or `serial:/dev/ttyACM0`. */
  label: string;
  logger: Logger;
  /** Pause before a lost board is opened again. */
  reconnectDelayMs: number;
}

interface SirenSwitch {
  on(): void;
  off(): void;
}

interface InputState {
  debouncer: Debouncer;
  /** undefined until the first reading after a connect; then whether that reading was active. */
  initial: boolean | undefined;
}

const iso = () => new Date().toISOString();

export class HomeBoard extends EventEmitter {
  private desired: boolean | undefined;
  private desiredAt = Number.NEGATIVE_INFINITY;
  private version = 0;
  private connected = false;
  private started = false;
  private closed = false;
  private generation = 0;
  private since: string | null = null;
  private lastError: BoardStatus['lastError'] = null;
  private reconnects = 0;
  /** Losses since the board was last ready (reconnect backoff). */
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private io: BoardIO | undefined;
  private detachIO: (() => void) | undefined;
  private releaseInputs: (() => void) | undefined;
  private readonly switches = new Map<string, SirenSwitch>();
  private readonly written = new Map<string, 'on' | 'off'>();
  private readonly inputs = new Map<string, InputState>();
  private readonly log: Logger;

  constructor(
    readonly hw: HomeHardware,
    private readonly opts: HomeBoardOptions,
  ) {
    super();
    this.log = opts.logger.child({ homeId: hw.homeId, board: opts.label });
  }

  /** Opens the board (once); later losses reconnect on their own. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Version of the desired state; a sync from Temporal only applies if no command came in meanwhile. */
  get desiredVersion(): number {
    return this.version;
  }

  /**
   * Records what the session wants and writes it if the board is there. A command older than the one
   * held (by workflow time) is ignored: returns false.
   */
  want(on: boolean, issuedAt?: number): boolean {
    if (issuedAt !== undefined && issuedAt < this.desiredAt) {
      this.log.info({ on, issuedAt, heldSince: this.desiredAt }, 'ignoring an outdated siren command');
      return false;
    }
    if (issuedAt !== undefined) this.desiredAt = issuedAt;
    this.setDesired(on);
    return true;
  }

  /** Desired state learned from the sessions (gateway start, resync): loses to any command since `version`. */
  wantFromSync(on: boolean, version: number): boolean {
    if (version !== this.version) return false;
    if (this.desired !== on)
      this.log.info({ siren: on ? 'on' : 'off' }, 'desired siren state from the session');
    this.setDesired(on);
    return true;
  }

  /**
   * Resolves once the desired state is on the pins; waits up to `timeoutMs` for a (re)connecting board,
   * calling `onWait` about every second (activity heartbeats), then fails with BoardUnavailable.
   */
  async ensure(timeoutMs: number, onWait?: () => void): Promise<void> {
    this.start();
    const deadline = Date.now() + timeoutMs;
    while (!this.connected) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const why = this.lastError ? `: ${this.lastError.message}` : '';
        throw new BoardUnavailableError(
          `board of home '${this.hw.homeId}' (${this.opts.label}) is not connected${why}`,
        );
      }
      await this.waitFor('connected', Math.min(left, 1000));
      onWait?.();
    }
    this.write();
  }

  status(): BoardStatus {
    const sirens: BoardStatus['sirens'] = {};
    for (const [id, spec] of Object.entries(this.hw.sirens))
      sirens[id] = { pin: spec.pin, component: spec.component, written: this.written.get(id) ?? null };
    const inputs: BoardStatus['inputs'] = {};
    for (const [id, spec] of Object.entries(this.hw.inputs))
      inputs[id] = { pin: spec.pin, active: this.inputs.get(id)?.debouncer.level ?? false };
    return {
      homeId: this.hw.homeId,
      board: this.opts.label,
      connected: this.connected,
      since: this.since,
      lastError: this.lastError,
      reconnects: this.reconnects,
      desiredSiren: this.desired === undefined ? 'unknown' : this.desired ? 'on' : 'off',
      sirens,
      inputs,
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.dropConnection();
    this.removeAllListeners();
  }

  private setDesired(on: boolean) {
    this.desired = on;
    this.version += 1;
    if (this.connected) this.write();
  }

  /** Writes the desired state to every siren not already in it; a failed write means the board is gone. */
  private write() {
    if (this.desired === undefined) return;
    const state = this.desired ? 'on' : 'off';
    if ([...this.switches.keys()].every((id) => this.written.get(id) === state)) return;
    try {
      for (const [id, sw] of this.switches) {
        if (this.desired) sw.on();
        else sw.off();
        this.written.set(id, state);
      }
    } catch (err) {
      const message = `writing the siren failed: ${(err as Error).message}`;
      this.lost(this.generation, message);
      throw new BoardUnavailableError(`board of home '${this.hw.homeId}': ${message}`);
    }
    this.log.info({ siren: state }, 'siren set');
  }

  private waitFor(event: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.off(event, done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.once(event, done);
    });
  }

  private connect() {
    if (this.closed) return;
    const gen = ++this.generation;
    let io: BoardIO;
    try {
      io = this.opts.openIO();
    } catch (err) {
      this.lost(gen, (err as Error).message);
      return;
    }
    this.io = io;
    // repl/sigint off: a gateway has no terminal, and johnny-five's REPL exits the process when stdin closes.
    const board = new five.Board({
      io,
      id: `home:${this.hw.homeId}`,
      repl: false,
      debug: false,
      sigint: false,
    } as five.BoardOption);
    board.on('ready', () => this.ready(gen, board, io));
    board.on('fail', (e: { message?: string }) => this.lost(gen, `board failed: ${e?.message ?? 'unknown'}`));
    board.on('error', (err: Error) => this.lost(gen, `board error: ${errorText(err)}`));
    // Listened to on the IO itself: johnny-five forwards these only once the board was ready.
    const onClose = () => this.lost(gen, 'board disconnected');
    const onError = (err: Error) => this.lost(gen, `board error: ${errorText(err)}`);
    io.on('close', onClose);
    io.on('error', onError);
    this.detachIO = () => {
      io.off('close', onClose);
      io.off('error', onError);
    };
  }

  private ready(gen: number, board: five.Board, io: BoardIO) {
    if (gen !== this.generation || this.closed) return;
    try {
      for (const [id, spec] of Object.entries(this.hw.sirens))
        this.switches.set(id, sirenSwitch(board, io, spec));
      this.releaseInputs = recordReaders(io, (record) => {
        for (const [id, spec] of Object.entries(this.hw.inputs)) {
          record(spec.activeLow || spec.pullUp ? 1 : 0);
          this.watch(gen, board, id, spec);
        }
      });
    } catch (err) {
      this.lost(gen, `setting up the pins failed: ${(err as Error).message}`);
      return;
    }
    this.connected = true;
    this.failures = 0;
    this.since = iso();
    this.log.info(
      { sirens: Object.keys(this.hw.sirens), inputs: Object.keys(this.hw.inputs) },
      'board ready',
    );
    try {
      // Reconcile: the pins take the state the session wants now, whatever happened while away.
      this.write();
    } catch {
      return;
    }
    this.emit('connected');
  }

  private watch(gen: number, board: five.Board, inputId: string, spec: InputSpec) {
    const state: InputState = {
      initial: undefined,
      debouncer: new Debouncer(spec.debounceMs, (active) => {
        if (gen !== this.generation) return;
        // Only an input already active at the first reading is "initial"; its release is a real edge.
        const edge: InputEdge = {
          homeId: this.hw.homeId,
          inputId,
          active,
          initial: active && state.initial === true,
        };
        this.log.info({ inputId, active, initial: edge.initial }, 'input changed');
        this.emit('input', edge);
      }),
    };
    this.inputs.set(inputId, state);
    const button = new five.Button({
      board,
      pin: spec.pin,
      isPullup: spec.pullUp,
      invert: spec.activeLow || spec.pullUp,
    });
    const reading = (active: boolean) => {
      if (gen !== this.generation) return;
      // Only the very first reading after a connect is "initial"; any change after it is a real edge.
      state.initial = state.initial === undefined ? active : false;
      state.debouncer.input(active);
    };
    button.on('down', () => reading(true));
    button.on('up', () => reading(false));
  }

  private lost(gen: number, message: string) {
    if (gen !== this.generation || this.closed) return;
    const wasConnected = this.connected;
    this.lastError = { message, at: iso() };
    this.dropConnection();
    this.since = iso();
    // Back off while the board stays away (a port that is missing for hours), up to 10 s.
    const delay = Math.min(
      this.opts.reconnectDelayMs * 2 ** this.failures,
      Math.max(10_000, this.opts.reconnectDelayMs),
    );
    this.failures += 1;
    this.log.warn({ err: message, wasConnected, retryInMs: delay }, 'board lost; reconnecting');
    this.emit('disconnected', message);
    this.reconnectTimer = setTimeout(() => {
      this.reconnects += 1;
      this.connect();
    }, delay);
  }

  /** Forgets the current connection's components; events of that connection are ignored from now on. */
  private dropConnection() {
    this.generation += 1;
    this.connected = false;
    // A johnny-five Button held down keeps a "hold" interval running until it reads "up"; this
    // connection's Buttons will never read again, so release them (their events are ignored now).
    this.releaseInputs?.();
    this.releaseInputs = undefined;
    this.switches.clear();
    this.written.clear();
    for (const d of this.inputs.values()) d.debouncer.dispose();
    this.inputs.clear();
    this.detachIO?.();
    this.detachIO = undefined;
    const transport = this.io?.transport;
    if (transport?.isOpen) transport.close?.(() => undefined);
    this.io = undefined;
  }
}

function sirenSwitch(board: five.Board, io: BoardIO, spec: SirenSpec): SirenSwitch {
  const options = { board, pin: spec.pin };
  const component =
    spec.component === 'led'
      ? new five.Led(options)
      : new five.Relay({ ...options, type: spec.relayType ?? 'NO' });
  // Relay does not set a digital pin's mode; a real Firmata board needs OUTPUT before writes.
  if (typeof component.pin === 'number') io.pinMode(component.pin, 1);
  return {
    on: () => (component instanceof five.Relay ? component.close() : component.on()),
    off: () => (component instanceof five.Relay ? component.open() : component.off()),
  };
}

/** serialport's messages already start with "Error: "; say it once. */
const errorText = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).replace(/^Error: /, '');

type DigitalReader = (value: number) => void;
type ReadingIO = BoardIO & { digitalRead?: (pin: number, cb: DigitalReader) => unknown };

/**
 * Runs `create` (which builds input components) while noting every digitalRead callback they register,
 * with the idle level given by `record` before each; returns a function that feeds each its idle level.
 */
function recordReaders(io: BoardIO, create: (record: (idle: number) => void) => void): () => void {
  const reading = io as ReadingIO;
  const original = reading.digitalRead;
  const readers: { cb: DigitalReader; idle: number }[] = [];
  let idle = 0;
  if (original) {
    reading.digitalRead = function (this: ReadingIO, pin: number, cb: DigitalReader) {
      readers.push({ cb, idle });
      return original.call(this, pin, cb);
    };
  }
  try {
    create((level) => {
      idle = level;
    });
  } finally {
    if (original) reading.digitalRead = original;
  }
  return () => {
    for (const r of readers) r.cb(r.idle);
  };
}

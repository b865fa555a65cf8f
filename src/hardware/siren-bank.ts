// The boards of the homes one gateway serves, behind the small interface the siren activity needs.
// A command records the desired state first and then waits (bounded) for the board to carry it out;
// the board re-applies the desired state by itself whenever it (re)connects.
import type { Logger } from '../config/logger';
import { HomeBoard, type BoardIO, type BoardStatus, type HomeHardware } from './home-board';

export { BoardUnavailableError, type BoardIO, type SirenSpec } from './home-board';

export interface SetSirenOptions {
  /** Workflow time of the command (older commands than the one held are ignored). */
  issuedAt?: number;
  /** Called about every second while waiting for the board (activity heartbeat). */
  onWait?: () => void;
  /** How long to wait for a (re)connecting board; default the bank's `readyTimeoutMs`, 0 not at all. */
  waitMs?: number;
}

/** What the siren activities need: set a home's sirens on or off, or fail clearly. */
export interface SirenBank {
  set(homeId: string, on: boolean, opts?: SetSirenOptions): Promise<void>;
  close(): void;
}

export class UnknownSirenError extends Error {
  constructor(homeId: string) {
    super(`no siren is configured for home '${homeId}' on this gateway`);
    this.name = 'BadConfiguration';
  }
}

export interface JohnnyFiveSirenBankOptions {
  hardwareFor: (homeId: string) => HomeHardware | undefined;
  /** Opens a home's board IO; called again on every reconnect. */
  openIO: (homeId: string) => BoardIO;
  boardLabel?: (homeId: string) => string;
  /** How long a command waits for a board that is still connecting. */
  readyTimeoutMs: number;
  /** Pause before a lost board is opened again (default 1 s). */
  reconnectDelayMs?: number;
  logger: Logger;
}

export class JohnnyFiveSirenBank implements SirenBank {
  private readonly boards = new Map<string, HomeBoard>();

  constructor(private readonly opts: JohnnyFiveSirenBankOptions) {}

  async set(homeId: string, on: boolean, { issuedAt, onWait, waitMs }: SetSirenOptions = {}): Promise<void> {
    const board = this.board(homeId);
    // Recorded before waiting: if the board is away, it gets this state when it returns.
    if (!board.want(on, issuedAt)) return;
    await board.ensure(waitMs ?? this.opts.readyTimeoutMs, onWait);
  }

  /** The home's board, opened on first use. */
  board(homeId: string): HomeBoard {
    const known = this.boards.get(homeId);
    if (known) return known;
    const hw = this.opts.hardwareFor(homeId);
    if (!hw || Object.keys(hw.sirens).length === 0) throw new UnknownSirenError(homeId);
    const board = new HomeBoard(hw, {
      openIO: () => this.opts.openIO(homeId),
      label: this.opts.boardLabel?.(homeId) ?? 'board',
      logger: this.opts.logger,
      reconnectDelayMs: this.opts.reconnectDelayMs ?? 1000,
    });
    this.boards.set(homeId, board);
    board.start();
    return board;
  }

  status(): BoardStatus[] {
    return [...this.boards.values()].map((b) => b.status());
  }

  close(): void {
    for (const b of this.boards.values()) b.close();
    this.boards.clear();
  }
}

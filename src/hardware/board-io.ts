// Board IO by configuration: a Firmata board on a serial port, or the simulated board (demo and tests).
// `firmata` (and with it the native `serialport` bindings) is loaded only when a serial board is configured,
// so `npm start` and CI need no native build.
import { homeInputs, type HomeConfig } from '../config/config';
import type { BoardIO, HomeHardware } from './home-board';
import { SimulatedIO } from './simulated-io';

export type BoardConfig = HomeConfig['board'];

export class SerialSupportMissingError extends Error {
  constructor(cause: Error) {
    super(
      `a serial board is configured, but the Firmata/serialport modules cannot be loaded (${cause.message}). ` +
        'Install them with their native build: `npm install firmata serialport --foreground-scripts` ' +
        '(npm 11 may skip install scripts: `npm rebuild @serialport/bindings`).',
    );
    this.name = 'BadConfiguration';
  }
}

type FirmataConstructor = new (path: string, options?: { baudRate?: number }) => BoardIO;

let firmata: FirmataConstructor | undefined;

/** Loads firmata + serialport on first use; a clear error if they (or the native bindings) are missing. */
export function loadFirmata(): FirmataConstructor {
  if (firmata) return firmata;
  try {
    // Deliberately lazy: only gateways with a real board need the native serial bindings.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    firmata = require('firmata') as FirmataConstructor;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@serialport/bindings');
  } catch (err) {
    firmata = undefined;
    throw new SerialSupportMissingError(err as Error);
  }
  return firmata;
}

export const boardLabel = (board: BoardConfig) =>
  board.type === 'serial' ? `serial:${board.path}` : 'simulated';

/**
 * Opens IO for a home's board. Simulated boards are kept per home in `simulated` (a test or the press
 * endpoint drives the same object the components use); a serial port is opened afresh on every call.
 */
export function openBoardIO(
  homeId: string,
  board: BoardConfig,
  simulated: Map<string, SimulatedIO>,
): BoardIO {
  if (board.type === 'serial') {
    const Firmata = loadFirmata();
    return new Firmata(board.path, board.baudRate ? { baudRate: board.baudRate } : {});
  }
  let io = simulated.get(homeId);
  if (!io) {
    io = new SimulatedIO(`simulated:${homeId}`);
    simulated.set(homeId, io);
  }
  return io;
}

/** The sirens and inputs of a configured home. */
export function homeHardware(homeId: string, home: HomeConfig): HomeHardware {
  const inputs = Object.fromEntries(homeInputs(homeId, home).map((i) => [i.inputId, i.wiring]));
  return { homeId, sirens: home.sirens ?? { siren: home.siren }, inputs };
}

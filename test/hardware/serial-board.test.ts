// The real Firmata-over-serialport path, as far as it goes without a board: a configured port that is not
// there makes a siren command fail with BoardUnavailable naming the port and the OS error, and the board
// keeps trying to open it. (Nothing here talks to real hardware; see docs/hardware.md.)
import { boardLabel, openBoardIO } from '../../src/hardware/board-io';
import { JohnnyFiveSirenBank } from '../../src/hardware/siren-bank';
import { testLogger } from '../support/silent-logger';

test('When the serial port of a board does not exist, then a siren command fails clearly and the board retries', async () => {
  const board = { type: 'serial' as const, path: '/dev/ttySESSIONFLOW-MISSING' };
  const bank = new JohnnyFiveSirenBank({
    hardwareFor: (homeId) => ({ homeId, sirens: { hall: { pin: 7, component: 'relay' } }, inputs: {} }),
    openIO: (homeId) => openBoardIO(homeId, board, new Map()),
    boardLabel: () => boardLabel(board),
    readyTimeoutMs: 1_000,
    reconnectDelayMs: 100,
    logger: testLogger,
  });
  try {
    const err = await bank.set('h', true).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'BoardUnavailable' });
    expect((err as Error).message).toContain(`board of home 'h' (serial:${board.path}) is not connected`);
    expect((err as Error).message).toContain('cannot open /dev/ttySESSIONFLOW-MISSING');
    const [status] = bank.status();
    expect(status).toMatchObject({ connected: false, desiredSiren: 'on', board: `serial:${board.path}` });
    expect(status.reconnects).toBeGreaterThanOrEqual(1);
  } finally {
    bank.close();
  }
});

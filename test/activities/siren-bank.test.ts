// Real johnny-five components (Relay, Led) on the simulated Firmata-like IO.
import { JohnnyFiveSirenBank, type SirenSpec } from '../../src/hardware/siren-bank';
import { SimulatedIO } from '../../src/hardware/simulated-io';
import { testLogger } from '../support/silent-logger';

function bank(specs: Record<string, SirenSpec>, ios = new Map<string, SimulatedIO>(), readyTimeoutMs = 500) {
  const sirens = new JohnnyFiveSirenBank({
    hardwareFor: (homeId) =>
      specs[homeId] ? { homeId, sirens: { siren: specs[homeId] }, inputs: {} } : undefined,
    reconnectDelayMs: 20,
    openIO: (homeId) => {
      const io = ios.get(homeId) ?? new SimulatedIO(homeId);
      ios.set(homeId, io);
      return io;
    },
    readyTimeoutMs,
    logger: testLogger,
  });
  return { sirens, ios };
}

describe('JohnnyFiveSirenBank', () => {
  test('When a relay siren is switched on and off, then its pin goes HIGH then LOW as an OUTPUT', async () => {
    const { sirens, ios } = bank({ h: { pin: 7, component: 'relay' } });
    await sirens.set('h', true);
    const io = ios.get('h')!;
    expect(io.pinValue(7)).toBe(1);
    expect(io.pins[7].mode).toBe(io.MODES.OUTPUT);
    await sirens.set('h', false);
    expect(io.writes.filter((w) => w.pin === 7).map((w) => w.value)).toEqual([1, 0]);
  });

  test('When the relay is wired normally-closed, then "on" drives the pin LOW', async () => {
    const { sirens, ios } = bank({ h: { pin: 8, component: 'relay', relayType: 'NC' } });
    await sirens.set('h', true);
    expect(ios.get('h')!.pinValue(8)).toBe(0);
    await sirens.set('h', false);
    expect(ios.get('h')!.pinValue(8)).toBe(1);
  });

  test('When the siren is an Led component, then on/off drive its pin', async () => {
    const { sirens, ios } = bank({ h: { pin: 12, component: 'led' } });
    await sirens.set('h', true);
    expect(ios.get('h')!.pinValue(12)).toBe(1);
    await sirens.set('h', false);
    expect(ios.get('h')!.pinValue(12)).toBe(0);
  });

  test('When the board is unplugged, then set fails with BoardUnavailable and works again once plugged in', async () => {
    const { sirens, ios } = bank({ h: { pin: 13, component: 'relay' } });
    await sirens.set('h', true);
    ios.get('h')!.unplug();
    await expect(sirens.set('h', false)).rejects.toMatchObject({ name: 'BoardUnavailable' });
    ios.get('h')!.plugIn();
    await sirens.set('h', false);
    expect(ios.get('h')!.pinValue(13)).toBe(0);
  });

  test('When the board never becomes ready, then set fails after the ready timeout', async () => {
    const ios = new Map<string, SimulatedIO>();
    const never = new SimulatedIO('never');
    await new Promise((r) => setImmediate(r));
    never.unplug();
    ios.set('h', never);
    const { sirens } = bank({ h: { pin: 13, component: 'relay' } }, ios, 200);
    const started = Date.now();
    await expect(sirens.set('h', true)).rejects.toMatchObject({ name: 'BoardUnavailable' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  test('When an older command arrives after a newer one (a late retry), then it changes nothing', async () => {
    const { sirens, ios } = bank({ h: { pin: 7, component: 'relay' } });
    await sirens.set('h', true, { issuedAt: 1_000 });
    await sirens.set('h', false, { issuedAt: 2_000 });
    await sirens.set('h', true, { issuedAt: 1_500 });
    expect(ios.get('h')!.pinValue(7)).toBe(0);
    expect(sirens.status()[0]).toMatchObject({ desiredSiren: 'off', sirens: { siren: { written: 'off' } } });
  });

  test('When a command comes while the board is away, then it is applied as soon as the board is back', async () => {
    const { sirens, ios } = bank({ h: { pin: 7, component: 'relay' } }, undefined, 100);
    await sirens.set('h', true);
    const io = ios.get('h')!;
    io.unplug();
    await expect(sirens.set('h', false)).rejects.toMatchObject({ name: 'BoardUnavailable' });
    await sirens.set('h', true).catch(() => undefined);
    io.plugIn();
    await io.waitForPin(7, 1, 2_000);
    expect(sirens.status()[0]).toMatchObject({ connected: true, desiredSiren: 'on', reconnects: 1 });
  });

  test('When a home has no siren configured, then set fails as bad configuration', async () => {
    const { sirens } = bank({});
    await expect(sirens.set('nowhere', true)).rejects.toMatchObject({ name: 'BadConfiguration' });
  });
});

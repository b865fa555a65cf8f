// Board, siren and detector configuration: clear startup errors naming the path, and the gateway routing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, hardwareTaskQueue, homeInputs, parseConfig } from '../../src/config/config';
import { homeHardware } from '../../src/hardware/board-io';
import { testHome } from '../support/test-config';

const withHome = (extra: Record<string, unknown>) => ({ homes: { h: testHome('h', extra) } });

describe('hardware configuration', () => {
  test('When a home has sirens and detectors, then defaults fill in and the home hardware lists them', () => {
    const c = parseConfig(
      withHome({
        gateway: 'edge-1',
        board: { type: 'serial', path: '/dev/ttyACM0' },
        sirens: { hall: { pin: 7 }, bedroom: { pin: 'A0', component: 'led' } },
        detectors: { kitchen: { pin: 2 }, hall: { pin: 3, pullUp: true, debounceMs: 100 } },
      }),
    );
    const hw = homeHardware('h', c.homes.h);
    expect(hw.sirens).toEqual({
      hall: { pin: 7, component: 'relay' },
      bedroom: { pin: 'A0', component: 'led' },
    });
    expect(hw.inputs.kitchen).toEqual({ pin: 2, debounceMs: 50, activeLow: false, pullUp: false });
    expect(c.homes.h.board).toEqual({ type: 'serial', path: '/dev/ttyACM0' });
    expect(hardwareTaskQueue(c, 'h')).toBe('gateway-edge-1');
  });

  test('When an input is mapped by hand to a kind’s events, then it resolves like a kind’s own input section', () => {
    const c = parseConfig(
      withHome({
        detectors: { kitchen: { pin: 2 } },
        inputs: {
          cellar: {
            pin: 6,
            activeLow: true,
            kind: 'smoke-alarm',
            active: { event: 'smokeDetected', body: { detectorId: 'cellar' } },
          },
          porch: {
            pin: 7,
            kind: 'door-left-open',
            key: 'h.porch',
            active: { event: 'doorOpened' },
            inactive: { event: 'doorClosed' },
          },
        },
      }),
    );
    const byId = Object.fromEntries(homeInputs('h', c.homes.h).map((i) => [i.inputId, i]));
    expect(byId.kitchen).toMatchObject({
      kind: 'smoke-alarm',
      key: 'h',
      active: { event: 'smokeDetected', body: { detectorId: 'kitchen' } },
    });
    expect(byId.cellar).toEqual({
      inputId: 'cellar',
      wiring: { pin: 6, debounceMs: 50, activeLow: true, pullUp: false },
      kind: 'smoke-alarm',
      key: 'h',
      active: { event: 'smokeDetected', body: { detectorId: 'cellar' } },
      inactive: undefined,
    });
    expect(byId.porch).toMatchObject({
      key: 'h.porch',
      active: { event: 'doorOpened', body: {} },
      inactive: { event: 'doorClosed' },
    });
    expect(Object.keys(homeHardware('h', c.homes.h).inputs).sort()).toEqual(['cellar', 'kitchen', 'porch']);
  });

  test.each([
    [
      'a kind that is not registered',
      { kind: 'fire-door', active: { event: 'opened' } },
      "homes.h.inputs.x.kind: no session kind 'fire-door'",
    ],
    [
      'an event the kind does not have',
      { kind: 'smoke-alarm', active: { event: 'smoke' } },
      "smoke-alarm has no event 'smoke' (one of smokeDetected)",
    ],
    [
      'a body the event refuses',
      { kind: 'smoke-alarm', active: { event: 'smokeDetected', body: { detector: 'x' } } },
      'homes.h.inputs.x.active.body: not a valid smokeDetected body',
    ],
  ])('When an input names %s, then loading fails naming it', (_what, mapping, message) => {
    expect(() => parseConfig(withHome({ inputs: { x: { pin: 6, ...mapping } } }))).toThrow(message);
  });

  test('When a home names no gateway, then its siren runs on the session’s own worker (no hardware queue) with one default siren', () => {
    const c = parseConfig({ temporal: { taskQueue: 'central' }, ...withHome({ detectors: {} }) });
    expect(hardwareTaskQueue(c, 'h')).toBeUndefined();
    expect(homeHardware('h', c.homes.h)).toEqual({
      homeId: 'h',
      sirens: { siren: { pin: 13, component: 'relay' } },
      inputs: {},
    });
    expect(c.homes.h.board).toEqual({ type: 'simulated' });
  });

  test.each([
    [
      'a detector on pin 1 (the serial link)',
      { detectors: { kitchen: { pin: 1 } } },
      'homes.h.detectors.kitchen.pin',
    ],
    ['a detector on pin 20', { detectors: { kitchen: { pin: 20 } } }, 'an Uno has pins 2-19'],
    ['an analog pin A7', { detectors: { kitchen: { pin: 'A7' } } }, 'analog pins are A0-A5'],
    [
      'two detectors on one pin',
      { detectors: { kitchen: { pin: 2 }, hall: { pin: 2 } } },
      "homes.h.detectors.hall.pin: pin 2 is already used by input 'kitchen'",
    ],
    [
      'a detector on the siren pin',
      { siren: { pin: 13 }, detectors: { kitchen: { pin: 13 } } },
      "homes.h.detectors.kitchen.pin: pin 13 is already used by siren 'siren'",
    ],
    [
      'a siren and a detector on A0 and 14 (the same pin)',
      { sirens: { hall: { pin: 'A0' } }, detectors: { kitchen: { pin: 14 } } },
      "pin 14 is already used by siren 'hall'",
    ],
    [
      'a bad detector id',
      { detectors: { 'kitchen smoke!': { pin: 2 } } },
      'homes.h.detectors.kitchen smoke!',
    ],
    ['an unknown detector option', { detectors: { kitchen: { pin: 2, inverted: true } } }, 'inverted'],
    ['a negative debounce', { detectors: { kitchen: { pin: 2, debounceMs: -5 } } }, 'debounceMs'],
    ['a serial board without a path', { board: { type: 'serial' } }, 'homes.h.board.path'],
    ['an unknown board type', { board: { type: 'bluetooth' } }, 'homes.h.board.type'],
    ['a bad gateway id', { gateway: 'edge 1' }, 'homes.h.gateway'],
  ])('When a home has %s, then loading fails naming it', (_what, extra, mention) => {
    expect(() => parseConfig(withHome(extra))).toThrow(ConfigError);
    expect(() => parseConfig(withHome(extra))).toThrow(mention);
  });
});

describe('gateway entrypoint', () => {
  const main = resolve(__dirname, '../../dist/gateway/main.js');
  const run = (config: unknown, env: Record<string, string> = {}) => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first (npm test does)`);
    const file = join(mkdtempSync(join(tmpdir(), 'sf-gateway-')), 'config.json');
    writeFileSync(file, JSON.stringify(config));
    return spawnSync(process.execPath, [main], {
      env: { ...process.env, SESSIONFLOW_CONFIG_FILE: file, TEMPORAL_ADDRESS: '127.0.0.1:1', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  };

  test.each([
    ['no gateway id', withHome({ gateway: 'edge-1' }), {}, 'the gateway needs an id: set GATEWAY_ID'],
    [
      'an id no home names',
      withHome({ gateway: 'edge-1' }),
      { GATEWAY_ID: 'edge-2' },
      `gateway 'edge-2' serves no home: set homes.<homeId>.gateway to "edge-2" (configured homes: h)`,
    ],
    [
      'duplicate detector pins',
      withHome({ gateway: 'edge-1', detectors: { a: { pin: 2 }, b: { pin: 2 } } }),
      { GATEWAY_ID: 'edge-1' },
      "homes.h.detectors.b.pin: pin 2 is already used by input 'a'",
    ],
  ])(
    'When the gateway starts with %s, then it says so in one line and exits 1',
    (_what, config, env, message) => {
      const r = run(config, env);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^gateway: /);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
  );
});

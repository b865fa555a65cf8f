// A stand-in for a Firmata board (Arduino Uno layout) with the IO-plugin surface johnny-five expects.
// It records every pin write, so the demo and the tests run the real johnny-five components without hardware,
// and it can be "unplugged" to play a dead board.
import { EventEmitter } from 'node:events';

const MODES = {
  INPUT: 0x00,
  OUTPUT: 0x01,
  ANALOG: 0x02,
  PWM: 0x03,
  SERVO: 0x04,
  PULLUP: 0x0b,
  UNKNOWN: 0x10,
} as const;

interface PinInfo {
  supportedModes: number[];
  mode: number;
  value: number;
  report: number;
  analogChannel: number;
}

export interface PinWrite {
  pin: number;
  value: number;
  /** process.hrtime-based milliseconds, for latency measurements. */
  atMs: number;
}

type PinListener = (value: number) => void;

const PWM_PINS = new Set([3, 5, 6, 9, 10, 11]);
const ANALOG_PINS = [14, 15, 16, 17, 18, 19];

export class SimulatedIO extends EventEmitter {
  readonly name = 'SimulatedIO';
  readonly defaultLed = 13;
  readonly MODES = MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  readonly RESOLUTION = { ADC: 1023, DAC: null, PWM: 255 };
  readonly pins: PinInfo[];
  readonly analogPins = ANALOG_PINS;
  readonly writes: PinWrite[] = [];
  isReady = false;
  private readonly pinWaiters = new Set<{ pin: number; value: number; resolve: () => void }>();
  private readonly digitalListeners = new Map<number, Set<PinListener>>();

  constructor(readonly id = 'simulated') {
    super();
    this.pins = Array.from({ length: 20 }, (_, pin) => {
      const analog = ANALOG_PINS.indexOf(pin);
      const supportedModes =
        pin < 2
          ? []
          : analog >= 0
            ? [MODES.INPUT, MODES.OUTPUT, MODES.ANALOG, MODES.PULLUP]
            : [
                MODES.INPUT,
                MODES.OUTPUT,
                MODES.PULLUP,
                ...(PWM_PINS.has(pin) ? [MODES.PWM, MODES.SERVO] : []),
              ];
      return {
        supportedModes,
        mode: MODES.UNKNOWN,
        value: 0,
        report: 0,
        analogChannel: analog >= 0 ? analog : 127,
      };
    });
    process.nextTick(() => this.plugIn());
  }

  /** Connects (again): emits connect + ready as a Firmata board does after its handshake. */
  plugIn(): void {
    if (this.isReady) return;
    this.isReady = true;
    this.emit('connect');
    this.emit('ready');
  }

  /** Simulates a pulled USB cable: writes fail until plugIn(). */
  unplug(): void {
    if (!this.isReady) return;
    this.isReady = false;
    // The readers belonged to the johnny-five components of this connection; a new one brings its own.
    this.digitalListeners.clear();
    // No USB, no power: outputs drop to LOW, as on a real board that resets when it comes back. Inputs
    // keep the level the detector drives from outside.
    for (const info of this.pins) {
      if (info.mode === MODES.OUTPUT) info.value = 0;
      info.mode = MODES.UNKNOWN;
    }
    this.emit('close');
  }

  pinMode(pin: number, mode: number): this {
    this.pinAt(pin).mode = mode;
    return this;
  }

  digitalWrite(pin: number, value: number): this {
    this.write(pin, value ? this.HIGH : this.LOW);
    return this;
  }

  analogWrite(pin: number, value: number): this {
    this.write(pin, value);
    return this;
  }

  pwmWrite(pin: number, value: number): this {
    return this.analogWrite(pin, value);
  }

  digitalRead(pin: number, listener: PinListener): this {
    const set = this.digitalListeners.get(pin) ?? new Set<PinListener>();
    set.add(listener);
    this.digitalListeners.set(pin, set);
    this.pinAt(pin).report = 1;
    // Firmata reports a port's current state as soon as reporting is enabled: readers learn the level.
    process.nextTick(() => {
      if (this.isReady && set.has(listener)) listener(this.pinAt(pin).value);
    });
    return this;
  }

  analogRead(_channel: number, _listener: PinListener): this {
    return this;
  }

  reportDigitalPin(pin: number, value: number): this {
    this.pinAt(pin).report = value;
    return this;
  }

  reportAnalogPin(_channel: number, _value: number): this {
    return this;
  }

  queryPinState(pin: number, callback?: () => void): this {
    process.nextTick(() => callback?.());
    void pin;
    return this;
  }

  setSamplingInterval(_ms: number): this {
    return this;
  }

  /** Test/demo hook: drive an input pin as a detector would (reported to digitalRead listeners). */
  setInput(pin: number, value: number): void {
    this.pinAt(pin).value = value;
    if (!this.isReady) return;
    for (const listener of this.digitalListeners.get(pin) ?? []) listener(value);
  }

  pinValue(pin: number): number {
    return this.pinAt(pin).value;
  }

  /** Resolves when `pin` holds `value` (now or after a later write). */
  waitForPin(pin: number, value: number, timeoutMs = 10_000): Promise<void> {
    if (this.pinValue(pin) === value) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        pin,
        value,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.pinWaiters.delete(waiter);
        reject(new Error(`pin ${pin} did not become ${value} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pinWaiters.add(waiter);
    });
  }

  private write(pin: number, value: number) {
    if (!this.isReady) throw new Error(`${this.id}: board is not connected`);
    const info = this.pinAt(pin);
    info.value = value;
    this.writes.push({ pin, value, atMs: Number(process.hrtime.bigint() / 1000n) / 1000 });
    for (const w of this.pinWaiters) {
      if (w.pin === pin && w.value === value) {
        this.pinWaiters.delete(w);
        w.resolve();
      }
    }
  }

  private pinAt(pin: number): PinInfo {
    const info = this.pins[pin];
    if (!info) throw new Error(`${this.id}: no pin ${pin} (0-${this.pins.length - 1})`);
    return info;
  }
}

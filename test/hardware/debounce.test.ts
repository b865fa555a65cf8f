// The detector debouncer on jest's fake clock: a level counts only once it has held for the debounce time.
import { Debouncer } from '../../src/hardware/debounce';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

function debouncer(ms: number) {
  const changes: boolean[] = [];
  return { d: new Debouncer(ms, (v) => changes.push(v)), changes };
}

describe('Debouncer', () => {
  test('When an input rises and holds for the debounce time, then one rising change is reported', () => {
    const { d, changes } = debouncer(50);
    d.input(true);
    jest.advanceTimersByTime(49);
    expect(changes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(changes).toEqual([true]);
    expect(d.level).toBe(true);
  });

  test('When contacts bounce shorter than the debounce time, then nothing is reported', () => {
    const { d, changes } = debouncer(50);
    for (let i = 0; i < 10; i++) {
      d.input(true);
      jest.advanceTimersByTime(20);
      d.input(false);
      jest.advanceTimersByTime(20);
    }
    jest.advanceTimersByTime(1_000);
    expect(changes).toEqual([]);
  });

  test('When an input bounces and then settles high, then exactly one rising change is reported, timed from the last bounce', () => {
    const { d, changes } = debouncer(50);
    d.input(true);
    jest.advanceTimersByTime(10);
    d.input(false);
    jest.advanceTimersByTime(10);
    d.input(true);
    jest.advanceTimersByTime(49);
    expect(changes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(changes).toEqual([true]);
    d.input(true);
    jest.advanceTimersByTime(1_000);
    expect(changes).toEqual([true]);
  });

  test('When an active input falls and rises again, then each settled level is reported once', () => {
    const { d, changes } = debouncer(30);
    d.input(true);
    jest.advanceTimersByTime(30);
    d.input(false);
    jest.advanceTimersByTime(30);
    d.input(true);
    jest.advanceTimersByTime(30);
    expect(changes).toEqual([true, false, true]);
  });

  test('When the debounce time is zero, then levels are reported at once', () => {
    const { d, changes } = debouncer(0);
    d.input(true);
    d.input(false);
    expect(changes).toEqual([true, false]);
  });

  test('When disposed while a level is pending, then it is never reported', () => {
    const { d, changes } = debouncer(50);
    d.input(true);
    d.dispose();
    jest.advanceTimersByTime(1_000);
    expect(changes).toEqual([]);
  });
});

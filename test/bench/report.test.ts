// The bench's verdicts: every figure with a target says whether it met it, from the measured numbers.
import { Failures, type AlarmResult } from '../../bench/scenarios';
import { markdownTable, rows, targets } from '../../bench/report';
import { distribution } from '../../bench/stats';

function alarm(smokeMs: number[], failures = new Failures()): AlarmResult {
  return {
    options: { ratePerSec: 20, warmupSec: 5, durationSec: 30, statusAfterMs: 1000, cancelAfterMs: 2000 },
    sessions: smokeMs.length,
    smokeToSirenMs: distribution(smokeMs),
    cancelToSirenOffMs: distribution(smokeMs.map(() => 10)),
    statusMs: distribution(smokeMs.map(() => 5)),
    smokePostMs: distribution(smokeMs.map(() => 5)),
    samples: [],
    allClosed: true,
    failures,
  };
}

describe('bench report', () => {
  test('When percentiles are computed then they are nearest-rank over every sample', () => {
    const d = distribution(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(d).toMatchObject({ count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
  });

  test('When one smoke in a hundred is slower than the target then p99 still meets it, two do not', () => {
    const fast = Array.from({ length: 98 }, () => 40);
    const oneSlow = rows({ alarm: alarm([...fast, 40, targets.smokeToSirenP99Ms + 1]) });
    const twoSlow = rows({ alarm: alarm([...fast, targets.smokeToSirenP99Ms + 1, 400]) });
    expect(oneSlow.find((r) => r.figure === 'smoke POST → siren HIGH')?.met).toBe(true);
    expect(twoSlow.find((r) => r.figure === 'smoke POST → siren HIGH')?.met).toBe(false);
  });

  test('When a session failed then the alarm scenario does not meet "nothing lost" and the table shows it', () => {
    const failures = new Failures();
    failures.add('siren-never-on', 'home-1');
    const table = rows({ alarm: alarm([40, 40], failures) });
    expect(table.find((r) => r.target === 'nothing lost')?.met).toBe(false);
    expect(markdownTable(table)).toContain('| **no** |');
  });
});

// The bench's verdicts: every figure with a target says whether it met it, from the measured numbers.
import { Failures, type AlarmResult } from '../../bench/scenarios';
import { markdownTable, rows, targets } from '../../bench/report';
import { distribution } from '../../bench/stats';

function alarm(smokeMs: number[], failures = new Failures()): AlarmResult {
  return {
    options: {
      ratePerSec: 20,
      warmupSec: 5,
      durationSec: 30,
      statusAfterMs: 1000,
      cancelAfterMs: 2000,
      floorSec: 11,
    },
    sessions: smokeMs.length,
    smokeToSirenMs: distribution(smokeMs),
    cancelToSirenOffMs: distribution(smokeMs.map(() => 10)),
    statusMs: distribution(smokeMs.map(() => 5)),
    smokePostMs: distribution(smokeMs.map(() => 5)),
    samples: [],
    workflowTasksPerSession: distribution([5, 5, 6]),
    openingPhasesMs: {
      api: distribution([3]),
      firstTaskWait: distribution([2]),
      firstTaskToSiren: distribution([6]),
      firstTask: distribution([12]),
    },
    floorMs: distribution([8, 9]),
    eagerOpenings: smokeMs.length,
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
    const fast = Array.from({ length: 98 }, () => 10);
    const figure = 'smoke POST → siren HIGH (first notification)';
    const oneSlow = rows({ alarm: alarm([...fast, 10, targets.smokeToSirenP99Ms + 1]) });
    const twoSlow = rows({ alarm: alarm([...fast, targets.smokeToSirenP99Ms + 1, 400]) });
    expect(oneSlow.find((r) => r.figure === figure)?.met).toBe(true);
    expect(twoSlow.find((r) => r.figure === figure)?.met).toBe(false);
  });

  test('When p99 is met but the median is above its target then the smoke figure is not met', () => {
    const slowMedian = Array.from({ length: 100 }, () => targets.smokeToSirenP50Ms + 5);
    const row = rows({ alarm: alarm(slowMedian) }).find((r) => r.figure.startsWith('smoke POST'));
    expect(row?.met).toBe(false);
    expect(row?.before).not.toBe('');
  });

  test('When scenario 1 also ran with the API in its own process, then that smoke figure is judged against the same target', () => {
    const fast = Array.from({ length: 100 }, () => 10);
    const slowMedian = Array.from({ length: 100 }, () => targets.smokeToSirenP50Ms + 5);
    const smokeRows = rows({ alarm: alarm(fast), 'alarm-apart': alarm(slowMedian) }).filter((r) =>
      r.figure.startsWith('smoke POST'),
    );
    expect(smokeRows.map((r) => [r.scenario.includes('own process'), r.met])).toEqual([
      [false, true],
      [true, false],
    ]);
  });

  test('When a session failed then the alarm scenario does not meet "nothing lost" and the table shows it', () => {
    const failures = new Failures();
    failures.add('siren-never-on', 'home-1');
    const table = rows({ alarm: alarm([10, 10], failures) });
    expect(table.find((r) => r.target === 'nothing lost')?.met).toBe(false);
    expect(markdownTable(table)).toContain('| **no** |');
  });
});

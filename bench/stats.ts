// Latency distributions: nearest-rank percentiles over every sample (no sampling, no histogram buckets).

export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function distribution(samples: number[]): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.ceil(q * sorted.length) - 1]);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
    mean: sorted.length === 0 ? NaN : sum / sorted.length,
  };
}

/** Same clock as SimulatedIO's write timestamps (process.hrtime in ms), so the two compare directly. */
export const nowMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

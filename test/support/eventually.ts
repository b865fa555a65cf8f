// The one polling helper of the test suite: calls fn until ok(value) holds or the time is up.
export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > until) {
      throw new Error(`condition not met in time for ${fn.toString()}; last value: ${JSON.stringify(v)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

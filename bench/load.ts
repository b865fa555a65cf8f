// Load drivers: an open loop at a fixed rate (latency scenarios) and a closed loop of N callers
// (throughput, scale), plus a keep-alive HTTP client that costs the load generator as little as possible.
import { Agent, request } from 'node:http';
import { nowMs, sleep } from './stats';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export interface HttpResult {
  /** 0 when the request failed before an answer (the error is the body). */
  status: number;
  body: unknown;
  /** Request start on the hrtime clock. */
  startedAt: number;
  ms: number;
  /** The answer's Retry-After (seconds), when it has one. */
  retryAfterSec?: number;
}

export function httpJson(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
): Promise<HttpResult> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const startedAt = nowMs();
  return new Promise((resolve) => {
    const req = request(`${baseUrl}${path}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text for the error report
        }
        const retryAfter = Number(res.headers['retry-after']);
        resolve({
          status: res.statusCode ?? 0,
          body: parsed,
          startedAt,
          ms: nowMs() - startedAt,
          ...(Number.isFinite(retryAfter) ? { retryAfterSec: retryAfter } : {}),
        });
      });
      res.on('error', failed);
    });
    // A reset or refused connection is a failed call, counted by the scenario like a bad status.
    const failed = (err: Error) =>
      resolve({ status: 0, body: err.message, startedAt, ms: nowMs() - startedAt });
    req.on('error', failed);
    req.end(payload);
  });
}

/**
 * Calls fn(i) at t0 + i/rate for durationMs without waiting for earlier calls (open loop: a slow system
 * does not slow the offered load down). Resolves when every call has settled.
 */
export async function openLoop(
  ratePerSec: number,
  durationMs: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  const total = Math.floor((ratePerSec * durationMs) / 1000);
  const t0 = nowMs();
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    await sleep(t0 + (i * 1000) / ratePerSec - nowMs());
    running.push(fn(i));
  }
  await Promise.all(running);
}

/**
 * `concurrency` callers each run fn(next index) back to back until `until()` says stop (closed loop).
 * Resolves with how many calls were made.
 */
export async function closedLoop(
  concurrency: number,
  until: (i: number) => boolean,
  fn: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const caller = async () => {
    for (;;) {
      const i = next;
      if (until(i)) return;
      next += 1;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return next;
}

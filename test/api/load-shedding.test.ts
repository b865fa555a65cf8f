// Load shedding: above its write capacity (here 2 Temporal writes in flight and 2 waiting, per API process)
// the API refuses the excess at once with 429 and Retry-After and sends nothing for it, instead of queueing
// every write until the call deadline answers 503. What it accepted is all there.
import '../support/quiet-runtime';
import { WriteGate } from '../../src/api/write-gate';
import { HttpError } from '../../src/api/errors';
import { eventually, startLocalStack, http, type LocalStack } from '../support/local-stack';
import { deviceToken, ownerToken } from '../support/test-config';

const homes = Array.from({ length: 60 }, (_, i) => `shed-${i}`);
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    homes,
    cancelWindowSeconds: 3600,
    overrides: { api: { writes: { concurrency: 2, queue: 2, maxWaitMs: 2000, retryAfterSeconds: 1 } } },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const smoke = (homeId: string) =>
  http(stack.api.url, 'POST', `/homes/${homeId}/smoke`, {
    token: deviceToken(homeId),
    body: { detectorId: 'kitchen' },
  });

test('When more smoke events arrive at once than the write limit allows, then the excess gets 429 with Retry-After, nothing is started for it, and every accepted one is in its session', async () => {
  // Two writes hold both slots (as slow Temporal calls would), so the burst meets a full gate however
  // fast this machine answers: two of it wait in the queue, the rest is refused at once.
  const gate = stack.temporal.writes;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const holders = [gate.run(() => held), gate.run(() => held)];
  const burst = Promise.all(homes.map(smoke));
  await eventually(
    () => Promise.resolve(gate.shed),
    (n) => n >= homes.length - 2,
  );
  expect(gate.queued).toBe(2);
  release();
  await Promise.all(holders);
  const answers = await burst;
  const accepted = homes.filter((_, i) => answers[i].status === 202);
  const shed = homes.filter((_, i) => answers[i].status === 429);
  expect(accepted.length + shed.length).toBe(homes.length); // nothing else: no 5xx
  expect(accepted).toHaveLength(2);
  expect(shed).toHaveLength(homes.length - 2);
  for (const a of answers.filter((r) => r.status === 429)) {
    expect(a.headers.get('retry-after')).toBe('1');
    expect(a.body.error.code).toBe('overloaded');
  }
  expect(stack.temporal.writes.shed).toBe(shed.length);
  expect(stack.temporal.writes.active).toBe(0);

  // Accepted: the session holds the event (asked from Temporal, not the read model).
  for (const homeId of accepted) {
    const r = await http(stack.api.url, 'GET', `/homes/${homeId}/alarm?consistent=true`, {
      token: ownerToken(homeId),
    });
    expect({ homeId, status: r.status, events: r.body?.detectors?.[0]?.events }).toEqual({
      homeId,
      status: 200,
      events: 1,
    });
  }
  // Shed: nothing was sent, so no session exists; the retry the client was told to make is accepted.
  for (const homeId of shed) {
    const r = await http(stack.api.url, 'GET', `/homes/${homeId}/alarm?consistent=true`, {
      token: ownerToken(homeId),
    });
    expect({ homeId, status: r.status }).toEqual({ homeId, status: 404 });
    expect((await smoke(homeId)).status).toBe(202);
  }
});

test('When a write waits in the queue longer than allowed, then it is refused with 429 and never runs', async () => {
  const gate = new WriteGate({ concurrency: 1, queue: 5, maxWaitMs: 50, retryAfterSeconds: 3 });
  let release!: () => void;
  const first = gate.run(() => new Promise<void>((r) => (release = r)));
  let ran = false;
  const waited = gate.run(() => Promise.resolve(void (ran = true))).catch((err: unknown) => err);
  const refused = await waited;
  expect(refused).toBeInstanceOf(HttpError);
  expect(refused).toMatchObject({ status: 429, headers: { 'Retry-After': '3' } });
  expect(gate.queued).toBe(0);
  release();
  await first;
  expect(ran).toBe(false);
  expect(gate.active).toBe(0);
  // The slot is free again: the next write runs.
  await expect(gate.run(() => Promise.resolve('sent'))).resolves.toBe('sent');
});

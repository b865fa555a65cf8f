// A worker publishes a session's new state while it completes the workflow task that made it, before
// Temporal accepts that task. One that dies in between leaves a state Temporal never committed, with a
// version above Temporal's; when the retried task changes nothing, no later publication replaces it.
// The API's sync must: Temporal is the source of truth. The dying worker's write is made here directly,
// in the shared store, as that worker's sink makes it.
import '../support/quiet-runtime';
import { readModelAt } from '../../src/read-model/store';
import { ReadModelSync } from '../../src/read-model/sync';
import { sessionKinds } from '../../src/config/kinds';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { testLogger } from '../support/silent-logger';
import { deviceToken, ownerToken } from '../support/test-config';

const HOME = 'home-uncommitted';
let stack: LocalStack;
const stopped = new AbortController();

beforeAll(async () => {
  stack = await startLocalStack({ homes: [HOME], cancelWindowSeconds: 600 });
});

afterAll(async () => {
  stopped.abort();
  await stack?.stop();
});

const status = (query = '') =>
  http(stack.api.url, 'GET', `/homes/${HOME}/alarm${query}`, { token: ownerToken(HOME) });

test('When the read model holds a state whose task Temporal never committed, then the sync replaces it with Temporal’s, though its version was higher, and later publications still win', async () => {
  const opened = await http(stack.api.url, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(opened.status).toBe(202);
  // Settled: the siren on and the owner told (that notice's completion is one more publication).
  const sounding = await eventually(
    status,
    (r) =>
      r.body?.siren === 'on' &&
      (r.body.steps as { step: string; status: string }[]).some(
        (s) => s.step === 'notify-owner' && s.status === 'done',
      ),
  );

  // What a worker that accepted a cancel and died before Temporal heard of it left behind.
  const store = readModelAt(stack.config.readModel.path);
  const committed = store.get(smokeAlarmWorkflowId(HOME))!.publication;
  store.write({
    ...committed,
    version: committed.version + 1_000_000,
    state: 'cancelled',
    final: true,
    status: { ...committed.status, state: 'cancelled', siren: 'off' },
  });
  expect((await status()).body).toMatchObject({ state: 'cancelled', siren: 'off' });

  const sync = new ReadModelSync(store, stack.temporal, sessionKinds(), testLogger, 60_000, stopped.signal);
  expect(await sync.round()).toMatchObject({ repaired: 1 });
  const repaired = await status();
  expect(repaired.body).toMatchObject({ state: 'waiting-for-cancel', siren: 'on' });
  expect(repaired.body.version).toBe(sounding.body.version);
  // Nothing left to repair: the next round changes nothing.
  expect(await sync.round()).toMatchObject({ repaired: 0 });

  // The owner's real cancel is published as always, and wins.
  const cancelled = await http(stack.api.url, 'POST', `/homes/${HOME}/alarm/cancel`, {
    token: ownerToken(HOME),
  });
  expect(cancelled.status).toBe(200);
  const after = await eventually(status, (r) => r.body?.siren === 'off');
  expect(after.body.state).toBe('cancelled');
  expect(after.body.version).toBeGreaterThan(sounding.body.version);
});

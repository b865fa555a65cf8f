// Strict codec (codec.strict, on unless a config turns it off): whoever reaches the Temporal frontend
// with a plain client (no key) cannot make a session act on a forged plaintext signal or update; and a
// codec viewer token only decodes, it cannot have the key encrypt inputs for such a client.
import '../support/quiet-runtime';
import { Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../src/codec/aes-gcm-codec';
import { isRefusedPayload } from '../../src/shared/refused-payload';
import { parseConfig } from '../../src/config/config';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { codecViewerToken, deviceToken, ownerToken, testCodec } from '../support/test-config';

const UPDATE_HOME = 'home-forged-update';
const SIGNAL_HOME = 'home-forged-signal';
let stack: LocalStack;
let plain: Client;

beforeAll(async () => {
  stack = await startLocalStack({ homes: [UPDATE_HOME, SIGNAL_HOME], cancelWindowSeconds: 600 });
  // What an outsider on the Temporal port has: a client, but not our key.
  plain = new Client({ connection: stack.client.connection });
});

afterAll(async () => {
  await stack?.stop();
});

const open = async (home: string) => {
  const res = await http(stack.api.url, 'POST', `/homes/${home}/smoke`, {
    token: deviceToken(home),
    body: { detectorId: 'kitchen' },
  });
  expect(res.status).toBe(202);
};

const eventTypes = async (home: string) =>
  (await stack.client.workflow.getHandle(smokeAlarmWorkflowId(home)).fetchHistory()).events ?? [];

test('When a plaintext cancel update is sent with a plain client, then it is rejected and the alarm stays open', async () => {
  await open(UPDATE_HOME);
  const forged = plain.workflow
    .getHandle(smokeAlarmWorkflowId(UPDATE_HOME))
    .executeUpdate('cancel', { args: [{ by: 'forger' }] });
  await expect(forged).rejects.toThrow(WorkflowUpdateFailedError);
  const status = await http(stack.api.url, 'GET', `/homes/${UPDATE_HOME}/alarm`, {
    token: ownerToken(UPDATE_HOME),
  });
  expect(status.status).toBe(200);
  expect(status.body).toMatchObject({ state: 'waiting-for-cancel', outcome: null });
  // The owner's own, encrypted cancel still works.
  const cancelled = await http(stack.api.url, 'POST', `/homes/${UPDATE_HOME}/alarm/cancel`, {
    token: ownerToken(UPDATE_HOME),
  });
  expect(cancelled.body).toEqual({ state: 'cancelled', outcome: 'cancelled' });
});

test('When a plaintext second-detector signal is sent with a plain client, then it is dropped: nothing escalates, no workflow task fails and the owner’s genuine cancel still works', async () => {
  await open(SIGNAL_HOME);
  // Without strict mode this second detector escalates at once: SMS to the owner, call to emergency.
  await plain.workflow.getHandle(smokeAlarmWorkflowId(SIGNAL_HOME)).signal('smokeDetected', {
    detectorId: 'hall',
  });
  // The forged signal is in history (the server took it) and a workflow task after it completed.
  const events = await eventually(
    () => eventTypes(SIGNAL_HOME),
    (evs) => {
      const at = evs.map((e) => Boolean(e.workflowExecutionSignaledEventAttributes)).lastIndexOf(true);
      return (
        evs.filter((e) => e.workflowExecutionSignaledEventAttributes).length === 2 &&
        evs.slice(at).some((e) => e.workflowTaskCompletedEventAttributes)
      );
    },
    20_000,
  );
  const signalledAt = events
    .map((e) => Boolean(e.workflowExecutionSignaledEventAttributes))
    .lastIndexOf(true);
  expect(events.some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
  expect(events.slice(signalledAt).some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
  const status = await http(stack.api.url, 'GET', `/homes/${SIGNAL_HOME}/alarm`, {
    token: ownerToken(SIGNAL_HOME),
  });
  expect(status.body).toMatchObject({ state: 'waiting-for-cancel', outcome: null });
  // The session still serves the genuine API: the owner's encrypted cancel goes through at once.
  const cancelled = await http(stack.api.url, 'POST', `/homes/${SIGNAL_HOME}/alarm/cancel`, {
    token: ownerToken(SIGNAL_HOME),
  });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toEqual({ state: 'cancelled', outcome: 'cancelled' });
  expect(stack.sink.of('call', SIGNAL_HOME)).toHaveLength(0);
  expect(stack.sink.of('sms', SIGNAL_HOME)).toHaveLength(0);
  const after = await eventTypes(SIGNAL_HOME);
  expect(after.some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
});

test('When a codec viewer asks the endpoint to encode, then 403 and nothing comes back encrypted', async () => {
  const body = {
    payloads: [
      {
        metadata: { encoding: Buffer.from('json/plain').toString('base64') },
        data: Buffer.from('{"by":"forger"}').toString('base64'),
      },
    ],
  };
  for (const path of ['/codec/encode', `/codec/ui/${codecViewerToken}/encode`]) {
    const res = await http(stack.api.url, 'POST', path, { token: codecViewerToken, body });
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).not.toContain(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
  }
  // Decoding, what viewers are for, still works.
  const decoded = await http(stack.api.url, 'POST', '/codec/decode', { token: codecViewerToken, body });
  expect(decoded.status).toBe(200);
});

test('When strict mode is off, then unencrypted payloads pass through (sessions from before encryption); on, they are refused', async () => {
  const payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') };
  const lenient = AesGcmCodec.fromConfig(parseConfig({ codec: { ...testCodec, strict: false } }));
  expect(await lenient.decode([payload])).toEqual([payload]);
  // On by default: a production config need not say so.
  const config = parseConfig({ codec: testCodec });
  expect(config.codec.strict).toBe(true);
  const strict = AesGcmCodec.fromConfig(config);
  const [refused] = await strict.decode([payload]);
  expect(isRefusedPayload(JSON.parse(Buffer.from(refused.data!).toString()))).toBe(true);
  expect(Buffer.from(refused.data!).toString()).not.toContain('"x"');
});

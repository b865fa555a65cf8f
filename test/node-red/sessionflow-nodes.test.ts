// The Node-RED nodes in a real Node-RED runtime (node-red-node-test-helper) against the real stack: a dev
// server, a worker and the API. Every call goes through the API's generic session routes.
import '../support/quiet-runtime';
import { eventually, startLocalStack, type LocalStack } from '../support/local-stack';
import { FreezableProxy } from '../support/tcp-proxy';
import { deviceToken, operatorToken, ownerToken } from '../support/test-config';

/* eslint-disable @typescript-eslint/no-require-imports */
const helper = require('node-red-node-test-helper');
const sessionflowNodes = require('../../packages/node-red-contrib-sessionflow/nodes/sessionflow.js');
/* eslint-enable @typescript-eslint/no-require-imports */

helper.init(require.resolve('node-red'));

const HOME = 'nr-home';
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ homes: [HOME, 'nr-other'] });
  await new Promise((resolve) => helper.startServer(resolve));
});

afterAll(async () => {
  await helper.unload();
  await new Promise((resolve) => helper.stopServer(resolve));
  await stack?.stop();
});

afterEach(async () => {
  await helper.unload();
});

/** A door contact's event, as the home's device sends it. */
const doorEvent = (key: string, event: string) =>
  fetch(`${stack.api.url}/sessions/door-left-open/${key}/events/${event}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${deviceToken(HOME)}`, 'content-type': 'application/json' },
    body: '{}',
  });

/** What reached each output of the node under test (Node-RED keeps one input handler per node). */
let outputs: { out: 'ok' | 'refused'; msg: any }[] = [];

/** A flow of one sessionflow node of `type`, its two outputs wired to helper nodes. */
async function load(type: string, settings: Record<string, unknown>, token: string) {
  const flow = [
    { id: 'server', type: 'sessionflow-server', url: stack.api.url },
    { id: 'n', type, server: 'server', wires: [['ok'], ['refused']], ...settings },
    { id: 'ok', type: 'helper' },
    { id: 'refused', type: 'helper' },
  ];
  await new Promise((resolve) => helper.load(sessionflowNodes, flow, { server: { token } }, resolve));
  outputs = [];
  helper.getNode('ok').on('input', (msg: any) => outputs.push({ out: 'ok', msg }));
  helper.getNode('refused').on('input', (msg: any) => outputs.push({ out: 'refused', msg }));
  return helper.getNode('n');
}

/** Sends one message through the node and returns which output answered, and with what. */
async function through(
  node: any,
  msg: Record<string, unknown>,
): Promise<{ out: 'ok' | 'refused'; msg: any }> {
  const before = outputs.length;
  node.receive(msg);
  const until = Date.now() + 15_000;
  while (outputs.length === before) {
    if (Date.now() > until) throw new Error(`no output for ${JSON.stringify(msg)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return outputs[before];
}

describe('sessionflow Node-RED nodes', () => {
  test('When a flow sends smokeDetected, cancels and reads the status, then the alarm opens and is cancelled; a late cancel comes out as a refusal', async () => {
    const event = await load(
      'sessionflow-event',
      { kind: 'smoke-alarm', event: 'smokeDetected' },
      deviceToken(HOME),
    );
    const opened = await through(event, { key: HOME, payload: { detectorId: 'kitchen' } });
    expect(opened.out).toBe('ok');
    expect(opened.msg.statusCode).toBe(202);
    expect(opened.msg.payload).toMatchObject({ sessionId: `smoke-alarm:${HOME}` });
    await helper.unload();

    const request = await load('sessionflow-request', { kind: 'smoke-alarm', key: HOME }, ownerToken(HOME));
    const cancelled = await through(request, { request: 'cancel', payload: {} });
    expect(cancelled).toMatchObject({
      out: 'ok',
      msg: { payload: { state: 'cancelled', outcome: 'cancelled' } },
    });
    const again = await through(request, { request: 'cancel' });
    expect(again.out).toBe('refused');
    expect(again.msg.payload).toMatchObject({ status: 409 });
    expect(['already-ended', 'no-active-alarm']).toContain(again.msg.payload.code);
    await helper.unload();

    const status = await load('sessionflow-status', { kind: 'smoke-alarm' }, ownerToken(HOME));
    const read = await through(status, { key: HOME });
    expect(read.out).toBe('ok');
    expect(read.msg.payload).toMatchObject({ homeId: HOME, state: 'cancelled', endedBy: `${HOME}-owner` });
    const stranger = await through(status, { key: 'nr-other' });
    expect(stranger.out).toBe('refused');
    expect(stranger.msg.payload).toMatchObject({ status: 403, code: 'forbidden' });
  });

  test('When a node lacks its kind or key, or the token is wrong, then the message leaves on the refusal output and nothing starts', async () => {
    const event = await load('sessionflow-event', { event: 'smokeDetected' }, 'not-a-token-0123456789');
    expect((await through(event, { key: HOME })).msg.payload).toMatchObject({
      status: 400,
      code: 'bad-request',
    });
    expect(
      (await through(event, { kind: 'smoke-alarm', key: 'nr-other', payload: { detectorId: 'x' } })).msg
        .payload,
    ).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    await expect(stack.client.workflow.getHandle('smoke-alarm:nr-other').describe()).rejects.toThrow();
  });

  test('When the editor asks for the kinds, then the deployed server node answers from the API registry', async () => {
    await load('sessionflow-status', {}, operatorToken);
    const res = await helper.request().get('/sessionflow/server/kinds').expect(200);
    const names = res.body.kinds.map((k: { name: string }) => k.name);
    expect(names).toEqual(expect.arrayContaining(['smoke-alarm', 'pizza-order', 'door-left-open']));
    const door = res.body.kinds.find((k: { name: string }) => k.name === 'door-left-open');
    expect(door.events.map((e: { name: string }) => e.name)).toEqual(['doorOpened', 'doorClosed']);
    await helper.request().get('/sessionflow/nope/kinds').expect(404);
  });

  test('When a session changes state, then the changes node sends it with its topic', async () => {
    const flow = [
      { id: 'server', type: 'sessionflow-server', url: stack.api.url },
      {
        id: 'c',
        type: 'sessionflow-changes',
        server: 'server',
        kind: 'door-left-open',
        // Also the changes from before the stream is open: the door may open before that.
        initial: true,
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ];
    await new Promise((resolve) =>
      helper.load(sessionflowNodes, flow, { server: { token: ownerToken(HOME) } }, resolve),
    );
    const seen: any[] = [];
    helper.getNode('out').on('input', (m: any) => seen.push(m));
    const key = `${HOME}.front`;
    const post = (event: string) => doorEvent(key, event);
    expect((await post('doorOpened')).status).toBe(202);
    const until = Date.now() + 20_000;
    while (!seen.some((m) => m.payload.state === 'open') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    expect((await post('doorClosed')).status).toBe(202);
    while (!seen.some((m) => m.payload.state === 'closed') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((m) => [m.topic, m.payload.state])).toEqual(
      expect.arrayContaining([
        [`sessionflow/door-left-open/${key}/state`, 'open'],
        [`sessionflow/door-left-open/${key}/state`, 'closed'],
      ]),
    );
  });

  test('When the change stream drops, then the node resumes after the last change it sent: none missed, none twice', async () => {
    const api = new URL(stack.api.url);
    const proxy = await new FreezableProxy({ host: api.hostname, port: Number(api.port) }).start();
    try {
      const feed = stack.api.readModel!.feed;
      // The streams of earlier tests' nodes end once the server hears they were closed.
      await eventually(
        () => Promise.resolve(feed.listening),
        (n) => n === 0,
      );
      const flow = [
        { id: 'server', type: 'sessionflow-server', url: `http://${proxy.address}` },
        { id: 'c', type: 'sessionflow-changes', server: 'server', kind: 'door-left-open', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await new Promise((resolve) =>
        helper.load(sessionflowNodes, flow, { server: { token: ownerToken(HOME) } }, resolve),
      );
      const seen: any[] = [];
      helper.getNode('out').on('input', (m: any) => seen.push(m.payload));
      const key = `${HOME}.back`;
      const post = (event: string) => doorEvent(key, event);
      const states = () => seen.filter((c) => c.key === key).map((c) => c.state);
      const until = async (ok: () => boolean) => {
        const deadline = Date.now() + 20_000;
        while (!ok()) {
          if (Date.now() > deadline) throw new Error(`not in time; seen ${JSON.stringify(states())}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      // The stream is open once the API's feed has the node as a listener: from then on it sees every change.
      await until(() => feed.listening > 0);
      expect((await post('doorOpened')).status).toBe(202);
      await until(() => states().includes('open'));
      // The line drops; the door closes meanwhile; the node reconnects and catches up from the log.
      proxy.freeze();
      expect((await post('doorClosed')).status).toBe(202);
      proxy.thaw();
      await until(() => states().includes('closed'));
      await new Promise((r) => setTimeout(r, 500));
      expect(states()).toEqual(['open', 'closed']);
      const seqs = seen.map((c) => c.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
    } finally {
      await proxy.stop();
    }
  });
});

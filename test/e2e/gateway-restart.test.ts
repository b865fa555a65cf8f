// The gateway as its own process (the built `dist/gateway/main.js`, simulated board) beside a real dev
// server, central worker and API: SIGKILLed mid-alarm and started again, it puts the sirens back where the
// session wants them, and the session stays exactly one.
import '../support/quiet-runtime';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/dev/temporal-dev-server';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { killed, spawnBuilt } from '../support/processes';
import { ownerToken, testCodec, testHome } from '../support/test-config';

const root = resolve(__dirname, '../..');
const gatewayMain = resolve(root, 'dist/gateway/main.js');
const pressMain = resolve(root, 'dist/gateway/press.js');
const HOME = 'home-edge';
const GATEWAY_ID = 'edge-1';
const SIRENS = [7, 8];
const hardware = {
  gateway: GATEWAY_ID,
  board: { type: 'simulated' },
  sirens: { hall: { pin: 7, component: 'relay' }, bedroom: { pin: 8, component: 'relay' } },
  detectors: { kitchen: { pin: 2, debounceMs: 20 } },
};

let stack: LocalStack;
let configFile: string;
let gatewayUrl: string;
const gateways = new Set<ChildProcess>();

function startGateway(name: string): ChildProcess {
  return spawnBuilt(
    gatewayMain,
    `gateway-${name}`,
    {
      SESSIONFLOW_CONFIG_FILE: configFile,
      TEMPORAL_ADDRESS: stack.server.address,
      TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
      GATEWAY_ID,
      GATEWAY_HTTP_PORT: new URL(gatewayUrl).port,
      LOG_FORMAT: 'json',
    },
    gateways,
  );
}

/** The gateway's own status: board connection, desired state and (simulated) pin levels. */
async function gatewayHome(): Promise<any> {
  try {
    const res = await fetch(`${gatewayUrl}/status`);
    const body = (await res.json()) as { homes: { homeId: string }[] };
    return body.homes.find((h) => h.homeId === HOME);
  } catch {
    return undefined; // not (yet) listening
  }
}
const sirensAre = (level: number) => (h: any) =>
  h?.connected === true && SIRENS.every((p) => h.simulatedPins[p] === level);
/** `npm run press -- <home> <detector>` as a user types it (the built CLI against this gateway). */
const press = (...args: string[]) =>
  spawnSync(process.execPath, [pressMain, ...args], {
    env: { ...process.env, GATEWAY_URL: gatewayUrl },
    encoding: 'utf8',
    timeout: 30_000,
  });
const status = () => http(stack.api.url, 'GET', `/homes/${HOME}/alarm`, { token: ownerToken(HOME) });

beforeAll(async () => {
  if (!existsSync(gatewayMain))
    throw new Error(`${gatewayMain} is missing: run 'npm run build' first (npm test does)`);
  stack = await startLocalStack({
    homes: [HOME],
    cancelWindowSeconds: 60,
    homeOverrides: { [HOME]: hardware },
  });
  const dir = mkdtempSync(join(tmpdir(), 'sessionflow-gateway-'));
  configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      alarm: { cancelWindowSeconds: 60, wrapUpTimeoutSeconds: 30 },
      board: { readyTimeoutMs: 300, reconnectDelayMs: 100 },
      homes: { [HOME]: testHome(HOME, hardware) },
      codec: testCodec,
    }),
  );
  gatewayUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  for (const g of gateways) g.kill('SIGKILL');
  await stack?.stop();
});

test('When the gateway is SIGKILLed mid-alarm and restarted, then the sirens are back on, the session is still one, and cancel turns them off', async () => {
  const first = startGateway('first');
  await eventually(gatewayHome, (h) => h?.connected === true, 30_000);

  const unknown = press(HOME, 'cellar');
  expect(unknown.status).toBe(1);
  expect(unknown.stderr).toContain(`press: 404: home '${HOME}' has no input 'cellar' (known: kitchen)`);
  const pressed = press(HOME, 'kitchen');
  expect(pressed.status).toBe(0);
  expect(JSON.parse(pressed.stdout)).toEqual({ homeId: HOME, inputId: 'kitchen', action: 'press' });
  await eventually(status, (r) => r.body?.siren === 'on');
  await eventually(gatewayHome, sirensAre(1));

  await killed(first);
  startGateway('second');
  // A fresh process on a freshly reset board: it learns from the session that the sirens must be on.
  const restored = await eventually(gatewayHome, sirensAre(1), 30_000);
  expect(restored).toMatchObject({
    desiredSiren: 'on',
    sirens: { hall: { written: 'on' }, bedroom: { written: 'on' } },
  });

  const runs: string[] = [];
  for await (const wf of stack.client.workflow.list({
    query: `WorkflowId = "${smokeAlarmWorkflowId(HOME)}"`,
  }))
    runs.push(wf.runId);
  expect(runs).toHaveLength(1);
  const during = await status();
  expect(during.body).toMatchObject({
    state: 'waiting-for-cancel',
    detectors: [expect.objectContaining({ detectorId: 'kitchen', events: 1 })],
  });

  const cancelled = await http(stack.api.url, 'POST', `/homes/${HOME}/alarm/cancel`, {
    token: ownerToken(HOME),
  });
  expect(cancelled.body).toEqual({ state: 'cancelled', outcome: 'cancelled' });
  await eventually(gatewayHome, sirensAre(0));
  const final = await stack.client.workflow.getHandle(smokeAlarmWorkflowId(HOME)).result();
  expect(final).toMatchObject({ outcome: 'cancelled', siren: 'off' });
});

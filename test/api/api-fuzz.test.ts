// API fuzzing with schemathesis (PyPI, installed by scripts/install-schemathesis.sh) against the live API,
// a real worker and a real Temporal dev server, every operation the OpenAPI document lists.
// Required: no 5xx, no answer outside the spec, and no workflow started or signalled by a refused request.
// FUZZ_SECONDS sets the time per run (default 25 s each, two runs: about a minute in CI).
import '../support/quiet-runtime';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import {
  codecViewerToken,
  customerToken,
  deviceToken,
  operatorToken,
  ownerToken,
  staffToken,
} from '../support/test-config';

const root = resolve(__dirname, '../..');
const schemathesis = resolve(root, '.tools/bin/schemathesis');
const outDir = resolve(root, 'test-artifacts/fuzz');
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 25);
const HOME = 'home-fuzz';
let stack: LocalStack;
/** An order placed before fuzzing, so order routes reach a real session, not only 404. */
let orderId: string;
let orderToken: string;

interface HarEntry {
  request: { method: string; url: string };
  response: { status: number };
}

/** Runs schemathesis with a generated config file; resolves with its exit code and the HAR entries. */
function runSchemathesis(name: string, toml: string, extraArgs: string[] = []) {
  mkdirSync(outDir, { recursive: true });
  const configFile = join(outDir, `${name}.toml`);
  const har = join(outDir, `${name}.har`);
  // 413 (body over the size limit) is a rejection too; schemathesis's default list lacks it.
  const rejections = '[400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]';
  // Reusing an Idempotency-Key with another body answers 422, as the IETF Idempotency-Key draft asks:
  // a valid request the API must refuse, so it is an expected answer to placing an order.
  const keyReuse = [
    '[[operations]]',
    'include-path = "/orders"',
    'include-method = "POST"',
    'checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 422, 429, "5xx"]',
  ].join('\n');
  writeFileSync(
    configFile,
    `${toml}\n[checks.negative_data_rejection]\nexpected-statuses = ${rejections}\n\n${keyReuse}\n`,
  );
  const args = [
    '--config-file',
    configFile,
    'run',
    `${stack.api.url}/openapi.json`,
    '--checks',
    'all',
    '--phases',
    'examples,coverage,fuzzing',
    '--max-time',
    String(SECONDS),
    // One worker: hypothesis's lambda introspection is not thread-safe (SystemError: AST recursion depth).
    '--workers',
    '1',
    '--seed',
    process.env.FUZZ_SEED ?? '20261125',
    '--request-timeout',
    '10',
    '--report',
    'har',
    '--report-har-path',
    har,
    '--no-color',
    ...extraArgs,
  ];
  return new Promise<{ code: number | null; output: string; entries: HarEntry[] }>((done) => {
    const child = spawn(schemathesis, args, { env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => {
      writeFileSync(join(outDir, `${name}.log`), output);
      const entries = existsSync(har)
        ? (JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: HarEntry[] } }).log.entries
        : [];
      done({ code, output, entries });
    });
  });
}

/** Every history event of every run of the home's session chain, by event type. */
async function eventCounts(homeId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const query = `WorkflowId = '${smokeAlarmWorkflowId(homeId)}'`;
  for await (const wf of stack.client.workflow.list({ query })) {
    const history = await stack.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const type = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof typeof e]);
      if (type) counts[type] = (counts[type] ?? 0) + 1;
    }
  }
  return counts;
}

const summarise = (entries: HarEntry[]) => {
  const byStatus: Record<number, number> = {};
  for (const e of entries) byStatus[e.response.status] = (byStatus[e.response.status] ?? 0) + 1;
  return byStatus;
};

beforeAll(async () => {
  if (!existsSync(schemathesis))
    throw new Error(`${schemathesis} is missing: run 'bash scripts/setup.sh all' (npm test does)`);
  stack = await startLocalStack({
    homes: [HOME, 'home-other'],
    cancelWindowSeconds: 3600,
    // The fuzzer is one client hammering one token: lift the limit so it reaches the handlers.
    overrides: { rateLimit: { perTokenPerMinute: 1_000_000, unauthenticatedPerMinute: 1_000_000 } },
  });
  const placed = await http(stack.api.url, 'POST', '/orders', {
    token: customerToken('ada'),
    body: {
      items: [{ sku: 'margherita', qty: 1 }],
      address: '1 Fuzz Road',
      customer: { name: 'Ada', phone: '+15550100042' },
    },
  });
  ({ orderId, orderToken } = placed.body as { orderId: string; orderToken: string });
  // Paid up front: a fuzzed payment of any other amount would be a wrong amount, not a fuzz finding.
  await http(stack.api.url, 'POST', `/orders/${orderId}/payment`, {
    token: orderToken,
    body: { amountCents: placed.body.totalCents, paymentMethod: 'pm_card_visa' },
  });
});

/** Orders the fuzzer's own requests placed (the one placed above not counted). */
const fuzzedOrders = async () => (await stack.client.workflow.count("SessionKind = 'pizza-order'")).count - 1;

afterAll(async () => {
  await stack?.stop();
});

describe('API fuzzing (schemathesis)', () => {
  const results: Record<string, unknown> = {};
  afterAll(() => {
    writeFileSync(join(outDir, 'summary.json'), JSON.stringify(results, null, 2));
  });

  test('When every operation is fuzzed with valid tokens, then no 5xx, nothing outside the spec, and only accepted requests reach the session', async () => {
    const toml = [
      '[auth.openapi.device]',
      `bearer = "${deviceToken(HOME)}"`,
      '[auth.openapi.owner]',
      `bearer = "${ownerToken(HOME)}"`,
      '[auth.openapi.codec-viewer]',
      `bearer = "${codecViewerToken}"`,
      '[auth.openapi.staff]',
      `bearer = "${staffToken}"`,
      '[auth.openapi.customer]',
      `bearer = "${customerToken('ada')}"`,
      '[auth.openapi.session]',
      `bearer = "${orderToken}"`,
      '[auth.openapi.operator]',
      `bearer = "${operatorToken}"`,
      '[parameters]',
      `"path.homeId" = "${HOME}"`,
      `"path.token" = "${codecViewerToken}"`,
      `"path.orderId" = "${orderId}"`,
      `"path.workflowId" = "smoke-alarm:${HOME}"`,
      '',
    ].join('\n');
    const run = await runSchemathesis('authorized', toml);
    const statuses = summarise(run.entries);
    results.authorized = { exitCode: run.code, requests: run.entries.length, statuses, seconds: SECONDS };
    if (run.code !== 0) throw new Error(`schemathesis found problems:\n${run.output.slice(-6000)}`);
    expect(run.entries.length).toBeGreaterThan(50);
    expect(Object.keys(statuses).filter((s) => Number(s) >= 500 && Number(s) !== 503)).toEqual([]);

    // Every smoke signal in history is one the API answered 202 to; every accepted update one it answered 200
    // (through the friendly routes or the generic ones).
    const accepted = (path: RegExp, status: number) =>
      run.entries.filter(
        (e) =>
          e.request.method === 'POST' &&
          path.test(new URL(e.request.url).pathname) &&
          e.response.status === status,
      ).length;
    const counts = await eventCounts(HOME);
    results.authorizedHistory = counts;
    const generic = `^/sessions/smoke-alarm/${HOME}`;
    expect(counts.workflowExecutionSignaledEventAttributes ?? 0).toBe(
      accepted(/^\/homes\/[^/]+\/smoke$/, 202) +
        accepted(new RegExp(`${generic}/events/smokeDetected$`), 202),
    );
    expect(counts.workflowExecutionUpdateAcceptedEventAttributes ?? 0).toBe(
      accepted(/^\/homes\/[^/]+\/alarm\/(cancel|all-clear)$/, 200) +
        accepted(new RegExp(`${generic}/requests/(cancel|allClear)$`), 200),
    );
    // Every order in Temporal is one the API answered 201 to.
    await eventually(fuzzedOrders, (n) => n >= accepted(/^\/orders$/, 201));
    expect(await fuzzedOrders()).toBe(accepted(/^\/orders$/, 201));
    results.ordersPlaced = await fuzzedOrders();
  });

  test('When every operation is fuzzed without a valid token for the home, then all is refused and no workflow is touched', async () => {
    const before = await eventCounts(HOME);
    const sessionsBefore = await stack.client.workflow.count();
    // A real token, but of another home and the wrong role for half the routes; fuzzed paths otherwise.
    const run = await runSchemathesis(
      'foreign-token',
      `headers = { Authorization = "Bearer ${ownerToken('home-other')}" }\n`,
      [
        '--exclude-checks',
        // Without valid credentials there is no positive answer to expect.
        'positive_data_acceptance,ignored_auth',
      ],
    );
    const statuses = summarise(run.entries);
    results.foreignToken = { exitCode: run.code, requests: run.entries.length, statuses, seconds: SECONDS };
    if (run.code !== 0) throw new Error(`schemathesis found problems:\n${run.output.slice(-6000)}`);
    // (OPTIONS is answered by the router with the allowed methods and reaches no handler.)
    const reachedSession = run.entries.filter(
      (e) =>
        e.request.method !== 'OPTIONS' &&
        /^\/(homes|sessions\/[^/]+\/[^/]+)\//.test(new URL(e.request.url).pathname) &&
        e.response.status < 400,
    );
    expect(reachedSession).toEqual([]);
    expect(await eventCounts(HOME)).toEqual(before);
    expect((await stack.client.workflow.count()).count).toBe(sessionsBefore.count);
  });
});

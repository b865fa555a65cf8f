// The /ui page in a real headless browser against the real stack: a newcomer plays the alarm story and
// an order from the page. Screenshots land in test-artifacts/ui/.
import '../support/quiet-runtime';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../../src/dev/temporal-dev-server';
import { launchBrowser, SCREENSHOT_DIR } from '../support/browser';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { customerToken, deviceToken, operatorToken, ownerToken } from '../support/test-config';

const HOME = 'ui-home';
let stack: LocalStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stack = await startLocalStack({
    homes: [HOME, 'other-home'],
    homeOverrides: { [HOME]: { detectors: { kitchen: { pin: 2, debounceMs: 30 } } } },
    server: { uiPort: await freePort() },
    simulator: true,
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

let pageErrors: string[] = [];
beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

afterEach(async () => {
  await page?.close();
  // The page's own script must not have thrown anywhere along the way.
  expect(pageErrors).toEqual([]);
});

const currentState = (p: Page) => p.locator('#diagram svg').getAttribute('data-current');
/** Waits until the element shows the text (the page refreshes itself every 2 s). */
const seeText = (p: Page, selector: string, text: string) =>
  p.locator(selector, { hasText: text }).waitFor({ timeout: 15_000 });

describe('the /ui page', () => {
  test('When an operator presses a simulated detector on the page and clicks Cancel, then the diagram moves from waiting-for-cancel to cancelled', async () => {
    // The printed link logs in by its fragment; the demo board's detector is pressed from the page.
    await page.goto(`${stack.api.url}/ui#token=${operatorToken}`);
    await page.locator(`#simulator p[data-home-id="${HOME}"] button[data-action="press"]`).click();
    await seeText(page, '#simulator-result', 'kitchen in ui-home: pressed');
    expect(stack.deps.simulatedBoards.get(HOME)?.pinValue(13)).toBeDefined();
    // The list shows the session through visibility.
    const row = page.locator('tr[data-workflow-id="smoke-alarm:ui-home"]');
    await row.waitFor({ timeout: 15_000 });
    expect(page.url()).not.toContain(operatorToken);
    await row.locator('a').click();

    await page.locator('#diagram svg[data-current="waiting-for-cancel"]').waitFor();
    await expect(page.locator('#diagram .state.current').getAttribute('data-state')).resolves.toBe(
      'waiting-for-cancel',
    );
    // The cancel window's timer counts down.
    const countdown = page.locator('#timers li', { hasText: 'cancel window' }).locator('.countdown');
    await expect(countdown.textContent()).resolves.toMatch(/^[01]:\d\d left$/);
    await seeText(page, '#timeline', 'signal smokeDetected');
    await seeText(page, '#timeline', 'setSiren');
    const temporalLink = await page.locator('#session-meta a').getAttribute('href');
    expect(temporalLink).toContain(`/workflows/${encodeURIComponent('smoke-alarm:ui-home')}/`);
    expect((await fetch(temporalLink!)).status).toBe(200);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'alarm-waiting-for-cancel.png'), fullPage: true });

    await page.locator('#actions button', { hasText: 'Cancel alarm' }).click();
    await page.locator('#diagram svg[data-current="cancelled"]').waitFor({ timeout: 15_000 });
    await expect(page.locator('#diagram .edge.taken').getAttribute('data-on')).resolves.toBe('cancel');
    await seeText(page, '#action-result', 'done (cancelled)');
    await page.locator('#timeline li', { hasText: 'update cancel answered' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'alarm-cancelled.png'), fullPage: true });

    const status = await http(stack.api.url, 'GET', `/homes/${HOME}/alarm`, { token: ownerToken(HOME) });
    expect(status.body).toMatchObject({
      state: 'cancelled',
      endedBy: 'test-operator',
      detectors: [expect.objectContaining({ detectorId: 'kitchen' })],
    });
    await page.goto(`${stack.api.url}/ui#/`);
    await page.locator(`#simulator p[data-home-id="${HOME}"] button[data-action="release"]`).click();
    await seeText(page, '#simulator-result', 'kitchen in ui-home: released');
  });

  test('When staff open an order and pay and accept it from the page, then the diagram follows it', async () => {
    const placed = await http(stack.api.url, 'POST', '/orders', {
      token: customerToken('ada'),
      body: {
        items: [{ sku: 'pepperoni', qty: 1 }],
        address: '1 Browser Lane',
        customer: { name: 'Ada', phone: '+15550100042' },
      },
    });
    const workflowId = `pizza-order:${placed.body.orderId}`;
    await page.goto(`${stack.api.url}/ui#token=${operatorToken}`);
    await page.goto(`${stack.api.url}/ui#/session/${encodeURIComponent(workflowId)}`);
    await page.locator('#diagram svg[data-current="awaiting-payment"]').waitFor({ timeout: 15_000 });
    await seeText(page, '#timers', 'payment window');

    await page.locator('#actions button', { hasText: 'Pay 11.00 EUR' }).click();
    await page.locator('#diagram svg[data-current="paid"]').waitFor({ timeout: 15_000 });
    await seeText(page, '#timers', 'delivery promise');
    await page.locator('#actions button', { hasText: 'kitchen: accepted' }).click();
    await page.locator('#diagram svg[data-current="in-kitchen"]').waitFor({ timeout: 15_000 });
    const taken = await page
      .locator('#diagram .edge.taken')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-on')));
    expect(taken.sort()).toEqual(['kitchen:accepted', 'pay']);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'order-in-kitchen.png'), fullPage: true });
    expect(await currentState(page)).toBe('in-kitchen');
  });

  test('When a customer logs in, then only their own orders show, and a bad token is refused', async () => {
    await page.goto(`${stack.api.url}/ui`);
    await page.locator('#token').fill('not-a-real-token-000000');
    await page.locator('#login-form button').click();
    await seeText(page, '#login-error', 'unknown token');

    const bobs = await http(stack.api.url, 'POST', '/orders', {
      token: customerToken('bob'),
      body: {
        items: [{ sku: 'cola', qty: 1 }],
        address: '2 Bob Road',
        customer: { name: 'Bob', phone: '+15550100043' },
      },
    });
    await page.locator('#token').fill(customerToken('ada'));
    await page.locator('#login-form button').click();
    await page.locator('#sessions tr').first().waitFor({ timeout: 15_000 });
    const ids = await page
      .locator('#sessions tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-workflow-id')));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id?.startsWith('pizza-order:'))).toBe(true);
    expect(ids).not.toContain(`pizza-order:${bobs.body.orderId}`);
    // Someone else's session is not found, even by its exact address.
    const other = await page.evaluate(
      async ([id, token]) =>
        (
          await fetch(`/ui/api/sessions/${encodeURIComponent(id)}`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).status,
      [`pizza-order:${bobs.body.orderId}`, customerToken('ada')],
    );
    expect(other).toBe(404);
  });

  test('When the page data is asked for without a token or with a device token, then it is refused', async () => {
    const api = (token?: string) => http(stack.api.url, 'GET', '/ui/api/sessions', { token });
    expect((await api()).status).toBe(401);
    expect((await api(deviceToken(HOME))).status).toBe(403);
    expect((await api(ownerToken(HOME))).status).toBe(200);
    const mine = (await api(ownerToken(HOME))).body.sessions.map((s: { workflowId: string }) => s.workflowId);
    expect(mine.every((id: string) => id === `smoke-alarm:${HOME}`)).toBe(true);
    // The simulated board: an owner may press only their own home's detectors, a device nothing.
    const press = (home: string, token?: string) =>
      http(stack.api.url, 'POST', `/ui/api/simulator/homes/${home}/inputs/kitchen/release`, { token });
    expect((await press('other-home', ownerToken(HOME))).status).toBe(404);
    expect((await press(HOME, deviceToken(HOME))).status).toBe(403);
    expect((await press(HOME, ownerToken(HOME))).status).toBe(202);
    const bad = await http(stack.api.url, 'GET', '/ui/api/sessions/rm%20-rf', { token: operatorToken });
    expect(bad.status).toBe(400);
    // The page itself is public (it holds no data); its script and styles are served next to it.
    expect((await fetch(`${stack.api.url}/ui`)).status).toBe(200);
    expect((await fetch(`${stack.api.url}/ui/static/app.js`)).status).toBe(200);
    expect((await fetch(`${stack.api.url}/ui/static/../../config/config.js`)).status).toBe(404);
  });

  test('When a session changes while its page is open, then the page shows it within a second without polling, and a dropped stream resumes without missing a change', async () => {
    const home = 'other-home';
    const smoke = () =>
      http(stack.api.url, 'POST', `/homes/${home}/smoke`, {
        token: deviceToken(home),
        body: { detectorId: 'hall' },
      });
    expect((await smoke()).status).toBe(202);
    await page.goto(`${stack.api.url}/ui#token=${operatorToken}`);
    await page.goto(`${stack.api.url}/ui#/session/${encodeURIComponent(`smoke-alarm:${home}`)}`);
    await page.locator('#diagram svg[data-current="waiting-for-cancel"]').waitFor({ timeout: 15_000 });
    await seeText(page, '#live', 'live');

    // Once the opening's side effects are done the session is idle, and so is the page: no request
    // leaves it (the one open stream aside).
    await eventually(
      () => http(stack.api.url, 'GET', `/homes/${home}/alarm?consistent=true`, { token: ownerToken(home) }),
      (r) =>
        r.body?.steps?.length >= 2 && r.body.steps.every((x: { status: string }) => x.status !== 'pending'),
    );
    await page.waitForTimeout(1000);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.waitForTimeout(2500);
    expect(requests).toEqual([]);

    const t0 = Date.now();
    expect(
      (await http(stack.api.url, 'POST', `/homes/${home}/alarm/cancel`, { token: ownerToken(home) })).status,
    ).toBe(200);
    await page.locator('#diagram svg[data-current="cancelled"]').waitFor({ timeout: 1000 });
    expect(Date.now() - t0).toBeLessThan(1000);
    await stack.client.workflow.getHandle(`smoke-alarm:${home}`).result();

    // The list page; its stream is cut, and a new session opens while it is down.
    await page.goto(`${stack.api.url}/ui#/`);
    const row = page.locator(`tr[data-workflow-id="smoke-alarm:${home}"]`);
    await row.locator('.badge', { hasText: 'cancelled' }).waitFor({ timeout: 15_000 });
    await seeText(page, '#live', 'live');
    stack.api.server.closeAllConnections();
    await seeText(page, '#live', 'reconnecting');
    expect((await smoke()).status).toBe(202);
    // Resumed with Last-Event-ID: the opening it missed arrives and the row shows the new session.
    await row.locator('.badge.running', { hasText: 'waiting-for-cancel' }).waitFor({ timeout: 5000 });
    await seeText(page, '#live', 'live');
    expect(
      (await http(stack.api.url, 'POST', `/homes/${home}/alarm/cancel`, { token: ownerToken(home) })).status,
    ).toBe(200);
  });
});

// The door's representative sessions: open, reminded, snoozed, escalated, closed after a reminder.
import { sessionKind } from '../../src/shared/door-left-open';
import { deviceToken, ownerToken } from '../../test/support/test-config';
import type { HistoryScenario, KindScenarios, ScenarioContext } from './scenario';

const HOME = 'door-home';
const doorKey = (name: string) => `${HOME}.${name}`;
const door = (name: string) => `/sessions/${sessionKind.name}/${doorKey(name)}`;
const event = (ctx: ScenarioContext, name: string, ev: string) =>
  ctx.api('POST', `${door(name)}/events/${ev}`, { token: deviceToken(HOME), body: {} });
const inState = (ctx: ScenarioContext, name: string, state: string) =>
  ctx.until(
    `${name} ${state}`,
    async () => (await ctx.api('GET', door(name), { token: ownerToken(HOME) })).body?.state === state,
  );

const scenario = (
  name: string,
  state: string,
  run: (ctx: ScenarioContext, door: string) => Promise<void>,
): HistoryScenario => ({
  name,
  state,
  run: async (ctx) => {
    await event(ctx, name, 'doorOpened');
    await run(ctx, name);
    return doorKey(name);
  },
});

const names = ['opened', 'reminded', 'snoozed', 'escalated', 'closed-after-reminder'];

export const scenarios: KindScenarios = {
  homes: {
    [HOME]: {
      doors: Object.fromEntries(names.map((name, i) => [name, { pin: 2 + i }])),
      detectors: {},
      secondContact: { name: 'Neighbour', phone: '+15550000777' },
    },
  },
  // Short enough to record, long enough to catch a door still open.
  settings: { remindAfterSeconds: 3, escalateAfterSeconds: 6 },
  scenarios: [
    scenario('opened', 'open', async () => {}),
    scenario('reminded', 'reminded', (ctx, name) => inState(ctx, name, 'reminded')),
    scenario('snoozed', 'snoozed', async (ctx, name) => {
      await ctx.api('POST', `${door(name)}/requests/snooze`, {
        token: ownerToken(HOME),
        body: { minutes: 30 },
      });
    }),
    scenario('escalated', 'escalated', (ctx, name) => inState(ctx, name, 'escalated')),
    scenario('closed-after-reminder', 'closed', async (ctx, name) => {
      await inState(ctx, name, 'reminded');
      await event(ctx, name, 'doorClosed');
    }),
  ],
};

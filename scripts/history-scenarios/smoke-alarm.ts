// The smoke alarm's representative sessions: open in its cancel window, escalated (timer, second
// detector), cancelled, resolved, and one that continued as new.
import { sessionId, withSettledPatches } from '../../src/shared/session-kind';
import {
  alarmStatusQuery,
  sessionKind,
  smokeDetectedSignal,
  type SmokeAlarmInput,
} from '../../src/shared/smoke-alarm';
import { deviceToken, ownerToken } from '../../test/support/test-config';
import type { HistoryScenario, KindScenarios, ScenarioContext } from './scenario';

const alarm = (home: string) => `/sessions/${sessionKind.name}/${home}`;
const smoke = (ctx: ScenarioContext, home: string, detectorId: string) =>
  ctx.api('POST', `${alarm(home)}/events/smokeDetected`, { token: deviceToken(home), body: { detectorId } });
const ask = (ctx: ScenarioContext, home: string, request: string) =>
  ctx.api('POST', `${alarm(home)}/requests/${request}`, { token: ownerToken(home), body: {} });
const inState = (ctx: ScenarioContext, home: string, state: string) =>
  ctx.until(
    `${home} ${state}`,
    async () => (await ctx.api('GET', alarm(home), { token: ownerToken(home) })).body?.state === state,
  );

const scenario = (
  name: string,
  state: string,
  run: (ctx: ScenarioContext, home: string) => Promise<void>,
): HistoryScenario => ({
  name,
  state,
  run: async (ctx) => {
    const home = `alarm-${name}`;
    await run(ctx, home);
    return home;
  },
});

const quick = { cancelWindowSeconds: 1 };

export const scenarios: KindScenarios = {
  homes: {
    'alarm-opened': {},
    'alarm-mid-window': {},
    'alarm-escalated-window-expired': quick,
    'alarm-escalated-second-detector': {},
    'alarm-cancelled': {},
    'alarm-resolved': quick,
    'alarm-continued-as-new': {},
  },
  scenarios: [
    scenario('opened', 'waiting-for-cancel', async (ctx, home) => {
      await smoke(ctx, home, 'kitchen');
    }),
    scenario('mid-window', 'waiting-for-cancel', async (ctx, home) => {
      await smoke(ctx, home, 'kitchen');
      await smoke(ctx, home, 'kitchen');
      // Refused without a trace in history: a validator said no.
      await ask(ctx, home, 'allClear');
      await smoke(ctx, home, 'kitchen');
    }),
    scenario('escalated-window-expired', 'escalated', async (ctx, home) => {
      await smoke(ctx, home, 'kitchen');
      await inState(ctx, home, 'escalated');
    }),
    scenario('escalated-second-detector', 'escalated', async (ctx, home) => {
      await smoke(ctx, home, 'kitchen');
      await smoke(ctx, home, 'hall');
      await inState(ctx, home, 'escalated');
    }),
    scenario('cancelled', 'cancelled', async (ctx, home) => {
      await smoke(ctx, home, 'kitchen');
      await ask(ctx, home, 'cancel');
    }),
    scenario('resolved', 'resolved', async (ctx, home) => {
      await smoke(ctx, home, 'kitchen');
      await inState(ctx, home, 'escalated');
      await ask(ctx, home, 'allClear');
    }),
    // The API never sets a history limit: started directly with a small one, so smoke keeps rolling it over.
    scenario('continued-as-new', 'waiting-for-cancel', async (ctx, home) => {
      const input: SmokeAlarmInput = { homeId: home, cancelWindowMs: 10 * 60_000, historyLimit: 20 };
      const handle = await ctx.client.workflow.signalWithStart('smokeAlarmWorkflow', {
        workflowId: sessionId(sessionKind, home),
        taskQueue: ctx.config.temporal.taskQueue,
        // As every start does (sendSessionEvent): the session begins under the framework's patches.
        args: [withSettledPatches(input)],
        signal: smokeDetectedSignal,
        signalArgs: [{ detectorId: 'kitchen' }],
      });
      const firstRun = handle.signaledRunId;
      // Enough smoke for two rollovers.
      for (let i = 0; i < 12; i++) await smoke(ctx, home, 'kitchen');
      await ctx.until(`${home} continued as new`, async () => {
        const { runId } = await ctx.client.workflow.getHandle(handle.workflowId).describe();
        return runId !== firstRun && (await handle.query(alarmStatusQuery)).state === 'waiting-for-cancel';
      });
    }),
  ],
};

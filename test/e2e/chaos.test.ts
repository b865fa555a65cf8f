// Crash/restart chaos (see test/chaos/chaos-run.ts). `npm test` runs the small profile;
// `npm run chaos` the full one (CHAOS_PROFILE=full), whose report lands in chaos/results/.
import '../support/quiet-runtime';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chaosProfiles, runChaos } from '../chaos/chaos-run';

const profile = chaosProfiles[process.env.CHAOS_PROFILE ?? 'small'];
const root = resolve(__dirname, '../..');

test(
  `When the worker, API, gateway and the whole stack are SIGKILLed over and over and the server restarts (${profile.name} chaos run), then no notification is lost, doubled or late and every siren ends as its session wants`,
  async () => {
    for (const main of ['worker', 'api', 'gateway'])
      if (!existsSync(resolve(root, `dist/${main}/main.js`)))
        throw new Error(`dist/${main}/main.js is missing: run 'npm run build' first (npm test does)`);
    const report = await runChaos(profile, (m) => process.stderr.write(`${m}\n`));
    // The full run's report is kept in the repository (docs/reliability.md); small ones are test artifacts.
    const dir =
      profile.name === 'full' ? resolve(root, 'chaos/results') : resolve(root, 'test-artifacts/chaos');
    mkdirSync(dir, { recursive: true });
    const text = JSON.stringify(report, null, 2) + '\n';
    writeFileSync(join(dir, `latest-${profile.name}.json`), text);
    writeFileSync(
      join(
        resolve(root, 'test-artifacts/chaos'),
        `${profile.name}-${report.startedAt.replace(/[:.]/g, '-')}.json`,
      ),
      text,
    );
    process.stderr.write(text);

    // Every component was killed on its own, and the whole stack at once, as the profile asks.
    expect(report.kills.worker).toBeGreaterThanOrEqual(2);
    expect(report.kills.api).toBeGreaterThanOrEqual(1);
    expect(report.kills.gateway).toBeGreaterThanOrEqual(1);
    expect(report.stackKills).toBeGreaterThanOrEqual(Math.max(1, profile.stackKills));
    expect(report.serverRestarts).toBeGreaterThanOrEqual(1);
    expect(report.gatewayHomes).toBeGreaterThanOrEqual(1);
    expect(report.problems).toEqual([]);
    // A 5xx no retry helps is a bug, whatever the session made of it (the report's apiErrorLog says why).
    expect(report.serverErrors).toEqual([]);
    // A duplicate is allowed only where the sent log recorded a blind resend (a worker killed while its
    // request was in flight: the documented window); anything else is a failure.
    expect({
      lost: report.lost,
      duplicated: report.duplicatedOutsideWindow,
      wrongOutcome: report.wrongOutcome,
      wrongSiren: report.wrongSiren,
      late: report.late,
    }).toEqual({
      lost: 0,
      duplicated: 0,
      wrongOutcome: 0,
      wrongSiren: 0,
      late: 0,
    });
    expect(report.duplicated).toBeLessThanOrEqual(report.sentLog.ambiguous);
    // Kills between "provider accepted" and "Temporal heard of it" happened, and their retries were
    // answered from the sent log instead of sending again.
    expect(report.targetedKills).toBeGreaterThanOrEqual(1);
    expect(report.sentLog.suppressed).toBeGreaterThanOrEqual(report.targetedKills);
  },
  40 * 60_000,
);

// `npm run press -- <homeId> <inputId> [press|release|unplug|plug]`: plays the hardware of a simulated
// board through its gateway's status server (GATEWAY_URL, default http://127.0.0.1:3001 as `npm start` uses).
import { runMain, UserFacingError } from '../config/run-main';

const USAGE =
  'usage: npm run press -- <homeId> <inputId> [press|release]   (a detector, a door contact)\n' +
  '       npm run press -- <homeId> board <unplug|plug>';

async function main() {
  const [homeId, what, action = 'press'] = process.argv.slice(2);
  if (!homeId || !what) throw new UserFacingError(USAGE);
  const base = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.GATEWAY_HTTP_PORT ?? 3001}`;
  const path =
    what === 'board'
      ? `/homes/${encodeURIComponent(homeId)}/board/${action}`
      : `/homes/${encodeURIComponent(homeId)}/inputs/${encodeURIComponent(what)}/${action}`;
  const res = await fetch(`${base}${path}`, { method: 'POST' }).catch((err: Error) => {
    throw new UserFacingError(
      `no gateway at ${base} (${err.message}); is \`npm start\` running? Set GATEWAY_URL`,
    );
  });
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok) throw new UserFacingError(`${res.status}: ${body.error?.message ?? 'refused'}\n${USAGE}`);
  process.stdout.write(`${JSON.stringify(body)}\n`);
}

runMain('press', main);

// The probe's trivial session: it opens on its start input or on the signal of signalWithStart, reports
// through a sink, and waits. With `patches`, its first task makes three patched() calls, as a session's did.
const { condition, defineSignal, patched, proxySinks, setHandler } = require('@temporalio/workflow');

const openSignal = defineSignal('open');
const { bench } = proxySinks();

async function probeWorkflow(input) {
  if (input.patches)
    for (const id of ['kind-namespaced-activities', 'opened-at-run-start', 'board-commands-local-first'])
      patched(id);
  let opened = Boolean(input.opening || input.patches !== undefined);
  setHandler(openSignal, () => void (opened = true));
  await condition(() => opened);
  bench.opened();
  await condition(() => false);
}
module.exports = { probeWorkflow };

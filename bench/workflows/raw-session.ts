// The raw-client baseline of the throughput comparison: the most trivial session there is. It opens on the
// signal of signalWithStart, tells the bench (through a sink, outside history) that it is open, and waits
// to be released. Bundled separately from src/workflows so the product never registers it.
import { condition, defineSignal, proxySinks, setHandler, type Sinks } from '@temporalio/workflow';

export const openSignal = defineSignal('open');
export const releaseSignal = defineSignal('release');

export interface BenchSinks extends Sinks {
  bench: { opened(): void };
}

const { bench } = proxySinks<BenchSinks>();

export async function rawSessionWorkflow(): Promise<void> {
  let opened = false;
  let released = false;
  setHandler(openSignal, () => void (opened = true));
  setHandler(releaseSignal, () => void (released = true));
  await condition(() => opened);
  bench.opened();
  await condition(() => released);
}

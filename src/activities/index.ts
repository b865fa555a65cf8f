// Every activity the central worker registers: the platform's hardware activities (the embedded gateway's
// sirens) and each registered kind's own, found by its file name (src/activities/<kind>.ts exports
// `activities(deps)`) and registered as `<kind>.<name>`, so two kinds can never overwrite each other.
// Each heartbeats while it runs (keep-alive.ts): a worker that dies mid-call is noticed in seconds.
import type { Config } from '../config/config';
import { kindFile, sessionKinds } from '../config/kinds';
import type { SirenBank } from '../hardware/siren-bank';
import { hardwareActivities } from './hardware';
import { keptAlive } from './keep-alive';
import type { Notifier } from './notifier';
import type { PaymentProvider } from './payment-provider';
import type { ReadModelStore } from '../read-model/store';

/** What a kind's activities may be built from. */
export interface ActivityDeps {
  config: Config;
  notifier: Notifier;
  payments: PaymentProvider;
  sirens: SirenBank;
  /** Where sessions publish their status (the read model; through a sink, see createWorker). */
  readModel: ReadModelStore;
}

type ActivityFn = (...args: never[]) => Promise<unknown>;
type ActivityFactory = (deps: ActivityDeps) => Record<string, ActivityFn>;

export function createActivities(deps: ActivityDeps): Record<string, ActivityFn> {
  const platform: Record<string, ActivityFn> = { ...hardwareActivities(deps.sirens) };
  const namespaced: Record<string, ActivityFn> = {};
  const byPlainName = new Map<string, ActivityFn[]>();
  for (const kind of sessionKinds()) {
    const factory = kindFile<{ activities?: ActivityFactory }>('activities', kind.name)?.activities;
    for (const [name, raw] of Object.entries(factory?.(deps) ?? {})) {
      const fn = keptAlive(raw);
      namespaced[`${kind.name}.${name}`] = fn;
      byPlainName.set(name, [...(byPlainName.get(name) ?? []), fn]);
    }
  }
  // Sessions opened before activity names were namespaced still call the plain names on replay; those
  // are served wherever exactly one kind has the name.
  const legacy = Object.fromEntries(
    [...byPlainName]
      .filter(([name, fns]) => fns.length === 1 && !(name in platform))
      .map(([n, [fn]]) => [n, fn]),
  );
  return { ...legacy, ...platform, ...namespaced };
}

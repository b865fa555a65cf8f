// What a kind's history scenarios are: the sessions `npm run histories:record` runs on a real dev server
// (worker, API) and saves as test/workflows/histories/<kind>/<release>/<name>.json, for the replay test.
import type { Client } from '@temporalio/client';
import type { Config } from '../../src/config/config';

export interface ScenarioContext {
  /** The API over real HTTP; `token` as a bearer token. */
  api(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown },
  ): Promise<{ status: number; body: any }>;
  /** A client of the same server (with the codec), for what the API does not offer. */
  client: Client;
  config: Config;
  /** Waits until `check` holds (polling), or fails. */
  until(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
}

export interface HistoryScenario {
  /** The history's file name (without `.json`): what a replay failure names. */
  name: string;
  /** The session's state when its history is saved; the recorder checks it. */
  state: string;
  /** Runs the session to that point; answers its key. */
  run(ctx: ScenarioContext): Promise<string>;
}

export interface KindScenarios {
  /** Homes the scenarios use, with what each adds to the test home (doors, a short cancel window). */
  homes?: Record<string, Record<string, unknown>>;
  /** The kind's settings section for the recording (e.g. short timers). */
  settings?: Record<string, unknown>;
  scenarios: HistoryScenario[];
}

// Recorded workflow histories as files: proto3 JSON (what `temporal workflow show --output json` writes),
// read and written with the protobufjs copy @temporalio/proto was generated with (the SDK's own
// historyFromJSON resolves another copy and refuses the types: "type must be a Type").
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';

type History = temporal.api.history.v1.IHistory;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(
  require.resolve('protobufjs/ext/protojson', { paths: [dirname(require.resolve('@temporalio/proto'))] }),
) as {
  toJsonString(type: unknown, message: unknown): string;
  fromJsonString(type: unknown, json: string): History;
};
const HistoryType = temporal.api.history.v1.History;

export function writeHistoryFile(path: string, history: History): void {
  mkdirSync(dirname(path), { recursive: true });
  const json = JSON.parse(protojson.toJsonString(HistoryType, HistoryType.fromObject(history))) as unknown;
  writeFileSync(path, `${JSON.stringify(json, null, 1)}\n`);
}

export function readHistoryFile(path: string): History {
  return protojson.fromJsonString(HistoryType, readFileSync(path, 'utf8'));
}

/** Every `*.json` history under `dir`, as paths relative to it (its names), sorted. */
export function historyFilesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.json')) found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

export interface ReplayFailure {
  history: string;
  error: string;
}

/**
 * Replays every history under `dir` with one replay worker; each runs under its file name as workflow id,
 * so a failure names the history it came from. The empty list when all replay.
 */
export async function replayHistoriesUnder(
  dir: string,
  options: ReplayWorkerOptions,
): Promise<{ replayed: string[]; failures: ReplayFailure[] }> {
  const names = historyFilesUnder(dir);
  const failures: ReplayFailure[] = [];
  const replayed: string[] = [];
  const histories = names.map((name) => ({ workflowId: name, history: readHistoryFile(join(dir, name)) }));
  for await (const result of Worker.runReplayHistories(options, histories)) {
    replayed.push(result.workflowId);
    if (result.error) {
      const e = result.error;
      failures.push({ history: result.workflowId, error: `${e.name}: ${e.message}` });
    }
  }
  return { replayed, failures };
}

// The registered session kinds' declarations, found by name (src/shared/<kind>.ts exports `sessionKind`).
// Every process reads the kinds through here; nothing else lists them.
import { resolve } from 'node:path';
import type { SearchAttributeType } from '@temporalio/common';
import type { z } from 'zod';
import { allSearchAttributeKeys } from '../shared/search-attributes';
import type { AnySessionKind } from '../shared/session-kind';
import { registeredKinds } from '../shared/session-kinds';

let loaded: AnySessionKind[] | undefined;

export function sessionKinds(): AnySessionKind[] {
  loaded ??= registeredKinds.map((name) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { sessionKind } = require(`../shared/${name}`) as { sessionKind?: AnySessionKind };
    if (sessionKind?.name !== name)
      throw new Error(`src/shared/${name}.ts must export the declaration of kind '${name}' as sessionKind`);
    return sessionKind;
  });
  return loaded;
}

export function findKind(name: string): AnySessionKind | undefined {
  return sessionKinds().find((k) => k.name === name);
}

/**
 * A kind's own file in a folder of src (`activities`, `api/routes`), found by the kind's name; undefined
 * when the kind has none (a kind without side effects, or without friendly routes).
 */
export function kindFile<T>(folder: string, kind: string): T | undefined {
  const path = resolve(__dirname, '..', folder, kind);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path) as T;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    // Only the file itself missing; a module it imports that is missing is a real error.
    if (missing && (err as Error).message.includes(`'${path}'`)) return undefined;
    throw err;
  }
}

/** A kind's parsed configuration section, as its own declaration types it. */
export function settingsOf<Settings>(
  kind: { name: string; settings?: { schema: z.ZodType<Settings> } },
  config: { kinds: Record<string, unknown> },
): Settings {
  return config.kinds[kind.name] as Settings;
}

/** Every custom search attribute to register with a server: the platform's and the kinds' own. */
export function searchAttributeKeys(): { name: string; type: SearchAttributeType }[] {
  const keys = new Map<string, { name: string; type: SearchAttributeType }>(
    allSearchAttributeKeys.map((k) => [k.name, k]),
  );
  for (const kind of sessionKinds()) for (const k of kind.searchAttributes ?? []) keys.set(k.name, k);
  return [...keys.values()];
}

// What MQTT out publishes for a session, retained, on `<prefix>/<kind>/<key>/state`: its state, how it
// ended, the next deadline and its version — the same for every kind (the kind's `summary` fills in
// outcome and deadline).
import { z } from 'zod';
import type { Config } from '../config/config';
import { findKind } from '../config/kinds';
import type { SessionPublication } from '../shared/session-change';
import type { AnySessionKind } from '../shared/session-kind';

export const sessionStateMessageSchema = z.strictObject({
  kind: z.string(),
  key: z.string(),
  state: z.string(),
  /** How the session ended; null while it runs. */
  outcome: z.string().nullable(),
  /** The next deadline the session waits for (ISO 8601 with a zone); null when none. */
  deadline: z.string().nullable(),
  /** The state is final: the session is ending or closed. */
  final: z.boolean(),
  version: z.number().int().nonnegative(),
  asOf: z.string(),
});
export type SessionStateMessage = z.infer<typeof sessionStateMessageSchema>;

/** A key as one topic level: keys are ids (no `/`, `+` or `#`), checked again since topics are public. */
const topicLevel = /^[A-Za-z0-9._-]+$/;

export function stateTopic(config: Config, kind: string, key: string): string | undefined {
  if (!topicLevel.test(kind) || !topicLevel.test(key)) return undefined;
  return `${config.mqtt.state.topicPrefix}/${kind}/${key}/state`;
}

/** Where the publisher says whether it is online (its will says offline): Home Assistant's availability. */
export const availabilityTopic = (config: Config) => `${config.mqtt.state.topicPrefix}/status`;

/** The kind's summary of a status, with the defaults for what it leaves out. */
function summarize(kind: AnySessionKind | undefined, p: SessionPublication) {
  const status = p.status as { state: string };
  let own: { outcome?: string | null; deadline?: string | null } = {};
  let deadlines: { at: string }[] = [];
  try {
    own = kind?.summary?.(status) ?? {};
    deadlines = p.final ? [] : (kind?.deadlines?.(status) ?? []);
  } catch {
    // A status from an older shape of the kind: state and version still go out.
  }
  const earliest = deadlines.map((d) => d.at).sort()[0] ?? null;
  return {
    outcome: own.outcome !== undefined ? own.outcome : p.final ? p.state : null,
    deadline: own.deadline !== undefined ? own.deadline : earliest,
  };
}

export function sessionStateMessage(p: SessionPublication): SessionStateMessage {
  return {
    kind: p.kind,
    key: p.key,
    state: p.state,
    ...summarize(findKind(p.kind), p),
    final: p.final,
    version: p.version,
    asOf: p.asOf,
  };
}

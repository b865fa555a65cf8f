// Which device rules a message on a topic matches: JSON fields with given values (Zigbee2MQTT's
// `{"smoke": true}`, Tasmota's `{"Switch1": "ON"}`) or a plain text payload (`ON`). Pure: the ingress
// counts and logs what comes back.
import type { MqttDevice } from '../config/config';

export type Verdict =
  | { kind: 'matched'; deviceIds: string[] }
  /** Well-formed, but no rule of its topic wants it (e.g. a battery report). */
  | { kind: 'unmatched' }
  /** The topic's rules read JSON and the payload is not JSON (nor a text a rule wants). */
  | { kind: 'not-json' }
  /** Over the size limit: dropped without being read. */
  | { kind: 'too-large' };

/** A field by name, or by a dotted path into nested objects (`update.state`). */
function field(payload: unknown, name: string): unknown {
  if (typeof payload !== 'object' || payload === null) return undefined;
  if (Object.hasOwn(payload, name)) return (payload as Record<string, unknown>)[name];
  let at: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

export function matchMessage(
  rules: readonly [deviceId: string, device: MqttDevice][],
  payload: Buffer,
  maxBytes: number,
): Verdict {
  if (payload.length > maxBytes) return { kind: 'too-large' };
  const text = payload.toString('utf8');
  let json: { ok: true; value: unknown } | { ok: false } | undefined;
  const parsed = () => {
    if (json) return json;
    try {
      json = { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      json = { ok: false };
    }
    return json;
  };
  const deviceIds: string[] = [];
  let unreadable = false;
  for (const [deviceId, { match }] of rules) {
    if (match.text !== undefined) {
      if (text.trim() === match.text) deviceIds.push(deviceId);
      continue;
    }
    const doc = parsed();
    if (!doc.ok) {
      unreadable = true;
      continue;
    }
    if (Object.entries(match.json ?? {}).every(([name, want]) => field(doc.value, name) === want))
      deviceIds.push(deviceId);
  }
  if (deviceIds.length > 0) return { kind: 'matched', deviceIds };
  return unreadable ? { kind: 'not-json' } : { kind: 'unmatched' };
}

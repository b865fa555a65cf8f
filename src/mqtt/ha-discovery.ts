// Home Assistant MQTT discovery: every session the configuration knows of (each home's sessions of the
// kinds that drive its sirens or claim its inputs, and those the MQTT device rules name) becomes entities
// of its home's device — its state, whether it is active, and its next deadline — read from the retained
// state topic. Messages go, retained, to `<prefix>/<component>/<node_id>/<object_id>/config`.
import { homeInputs, type Config } from '../config/config';
import { findKind, sessionKinds } from '../config/kinds';
import type { AnySessionKind } from '../shared/session-kind';
import { availabilityTopic, stateTopic } from './session-state';

export interface ConfiguredSession {
  kind: AnySessionKind;
  key: string;
  homeId: string | undefined;
}

/** Sessions whose kind and key the configuration names, each once. */
export function configuredSessions(config: Config): ConfiguredSession[] {
  const found = new Map<string, ConfiguredSession>();
  const add = (kind: AnySessionKind | undefined, key: string) => {
    if (kind && !found.has(`${kind.name}:${key}`))
      found.set(`${kind.name}:${key}`, { kind, key, homeId: kind.homeOf?.(key) });
  };
  for (const [homeId, home] of Object.entries(config.homes)) {
    for (const kind of sessionKinds()) if (kind.sirens) add(kind, kind.sirens.key(homeId));
    for (const input of homeInputs(homeId, home)) add(findKind(input.kind), input.key);
  }
  for (const device of Object.values(config.mqtt.ingress.devices)) add(findKind(device.kind), device.key);
  return [...found.values()];
}

export interface DiscoveryMessage {
  topic: string;
  payload: Record<string, unknown>;
}

/** Topic levels and unique ids Home Assistant accepts: [a-zA-Z0-9_-]. */
const haId = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, '_');

export function discoveryMessages(config: Config, version: string): DiscoveryMessage[] {
  const { prefix, nodeId } = config.mqtt.discovery;
  const out: DiscoveryMessage[] = [];
  for (const { kind, key, homeId } of configuredSessions(config)) {
    const topic = stateTopic(config, kind.name, key);
    if (!topic) continue;
    const device =
      homeId === undefined
        ? { identifiers: [haId(`${nodeId}_${kind.name}`)], name: kind.title }
        : { identifiers: [haId(`${nodeId}_home_${homeId}`)], name: `Home ${homeId}` };
    // One session per kind in a home needs no more name than its kind's; several (doors) add their key.
    const name = homeId === key ? kind.title : `${kind.title} ${key}`;
    const base = haId(`${kind.name}_${key}`);
    const common = {
      state_topic: topic,
      json_attributes_topic: topic,
      availability_topic: availabilityTopic(config),
      payload_available: 'online',
      payload_not_available: 'offline',
      qos: 1,
      device: { ...device, manufacturer: 'sessionflow', model: 'Session flows', sw_version: version },
      origin: { name: 'sessionflow', sw_version: version },
    };
    const entity = (component: string, objectId: string, fields: Record<string, unknown>) =>
      out.push({
        topic: `${prefix}/${component}/${haId(nodeId)}/${objectId}/config`,
        payload: { ...fields, unique_id: haId(`${nodeId}_${objectId}`), ...common },
      });
    entity('sensor', base, { name, value_template: '{{ value_json.state }}' });
    entity('binary_sensor', `${base}_active`, {
      name: `${name} active`,
      value_template: "{{ 'OFF' if value_json.final else 'ON' }}",
      payload_on: 'ON',
      payload_off: 'OFF',
    });
    // HA's MQTT sensor takes the text None as "no value".
    entity('sensor', `${base}_deadline`, {
      name: `${name} deadline`,
      device_class: 'timestamp',
      value_template: "{{ value_json.deadline if value_json.deadline else 'None' }}",
    });
  }
  return out;
}

// The MQTT section of the configuration: device rules are refused with a clear line (the variable behind
// it named) unless their kind, key, event and body are ones the sessions would take.
import { ConfigError, loadConfig, parseConfig } from '../../src/config/config';
import { testHome } from '../support/test-config';

const smokeRule = {
  topic: 'zigbee2mqtt/kitchen_smoke',
  match: { json: { smoke: true } },
  kind: 'smoke-alarm',
  key: 'h1',
  event: 'smokeDetected',
  body: { detectorId: 'kitchen' },
};
const withRule = (change: Record<string, unknown>) => ({
  homes: { h1: testHome('h1') },
  mqtt: { url: 'mqtt://127.0.0.1:1883', ingress: { devices: { kitchen: { ...smokeRule, ...change } } } },
});
const refusal = (raw: unknown) => {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('MQTT configuration', () => {
  test('When nothing about MQTT is configured, then it is off and the defaults are in place', () => {
    const { mqtt } = parseConfig({});
    expect(mqtt.url).toBeUndefined();
    expect(mqtt).toMatchObject({
      clientId: 'sessionflow',
      ingress: { devices: {}, maxPayloadBytes: 16_384 },
      state: { enabled: true, topicPrefix: 'sessionflow' },
      discovery: { enabled: true, prefix: 'homeassistant', nodeId: 'sessionflow' },
    });
  });

  test('When a device rule names a configured detector, then it is read as written', () => {
    const { mqtt } = parseConfig(withRule({}));
    expect(mqtt.ingress.devices.kitchen).toEqual(smokeRule);
  });

  test.each([
    [{ kind: 'no-such-kind' }, "mqtt.ingress.devices.kitchen.kind: no session kind 'no-such-kind'"],
    [{ event: 'smokeGone' }, "mqtt.ingress.devices.kitchen.event: smoke-alarm has no event 'smokeGone'"],
    [{ key: 'h2' }, "mqtt.ingress.devices.kitchen.key: home 'h2' is not configured"],
    [{ key: 'bad key' }, 'mqtt.ingress.devices.kitchen.key: not a smoke-alarm key'],
    [{ body: { detectorId: 'cellar' } }, "detector 'cellar' is not configured for this home"],
    [{ body: {} }, 'mqtt.ingress.devices.kitchen.body: not a valid smokeDetected body'],
    [{ topic: 'zigbee2mqtt/+' }, 'mqtt.ingress.devices.kitchen.topic: a device topic names one topic'],
    [{ match: { json: {} } }, 'mqtt.ingress.devices.kitchen.match.json: name at least one field'],
    [{ match: { text: 'ON', json: { a: 1 } } }, 'give exactly one of json or text'],
    [{ retain: true }, 'mqtt.ingress.devices.kitchen.retain: unknown key'],
  ])('When a device rule has %j, then loading fails saying what is wrong', (change, message) => {
    expect(refusal(withRule(change))).toContain(message);
  });

  test('When device rules come from MQTT_DEVICES_JSON, then an error in them names that variable', () => {
    const env = {
      SESSIONFLOW_HOMES_JSON: JSON.stringify({ h1: testHome('h1') }),
      MQTT_URL: 'mqtt://127.0.0.1:1883',
      MQTT_DEVICES_JSON: JSON.stringify({ kitchen: { ...smokeRule, event: 'smokeGone' } }),
    };
    expect(() => loadConfig(env)).toThrow(/devices\.kitchen\.event: .*\(from MQTT_DEVICES_JSON\)/);
    expect(() => loadConfig({ ...env, MQTT_DEVICES_JSON: '{' })).toThrow(/MQTT_DEVICES_JSON: not valid JSON/);
    expect(() => loadConfig({ MQTT_URL: 'http://broker' })).toThrow(/mqtt\.url: .*\(from MQTT_URL\)/);
    expect(() => loadConfig({ MQTT_STATE: 'yes' })).toThrow(/mqtt\.state\.enabled: .*\(from MQTT_STATE\)/);
  });
});

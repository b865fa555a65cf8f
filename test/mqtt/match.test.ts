// Device rules against payloads as real firmwares publish them.
import type { MqttDevice } from '../../src/config/config';
import { matchMessage } from '../../src/mqtt/match';

const rule = (match: MqttDevice['match']): MqttDevice => ({
  topic: 't',
  match,
  kind: 'k',
  key: 'x',
  event: 'e',
  body: {},
});
const verdict = (rules: [string, MqttDevice][], payload: string, max = 1024) =>
  matchMessage(rules, Buffer.from(payload), max);

describe('device rule matching', () => {
  test('When Zigbee2MQTT reports smoke among other fields, then the smoke rule matches and a clear report does not', () => {
    const rules: [string, MqttDevice][] = [['smoke', rule({ json: { smoke: true } })]];
    expect(verdict(rules, '{"battery":97,"smoke":true,"linkquality":120}')).toEqual({
      kind: 'matched',
      deviceIds: ['smoke'],
    });
    expect(verdict(rules, '{"battery":97,"smoke":false}')).toEqual({ kind: 'unmatched' });
    // "true" as a string is not true: the values are compared as JSON values.
    expect(verdict(rules, '{"smoke":"true"}')).toEqual({ kind: 'unmatched' });
  });

  test('When Tasmota switches and Shelly nests its input, then the fields match by name and by dotted path', () => {
    const rules: [string, MqttDevice][] = [
      ['on', rule({ json: { Switch1: 'ON' } })],
      ['off', rule({ json: { Switch1: 'OFF' } })],
      ['shelly', rule({ json: { 'params.input:0.state': true } })],
    ];
    expect(verdict(rules, '{"Switch1":"ON"}')).toEqual({ kind: 'matched', deviceIds: ['on'] });
    expect(verdict(rules, '{"Switch1":"OFF"}')).toEqual({ kind: 'matched', deviceIds: ['off'] });
    expect(verdict(rules, '{"params":{"input:0":{"id":0,"state":true}}}')).toEqual({
      kind: 'matched',
      deviceIds: ['shelly'],
    });
  });

  test('When a plain text rule meets ON, off or JSON, then only ON (spaces aside) matches', () => {
    const rules: [string, MqttDevice][] = [['plain', rule({ text: 'ON' })]];
    expect(verdict(rules, 'ON\n')).toEqual({ kind: 'matched', deviceIds: ['plain'] });
    expect(verdict(rules, 'OFF')).toEqual({ kind: 'unmatched' });
    expect(verdict(rules, '{"state":"ON"}')).toEqual({ kind: 'unmatched' });
  });

  test('When a JSON rule meets text, or anything meets the size limit, then the verdict says so', () => {
    const rules: [string, MqttDevice][] = [['smoke', rule({ json: { smoke: true } })]];
    expect(verdict(rules, 'smoke')).toEqual({ kind: 'not-json' });
    expect(verdict(rules, '{"smoke":true}', 10)).toEqual({ kind: 'too-large' });
    expect(verdict([], '{"smoke":true}')).toEqual({ kind: 'unmatched' });
  });
});

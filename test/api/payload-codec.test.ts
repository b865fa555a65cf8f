// PII out of history in clear: every payload is AES-256-GCM ciphertext on the server, readable only with
// our codec (in-process, or through the authenticated /codec endpoint the Web UI uses).
import '../support/quiet-runtime';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { AesGcmCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/codec/aes-gcm-codec';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/config';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { decodedText, payloadsIn, rawText } from '../support/history-payloads';
import { http, startLocalStack, type LocalStack } from '../support/local-stack';
import { codecViewerToken, deviceToken, ownerToken, testCodec } from '../support/test-config';

const HOME = 'home-pii';
const pii = { name: 'Ada Cipherton', phone: '+15557770001', sos: '+15557770911', address: '7 Cipher Lane' };
const DETECTOR = 'kitchen-detector-7';
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    homes: [HOME],
    cancelWindowSeconds: 1,
    homeOverrides: {
      [HOME]: {
        owner: { name: pii.name, phone: pii.phone },
        emergency: { phone: pii.sos, address: pii.address },
        detectors: { [DETECTOR]: { pin: 2 } },
      },
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const codecOf = (keys: { id: string; key: string }[], activeKeyId?: string) =>
  AesGcmCodec.fromConfig({ codec: { keys, activeKeyId, endpoint: { tokens: [], corsOrigins: [] } } });
const history = () => stack.client.workflow.getHandle(smokeAlarmWorkflowId(HOME)).fetchHistory();

describe('payload codec', () => {
  beforeAll(async () => {
    // A whole escalation: smoke, window expires, SMS + call (with the address), all-clear by the owner.
    const opened = await http(stack.api.url, 'POST', `/homes/${HOME}/smoke`, {
      token: deviceToken(HOME),
      body: { detectorId: DETECTOR },
    });
    expect(opened.status).toBe(202);
    await stack.sink.waitFor(() => stack.sink.of('call', HOME).length === 1);
    const cleared = await http(stack.api.url, 'POST', `/homes/${HOME}/alarm/all-clear`, {
      token: ownerToken(HOME),
    });
    expect(cleared.body).toEqual({ state: 'resolved', outcome: 'resolved' });
  });

  test('When the raw history is read without the codec, then no contact, name, address or input is in clear', async () => {
    // A client without our data converter sees what the server stores.
    const raw = await new Client({ connection: stack.client.connection }).workflow
      .getHandle(smokeAlarmWorkflowId(HOME))
      .fetchHistory();
    const text = rawText(raw);
    for (const secret of [pii.name, pii.phone, pii.sos, pii.address, DETECTOR, `${HOME}-owner`]) {
      expect(text).not.toContain(secret);
    }
    const payloads = payloadsIn(raw);
    expect(payloads.length).toBeGreaterThan(10);
    for (const p of payloads) {
      expect(Buffer.from(p.metadata!.encoding).toString()).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(p.metadata![KEY_ID_METADATA]).toString()).toBe('test-key-1');
    }
    // The delivered call did carry the address: it travelled outside history, from configuration.
    expect(stack.sink.of('call', HOME)[0].text).toContain(pii.address);
  });

  test('When the history is decoded with the key, then inputs and the audit name read fine and the status answers', async () => {
    const text = await decodedText(await history(), AesGcmCodec.fromConfig(stack.config));
    expect(text).toContain(DETECTOR);
    expect(text).toContain(`${HOME}-owner`);
    const status = await http(stack.api.url, 'GET', `/homes/${HOME}/alarm`, { token: ownerToken(HOME) });
    expect(status.body).toMatchObject({ state: 'resolved', endedBy: `${HOME}-owner` });
  });

  test('When the key is rotated, then old payloads still decode with the old key and new ones use the new id', async () => {
    const rotated = codecOf([{ id: 'key-2', key: key(9) }, ...testCodec.keys], 'key-2');
    expect(await decodedText(await history(), rotated)).toContain(DETECTOR);
    const [fresh] = await rotated.encode([{ metadata: {}, data: Buffer.from('x') }]);
    expect(Buffer.from(fresh.metadata![KEY_ID_METADATA]).toString()).toBe('key-2');
    // Without the old key, or with tampered bytes, decoding fails loudly instead of returning garbage.
    await expect(decodedText(await history(), codecOf([{ id: 'key-2', key: key(9) }]))).rejects.toThrow(
      /unknown codec key 'test-key-1'/,
    );
    fresh.data![fresh.data!.length - 1] ^= 1;
    await expect(rotated.decode([fresh])).rejects.toThrow();
  });

  describe('codec endpoint (Temporal remote codec protocol)', () => {
    const asJson = (p: {
      metadata?: Record<string, Uint8Array | null | undefined> | null;
      data?: Uint8Array | null;
    }) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
      ),
      data: Buffer.from(p.data!).toString('base64'),
    });
    let body: { payloads: ReturnType<typeof asJson>[] };
    beforeAll(async () => {
      body = {
        payloads: payloadsIn(await history())
          .slice(0, 5)
          .map(asJson),
      };
    });
    const decodedBy = (res: { body: { payloads: { data: string }[] } }) =>
      res.body.payloads.map((p) => Buffer.from(p.data, 'base64').toString()).join('\n');

    test('When a viewer token posts history payloads, then they come back decoded', async () => {
      const res = await http(stack.api.url, 'POST', '/codec/decode', { token: codecViewerToken, body });
      expect(res.status).toBe(200);
      expect(decodedBy(res)).toContain(DETECTOR);
      // The Web UI's form: token in the endpoint URL, called from its origin (CORS).
      const ui = await fetch(`${stack.api.url}/codec/ui/${codecViewerToken}/decode`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: 'http://127.0.0.1:8233',
          'x-namespace': 'default',
        },
        body: JSON.stringify(body),
      });
      expect(ui.status).toBe(200);
      expect(ui.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
      expect(decodedBy({ body: (await ui.json()) as { payloads: { data: string }[] } })).toContain(DETECTOR);
    });

    test('When the codec endpoint is called without a viewer token, then 401 and nothing is decoded', async () => {
      for (const token of [undefined, ownerToken(HOME), 'not-a-viewer-token-000000']) {
        const res = await http(stack.api.url, 'POST', '/codec/decode', { token, body });
        expect(res.status).toBe(401);
        expect(JSON.stringify(res.body)).not.toContain(DETECTOR);
      }
      const ui = await http(stack.api.url, 'POST', '/codec/ui/not-a-viewer-token-000000/decode', { body });
      expect(ui.status).toBe(401);
      const preflight = await fetch(`${stack.api.url}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});

describe('codec configuration', () => {
  test('When keys and the rate limit come from the environment, then they are parsed into the config', () => {
    const config = loadConfig({
      SESSIONFLOW_CODEC_KEYS: `new:${key(2)}, old:${key(1)}`,
      CODEC_ENDPOINT_CORS_ORIGINS: 'http://127.0.0.1:8233,http://localhost:8233',
      API_RATE_LIMIT_PER_MINUTE: '42',
    });
    expect(config.codec.keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(config.codec.endpoint.corsOrigins).toEqual(['http://127.0.0.1:8233', 'http://localhost:8233']);
    expect(config.rateLimit.perTokenPerMinute).toBe(42);
    expect(() => loadConfig({ SESSIONFLOW_CODEC_KEYS: 'no-colon-here' })).toThrow(/codec\.keys\.0/);
  });

  test('When a key has the wrong length or the active id is unknown, then loading fails with the path', () => {
    expect(() =>
      parseConfig({ codec: { keys: [{ id: 'k', key: Buffer.alloc(16).toString('base64') }] } }),
    ).toThrow(/codec\.keys\.0\.key: must be 32 random bytes/);
    expect(() => parseConfig({ codec: { keys: [{ id: 'k', key: key(1) }], activeKeyId: 'other' } })).toThrow(
      ConfigError,
    );
  });

  test.each(['worker/main.js', 'api/main.js'])(
    'When %s starts without a codec key, then it says how to make one and exits 1',
    (entry) => {
      const main = resolve(__dirname, '../../dist', entry);
      if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first (npm test does)`);
      const file = join(mkdtempSync(join(tmpdir(), 'sf-codec-')), 'config.json');
      writeFileSync(file, JSON.stringify({}));
      const run = spawnSync(process.execPath, [main], {
        env: {
          ...process.env,
          SESSIONFLOW_CONFIG_FILE: file,
          TEMPORAL_ADDRESS: '127.0.0.1:1',
          SESSIONFLOW_CODEC_KEYS: '',
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/codec\.keys is empty.*npm run codec-key:new/);
    },
  );
});

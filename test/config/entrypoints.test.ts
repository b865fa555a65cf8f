// The built entrypoints refuse bad configuration with one clear line and exit code 1, before touching Temporal.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testHome } from '../support/test-config';

const dist = resolve(__dirname, '../../dist');

test.each(['worker/main.js', 'api/main.js', 'mqtt/main.js'])(
  'When %s starts with an invalid config, then it names the problem and exits 1',
  (entry) => {
    const main = join(dist, entry);
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first (npm test does)`);
    const file = join(mkdtempSync(join(tmpdir(), 'sf-entry-')), 'config.json');
    writeFileSync(file, JSON.stringify({ homes: { h: testHome('h', { siren: { pin: 99 } }) } }));
    const run = spawnSync(process.execPath, [main], {
      env: { ...process.env, SESSIONFLOW_CONFIG_FILE: file, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^(worker|api|mqtt): invalid configuration/);
    expect(run.stderr).toContain('homes.h.siren.pin');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  },
);

test('When the MQTT process starts without a broker, then it says to set MQTT_URL and exits 1', () => {
  const run = spawnSync(process.execPath, [join(dist, 'mqtt/main.js')], {
    env: { ...process.env, SESSIONFLOW_CONFIG_FILE: '', MQTT_URL: '', TEMPORAL_ADDRESS: '127.0.0.1:1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/^mqtt: set MQTT_URL/);
});

const codecKey = Buffer.alloc(32, 9).toString('base64');
const tokenSecret = 'entrypoint-token-secret-0123456789abcdef';
const entryEnv = (extra: Record<string, string>) => ({
  ...process.env,
  SESSIONFLOW_CONFIG_FILE: '',
  // Nothing listens there: each process logs its configuration before it first talks to Temporal.
  TEMPORAL_ADDRESS: '127.0.0.1:1',
  SESSIONFLOW_CODEC_KEYS: `entry-key-1:${codecKey}`,
  SESSIONFLOW_TOKEN_SECRET: tokenSecret,
  SESSIONFLOW_HOMES_JSON: JSON.stringify({ h: testHome('h', { gateway: 'gw-entry' }) }),
  GATEWAY_ID: 'gw-entry',
  API_PORT: '0',
  LOG_LEVEL: 'info',
  ...extra,
});

/** Runs an entrypoint until it exits or prints `until` (then stops it): its output and exit code. */
function runUntil(entry: string, env: NodeJS.ProcessEnv, until: string) {
  return new Promise<{ output: string; stderr: string; status: number | null }>((done) => {
    const child = spawn(process.execPath, [join(dist, entry)], { env });
    let output = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const seen = () => {
      if (output.includes(until)) child.kill('SIGKILL');
    };
    child.stdout.on('data', (d: Buffer) => ((output += d.toString()), seen()));
    child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), (output += d.toString()), seen()));
    child.on('exit', (status) => {
      clearTimeout(timer);
      done({ output, stderr, status });
    });
  });
}

test.each(['worker/main.js', 'api/main.js', 'gateway/main.js'])(
  'When %s starts, then it logs one line of its active configuration and no secret',
  async (entry) => {
    const { output } = await runUntil(entry, entryEnv({}), 'kinds=');
    const lines = output.split('\n').filter((l) => l.includes('configuration: '));
    expect(lines).toHaveLength(1);
    for (const part of [
      'profile=development',
      'temporal=127.0.0.1:1/default',
      'tls=off',
      'channel=log',
      'codecKeys=entry-key-1(active)',
      'kinds=smoke-alarm,',
    ])
      expect(lines[0]).toContain(part);
    expect(output).not.toContain(codecKey);
    expect(output).not.toContain(tokenSecret);
  },
);

test('When mqtt/main.js starts with a broker password, then its configuration line names the broker and never the password', async () => {
  const password = 'mqtt-password-never-logged-42';
  const { output } = await runUntil(
    'mqtt/main.js',
    entryEnv({
      MQTT_URL: 'mqtt://127.0.0.1:1',
      MQTT_USERNAME: 'sessionflow',
      MQTT_PASSWORD: password,
      SESSIONFLOW_READ_MODEL: join(mkdtempSync(join(tmpdir(), 'sf-entry-')), 'read-model.db'),
      MQTT_DEDUPE_PATH: join(mkdtempSync(join(tmpdir(), 'sf-entry-')), 'ingress.db'),
    }),
    'kinds=',
  );
  const lines = output.split('\n').filter((l) => l.includes('configuration: '));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('mqtt=127.0.0.1:1(0 devices)');
  expect(output).not.toContain(password);
  expect(output).not.toContain(codecKey);
});

test.each(['worker/main.js', 'api/main.js', 'gateway/main.js'])(
  'When %s starts in the production profile with the log channel, then it refuses unless told NOTIFY_ALLOW_LOG=true',
  async (entry) => {
    const run = await runUntil(entry, entryEnv({ SESSIONFLOW_PROFILE: 'production' }), 'kinds=');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/invalid configuration:\n\s+notifications\.channel: .*NOTIFY_ALLOW_LOG=true/);
    const allowed = await runUntil(
      entry,
      entryEnv({ SESSIONFLOW_PROFILE: 'production', NOTIFY_ALLOW_LOG: 'true' }),
      'kinds=',
    );
    expect(allowed.output).toContain('configuration: profile=production');
  },
);

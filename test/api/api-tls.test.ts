// The API terminates TLS itself when given a certificate (API_TLS_CERT / API_TLS_KEY): the built
// entrypoint, a certificate from scripts/make-certs.sh, real HTTPS requests that trust only its CA.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const main = resolve(__dirname, '../../dist/api/main.js');
const certs = mkdtempSync(join(tmpdir(), 'sf-api-tls-'));
let api: ChildProcess | undefined;

beforeAll(() => {
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first (npm test does)`);
  const made = spawnSync('bash', [resolve(__dirname, '../../scripts/make-certs.sh'), certs, '127.0.0.1'], {
    encoding: 'utf8',
  });
  expect(made.status).toBe(0);
});

afterAll(() => {
  api?.kill('SIGKILL');
});

const env = (extra: Record<string, string>) => ({
  ...process.env,
  SESSIONFLOW_CONFIG_FILE: '',
  TEMPORAL_ADDRESS: '127.0.0.1:1', // liveness needs no Temporal
  SESSIONFLOW_CODEC_KEYS: `tls-key-1:${Buffer.alloc(32, 5).toString('base64')}`,
  API_PORT: '0',
  LOG_FORMAT: 'json',
  LOG_LEVEL: 'info',
  ...extra,
});

/** Starts the API and resolves with the URL it logs once listening. */
function startApi(extra: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    api = spawn(process.execPath, [main], { env: env(extra) });
    let out = '';
    const timer = setTimeout(() => fail(new Error(`api did not listen:\n${out}`)), 20_000);
    const seen = (d: Buffer) => {
      out += d.toString();
      const url = /"url":"([^"]+)".*api listening/.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      done(url);
    };
    api.stdout!.on('data', seen);
    api.stderr!.on('data', seen);
    api.once('exit', (code) => fail(new Error(`api exited ${code}:\n${out}`)));
  });
}

const get = (url: string, ca?: Buffer) =>
  new Promise<{ status: number; body: string }>((done, fail) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { ca, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });

test('When the API has a certificate and key, then it answers over HTTPS to a client trusting its CA and refuses plain HTTP and untrusting clients', async () => {
  const url = await startApi({
    API_TLS_CERT: join(certs, 'server.pem'),
    API_TLS_KEY: join(certs, 'server-key.pem'),
  });
  expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const ca = readFileSync(join(certs, 'ca.pem'));
  const health = await get(`${url}/healthz`, ca);
  expect(health.status).toBe(200);
  // A client that does not trust the private CA stops at the handshake.
  await expect(get(`${url}/healthz`)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  // Plain HTTP to the same port gets no HTTP answer.
  const plain = await get(url.replace('https:', 'http:') + '/healthz').catch((err: Error) => err);
  expect(plain).not.toMatchObject({ status: 200 });
});

test('When only the certificate is configured, then the API refuses to start and names the missing variable', () => {
  const run = spawnSync(process.execPath, [main], {
    env: env({ API_TLS_CERT: join(certs, 'server.pem') }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/invalid configuration/);
  expect(run.stderr).toContain('API_TLS_KEY');
});

// The production Temporal server with mTLS on its frontend (deploy/temporal/sessionflow.yaml, certificates
// from scripts/make-certs.sh): one real server start on PostgreSQL. Whoever reaches port 7233 without a
// client certificate from our CA is turned away; the API's client and the worker's native connection,
// configured through TEMPORAL_TLS_* as compose configures them, get in.
import '../support/quiet-runtime';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config/config';
import { temporalConnectionSettings } from '../../src/config/temporal-connection';
import { startProdCluster, type RunningProdCluster } from '../../src/dev/prod-cluster';

const artifacts = resolve(__dirname, '../../test-artifacts');
const makeCerts = resolve(__dirname, '../../scripts/make-certs.sh');
let dataDir: string;
let certs: string;
let strangers: string;
let cluster: RunningProdCluster;

const make = (dir: string) => {
  const run = spawnSync('bash', [makeCerts, dir, 'localhost'], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
};

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  dataDir = mkdtempSync(join(artifacts, 'mtls-'));
  chmodSync(dataDir, 0o755); // PostgreSQL's unprivileged user (when we are root) must reach into it
  certs = join(dataDir, 'certs');
  strangers = join(dataDir, 'other-ca');
  make(certs);
  make(strangers); // a CA of someone else's, with its own client certificate
  cluster = await startProdCluster({
    dataDir,
    pgPassword: randomBytes(12).toString('base64url'),
    tls: { dir: certs, serverName: 'localhost' },
  });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** One call that needs the frontend: describe the namespace. */
async function describeWith(tls: TLSConfig | boolean | undefined): Promise<string> {
  const connection = await Connection.connect({ address: cluster.address, tls, connectTimeout: 3000 });
  try {
    const call = () => connection.workflowService.describeNamespace({ namespace: cluster.namespace });
    const res = await connection.withDeadline(Date.now() + 5000, call);
    return res.namespaceInfo!.name!;
  } finally {
    await connection.close();
  }
}

const pem = (dir: string, name: string) => readFileSync(join(dir, name));

test('When a client reaches the frontend without a client certificate from our CA, then it is refused', async () => {
  // Plaintext gRPC, as an outsider's default client.
  await expect(describeWith(undefined)).rejects.toThrow();
  // TLS that trusts the server, but no client certificate.
  const serverOnly = { serverNameOverride: 'localhost', serverRootCACertificate: pem(certs, 'ca.pem') };
  await expect(describeWith(serverOnly)).rejects.toThrow();
  // A client certificate, but from another CA.
  await expect(
    describeWith({
      ...serverOnly,
      clientCertPair: { crt: pem(strangers, 'client.pem'), key: pem(strangers, 'client-key.pem') },
    }),
  ).rejects.toThrow();
});

test('When the API and the worker connect with TEMPORAL_TLS_* as compose sets them, then both are served', async () => {
  const config = loadConfig({
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: cluster.namespace,
    TEMPORAL_TLS: 'true',
    TEMPORAL_TLS_CA: join(certs, 'ca.pem'),
    TEMPORAL_TLS_CERT: join(certs, 'client.pem'),
    TEMPORAL_TLS_KEY: join(certs, 'client-key.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });
  const settings = temporalConnectionSettings(config);
  expect(await describeWith(settings.tls)).toBe(cluster.namespace);
  // The worker's and gateway's connection (Rust core, its own TLS stack).
  const native = await NativeConnection.connect(settings);
  try {
    const res = await native.workflowService.describeNamespace({ namespace: cluster.namespace });
    expect(res.namespaceInfo?.name).toBe(cluster.namespace);
  } finally {
    await native.close();
  }
});

test('When the Temporal CLI gets TEMPORAL_TLS_* as compose gives its setup service, then it is served; without them it is refused', () => {
  const cli = resolve(__dirname, '../../.tools/bin/temporal');
  const describe = (env: Record<string, string>) =>
    spawnSync(cli, ['operator', 'namespace', 'describe', '--namespace', cluster.namespace], {
      env: { PATH: process.env.PATH, HOME: dataDir, TEMPORAL_ADDRESS: cluster.address, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  expect(describe({}).status).not.toBe(0);
  const served = describe({
    TEMPORAL_TLS: 'true',
    TEMPORAL_TLS_CA: join(certs, 'ca.pem'),
    TEMPORAL_TLS_CERT: join(certs, 'client.pem'),
    TEMPORAL_TLS_KEY: join(certs, 'client-key.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });
  expect(served.stderr).toBe('');
  expect(served.stdout).toContain(cluster.namespace);
});

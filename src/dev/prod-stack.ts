// `npm run stack:prod`: the production shape on this machine, without Docker — PostgreSQL (private data
// dir and port), a real Temporal server on it (SQL visibility, our search attributes), two workers, two
// APIs and the gateway as separate processes, configured like docker-compose.yml configures its
// containers. Data under .data/prod/ survives a restart; Ctrl-C stops everything in order.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig } from '../config/config';
import { runMain } from '../config/run-main';
import { createLogger } from '../config/logger';
import { localDataDir, projectRoot } from './local-paths';
import { newCodecKey, newToken } from './new-secret';
import { startProdCluster } from './prod-cluster';
import {
  appProcessSpecs,
  PROD_GATEWAY_ID,
  prodConfigTemplate,
  startAppProcesses,
  stopAppProcesses,
  waitForHttp,
  channelVariables,
} from './prod-topology';
import { assertPortFree } from './temporal-dev-server';
import { serverTlsFiles } from './temporal-server';

/** What compose takes from the operator's shell, generated once and kept (0600) beside the data. */
interface ProdSecrets {
  pgPassword: string;
  codecKeys: string;
  tokenSecret: string;
}

function ensureSecrets(file: string): ProdSecrets {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ProdSecrets;
  const secrets: ProdSecrets = {
    pgPassword: randomBytes(18).toString('base64url'),
    codecKeys: `prod-1:${newCodecKey()}`,
    tokenSecret: randomBytes(32).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return secrets;
}

type TokenEntry = { name: string; role: string; token?: string; sha256?: string };

/**
 * The config compose mounts (deploy/sessionflow.example.json), with fresh plain tokens in place of its
 * example hashes so the banner's curl lines work; written once, kept, git-ignored.
 */
function ensureConfig(file: string): void {
  if (existsSync(file)) return;
  const example = JSON.parse(readFileSync(resolve(projectRoot, prodConfigTemplate), 'utf8')) as {
    homes: Record<string, { tokens: TokenEntry[] }>;
    tokens: TokenEntry[];
  };
  const fresh = (tokens: TokenEntry[]) => tokens.map(({ name, role }) => ({ name, role, token: newToken() }));
  for (const home of Object.values(example.homes)) home.tokens = fresh(home.tokens);
  example.tokens = fresh(example.tokens);
  writeFileSync(file, JSON.stringify(example, null, 2) + '\n', { mode: 0o600 });
}

async function main() {
  const logger = createLogger('stack:prod');
  const env = process.env;
  const dataDir = resolve(localDataDir(env), 'prod');
  mkdirSync(dataDir, { recursive: true });
  const secrets = ensureSecrets(resolve(dataDir, 'secrets.json'));
  const configFile = resolve(dataDir, 'sessionflow.json');
  ensureConfig(configFile);
  const config = parseConfig(JSON.parse(readFileSync(configFile, 'utf8')));

  const apiPort = Number(env.API_PORT ?? 3000);
  const apiPorts = [apiPort, apiPort + 1];
  const gatewayHttpPort = apiPort + 2;
  const temporalPort = Number(env.TEMPORAL_PORT ?? 17233);
  const pgPort = Number(env.PROD_PG_PORT ?? 15432);
  for (const port of [...apiPorts, gatewayHttpPort])
    await assertPortFree(port, 'set API_PORT (uses it and the next two)');
  await assertPortFree(temporalPort, 'set TEMPORAL_PORT to a free port');
  await assertPortFree(pgPort, 'set PROD_PG_PORT to a free port');

  // mTLS on the Temporal frontend, as compose runs it: a private CA made once for this data dir.
  const temporalTls = { dir: resolve(dataDir, 'certs'), serverName: 'localhost' };
  if (!existsSync(serverTlsFiles(temporalTls.dir).clientCert))
    execFileSync('bash', [resolve(projectRoot, 'scripts/make-certs.sh'), temporalTls.dir, 'localhost'], {
      stdio: 'ignore',
    });

  logger.info({ dataDir, pgPort, temporalPort }, 'starting PostgreSQL and the Temporal server (mTLS)');
  const cluster = await startProdCluster({
    dataDir,
    pgPassword: secrets.pgPassword,
    pgPort,
    temporalPort,
    tls: temporalTls,
  });
  logger.info({ address: cluster.address, ...cluster.timings }, 'Temporal server on PostgreSQL ready');

  const logDir = resolve(dataDir, 'logs');
  const processes = startAppProcesses(
    appProcessSpecs({
      temporalAddress: cluster.address,
      namespace: cluster.namespace,
      taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'sessionflow',
      configFile,
      codecKeys: secrets.codecKeys,
      tokenSecret: secrets.tokenSecret,
      apiHost: '127.0.0.1',
      apiPorts,
      gatewayHttpHost: '127.0.0.1',
      gatewayHttpPort,
      notifyChannel: 'log',
      notifyWebhookUrl: '',
      channels: Object.fromEntries(channelVariables.map((k) => [k, env[k] ?? ''])),
      sentLog: resolve(dataDir, 'notifications-sent.db'),
      readModel: resolve(dataDir, 'read-model.db'),
      logLevel: env.LOG_LEVEL ?? 'info',
      temporalTls,
    }),
    {
      root: projectRoot,
      logDir,
      restart: true,
      onExit: (process, code, restarting) => {
        if (restarting) logger.warn({ process, code }, 'exited unasked; starting it again in 1 s');
        else logger.info({ process, code }, 'stopped');
      },
    },
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: APIs, gateway, workers, Temporal server, PostgreSQL');
    await stopAppProcesses(processes);
    await cluster.stop();
    logger.info('stopped cleanly');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const apiUrls = apiPorts.map((p) => `http://127.0.0.1:${p}`);
  await Promise.all([
    ...apiUrls.map((u) => waitForHttp(`${u}/readyz`)),
    waitForHttp(`http://127.0.0.1:${gatewayHttpPort}/status`),
  ]);
  printBanner(
    configFile,
    apiUrls,
    cluster.address,
    cluster.pg.port,
    logDir,
    config.temporal.namespace,
    temporalTls.dir,
  );
}

function printBanner(
  configFile: string,
  apiUrls: string[],
  temporalAddress: string,
  pgPort: number,
  logDir: string,
  namespace: string,
  certs: string,
) {
  const raw = JSON.parse(readFileSync(configFile, 'utf8')) as {
    homes: Record<string, { tokens: TokenEntry[] }>;
    tokens: TokenEntry[];
  };
  const [homeId, home] = Object.entries(raw.homes)[0];
  const token = (tokens: TokenEntry[], role: string) =>
    tokens.find((t) => t.role === role)?.token ?? `<${role}>`;
  const h = (t: string) => `-H 'Authorization: Bearer ${t}'`;
  const lines = [
    '',
    'sessionflow production shape is running (PostgreSQL, Temporal server, 2 workers, 2 APIs, gateway)',
    `  APIs           ${apiUrls.join('  ')}   (either one; they share nothing but Temporal)`,
    `  Temporal gRPC  ${temporalAddress}   namespace ${namespace}   mTLS: certificates in ${certs}`,
    `                 (temporal workflow list --address ${temporalAddress} --tls-ca-path ${certs}/ca.pem --tls-cert-path ${certs}/client.pem --tls-key-path ${certs}/client-key.pem --tls-server-name localhost)`,
    `  PostgreSQL     127.0.0.1:${pgPort}   databases temporal, temporal_visibility`,
    `  Gateway        ${PROD_GATEWAY_ID} owns ${homeId}'s board (simulated)`,
    `  Config         ${configFile}`,
    `  Logs           ${logDir}/<process>.log`,
    '',
    `Smoke in ${homeId} through one API, its status through the other:`,
    `  curl -i -X POST ${apiUrls[0]}/homes/${homeId}/smoke ${h(token(home.tokens, 'device'))} -H 'Content-Type: application/json' -d '{"detectorId":"kitchen"}'`,
    `  curl -s ${apiUrls[1]}/homes/${homeId}/alarm ${h(token(home.tokens, 'owner'))}`,
    `Orders: as in the README, with the customer token ${token(raw.tokens, 'customer')}`,
    '',
    'Ctrl-C stops everything in order; sessions survive in PostgreSQL under .data/prod/.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

runMain('stack:prod', main);

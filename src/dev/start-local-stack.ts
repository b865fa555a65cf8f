// `npm start`: the whole system on one machine in one process tree — Temporal dev server (SQLite under .data/,
// Web UI), the worker with a simulated siren board, and the HTTP API. Ctrl-C stops it all in order.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { startWebServer, stopWebServer } from '../api/server';
import { createTemporalGateway } from '../api/temporal-gateway';
import { loadConfig, requireCodecKeys } from '../config/config';
import { runMain } from '../config/run-main';
import { createLogger } from '../config/logger';
import { buildActivityDeps } from '../worker/activity-deps';
import { createWorker } from '../worker/create-worker';
import { newCodecKey, newToken } from './new-secret';
import { assertPortFree, startTemporalDevServer, type RunningDevServer } from './temporal-dev-server';

const root = resolve(__dirname, '../..');
// SESSIONFLOW_DATA_DIR lets a second stack (or a test) run beside the default one.
const dataDir = resolve(root, process.env.SESSIONFLOW_DATA_DIR ?? '.data');
const DEMO_HOME = 'home-42';

/** First run: a local config with one demo home and fresh random tokens (git-ignored, never reused). */
function ensureLocalConfig(file: string): void {
  if (existsSync(file)) return;
  const token = newToken;
  const config = {
    homes: {
      [DEMO_HOME]: {
        owner: { name: 'Demo Owner', phone: '+15550100042' },
        emergency: { phone: '+15550100911', address: '42 Demo Street' },
        siren: { pin: 13, component: 'relay' },
        tokens: [
          { name: 'hall-detector', role: 'device', token: token() },
          { name: 'owner-phone', role: 'owner', token: token() },
        ],
      },
    },
  };
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}

/**
 * Payload encryption in dev: a key and a Web UI codec token are generated into the local config when it
 * has none (also for configs from before encryption). Returns the UI's codec token.
 */
function ensureLocalCodec(file: string, keysFromEnv: boolean): string | undefined {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as {
    codec?: { keys?: unknown[]; endpoint?: { tokens?: { name: string; token?: string }[] } };
  };
  const codec = (raw.codec ??= {});
  let changed = false;
  if (!keysFromEnv && !codec.keys?.length) {
    codec.keys = [{ id: 'local-1', key: newCodecKey() }];
    changed = true;
  }
  codec.endpoint ??= {};
  const tokens = (codec.endpoint.tokens ??= []);
  let ui = tokens.find((t) => t.name === 'web-ui');
  if (!ui) {
    ui = { name: 'web-ui', token: newToken() };
    tokens.push(ui);
    changed = true;
  }
  if (changed) writeFileSync(file, JSON.stringify(raw, null, 2) + '\n', { mode: 0o600 });
  return ui.token;
}

async function main() {
  const logger = createLogger('sessionflow');
  // The SDK's own chatter (bundler output, worker state) only when something is wrong.
  // We stop things in order ourselves on Ctrl-C, so the SDK must not react to the signals on its own.
  Runtime.install({
    logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL ?? 'WARN') as LogLevel),
    shutdownSignals: [],
  });
  mkdirSync(dataDir, { recursive: true });
  const env = { ...process.env };
  // Only our own local config is ever written to; a config the user points us at is theirs.
  let uiCodecToken: string | undefined;
  if (!env.SESSIONFLOW_CONFIG_FILE) {
    env.SESSIONFLOW_CONFIG_FILE = resolve(dataDir, 'sessionflow.local.json');
    ensureLocalConfig(env.SESSIONFLOW_CONFIG_FILE);
    uiCodecToken = ensureLocalCodec(env.SESSIONFLOW_CONFIG_FILE, Boolean(env.SESSIONFLOW_CODEC_KEYS));
  }

  // An explicit TEMPORAL_ADDRESS means "attach to that server"; otherwise run our own dev server.
  let devServer: RunningDevServer | undefined;
  const apiPort = Number(env.API_PORT ?? 3000);
  await assertPortFree(apiPort, 'set API_PORT to a free port', env.API_HOST ?? '127.0.0.1');
  if (!env.TEMPORAL_ADDRESS) {
    const port = Number(env.TEMPORAL_PORT ?? 7233);
    const hint = `another Temporal server? Set TEMPORAL_PORT to a free port, or TEMPORAL_ADDRESS=127.0.0.1:${port} to use that server`;
    await assertPortFree(port, hint);
    await assertPortFree(port + 1000, `the Web UI uses TEMPORAL_PORT + 1000; ${hint}`);
    // The Web UI shows payloads decoded through our authenticated codec endpoint (token in its URL).
    env.CODEC_ENDPOINT_CORS_ORIGINS ??= `http://127.0.0.1:${port + 1000},http://localhost:${port + 1000}`;
    const apiHost = env.API_HOST && env.API_HOST !== '0.0.0.0' ? env.API_HOST : '127.0.0.1';
    logger.info({ port, dataDir }, 'starting Temporal dev server (SQLite: temporal.db in the data dir)');
    devServer = await startTemporalDevServer({
      dbFile: resolve(dataDir, 'temporal.db'),
      port,
      uiPort: port + 1000,
      logFile: resolve(dataDir, 'temporal-server.log'),
      uiCodecEndpoint: uiCodecToken && `http://${apiHost}:${apiPort}/codec/ui/${uiCodecToken}`,
    });
    env.TEMPORAL_ADDRESS = devServer.address;
  }
  const config = loadConfig(env);
  requireCodecKeys(config);

  const deps = buildActivityDeps(config, logger);
  const worker = await createWorker({ config, deps });
  const workerRun = worker.run();
  const temporal = createTemporalGateway(config);
  const web = await startWebServer({ config, temporal, logger }, config.api.port, config.api.host);

  let stoppingSince: number | undefined;
  const stop = async (signal: string) => {
    if (stoppingSince !== undefined) {
      // Under `npm start`, Ctrl-C arrives twice at once (from the terminal and forwarded by npm):
      // only a deliberate second Ctrl-C, a moment later, forces the exit.
      if (Date.now() - stoppingSince < 1000) return;
      logger.warn('second signal: exiting now');
      devServer?.kill();
      process.exit(1);
    }
    stoppingSince = Date.now();
    logger.info({ signal }, 'stopping: api, worker, Temporal server');
    await stopWebServer(web);
    await temporal.close();
    worker.shutdown();
    await workerRun;
    deps.sirens.close();
    await devServer?.stop();
    logger.info('stopped cleanly');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  printBanner(config, env.SESSIONFLOW_CONFIG_FILE, web.url, devServer?.uiUrl);
  await workerRun;
}

function printBanner(
  config: ReturnType<typeof loadConfig>,
  configFile: string,
  apiUrl: string,
  uiUrl: string | undefined,
) {
  // The plain demo tokens live only in the local, git-ignored file; show them so the curl lines paste as-is.
  let device = '<device token>';
  let owner = '<owner token>';
  if (config.homes[DEMO_HOME]) {
    const raw = JSON.parse(readFileSync(configFile, 'utf8')) as {
      homes?: Record<string, { tokens?: { role: string; token?: string }[] }>;
    };
    const tokens = raw.homes?.[DEMO_HOME]?.tokens ?? [];
    device = tokens.find((t) => t.role === 'device')?.token ?? device;
    owner = tokens.find((t) => t.role === 'owner')?.token ?? owner;
  }
  const h = (t: string) => `-H 'Authorization: Bearer ${t}'`;
  const lines = [
    '',
    'sessionflow is running',
    `  API            ${apiUrl}`,
    `  Temporal UI    ${uiUrl ? `${uiUrl}/namespaces/${config.temporal.namespace}/workflows` : '(attached to ' + config.temporal.address + ')'}`,
    `  Temporal gRPC  ${config.temporal.address}   task queue: ${config.temporal.taskQueue}`,
    `  Config         ${configFile}`,
    '',
    `Trigger a smoke alarm in ${DEMO_HOME} (siren on, owner told, ${config.homes[DEMO_HOME]?.cancelWindowSeconds ?? config.alarm.cancelWindowSeconds} s to cancel):`,
    `  curl -i -X POST ${apiUrl}/homes/${DEMO_HOME}/smoke ${h(device)} -H 'Content-Type: application/json' -d '{"detectorId":"kitchen"}'`,
    'Where is it now?',
    `  curl -s ${apiUrl}/homes/${DEMO_HOME}/alarm ${h(owner)}`,
    'Cancel (inside the window), or all-clear (after escalation):',
    `  curl -s -X POST ${apiUrl}/homes/${DEMO_HOME}/alarm/cancel ${h(owner)}`,
    `  curl -s -X POST ${apiUrl}/homes/${DEMO_HOME}/alarm/all-clear ${h(owner)}`,
    '',
    `Ctrl-C stops everything; sessions survive in ${resolve(dataDir, 'temporal.db')}.`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

runMain('sessionflow', main);

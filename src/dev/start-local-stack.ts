// `npm start`: the whole system on one machine in one process tree — Temporal dev server (SQLite under .data/,
// Web UI), the worker with its embedded gateway (simulated siren board and detectors), the HTTP API, and an
// embedded MQTT broker with the MQTT ingress and state publisher. Ctrl-C stops it all in order.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startWebServer, stopWebServer } from '../api/server';
import { createTemporalGateway } from '../api/temporal-gateway';
import { loadConfig, requireCodecKeys } from '../config/config';
import { runMain } from '../config/run-main';
import { createLogger } from '../config/logger';
import { installRuntime } from '../config/runtime';
import { startTracing } from '../config/tracing';
import { EMBEDDED_GATEWAY, gatewayClient } from '../gateway/gateway';
import { startGatewayHttp } from '../gateway/http';
import { startMqtt } from '../mqtt/bridge';
import { startEmbeddedBroker, type EmbeddedBroker } from '../mqtt/embedded-broker';
import { buildActivityDeps } from '../worker/activity-deps';
import { connectWorker, createWorker } from '../worker/create-worker';
import { settingsOf } from '../config/kinds';
import { sessionKind as smokeAlarm, type AlarmHome } from '../shared/smoke-alarm';
import { ensurePrivateDir, localConfigFile, localDataDir, localServerPidFile, tighten } from './local-paths';
import { newCodecKey, newToken } from './new-secret';
import {
  assertPortFree,
  startTemporalDevServer,
  stopOrphanedDevServer,
  type RunningDevServer,
} from './temporal-dev-server';

const dataDir = localDataDir();
const DEMO_HOME = 'home-42';
/** A simulated front-door contact (`npm run press -- home-42 front` opens it) and who hears after the owner. */
const demoDoor = {
  doors: { front: { pin: 4 } },
  secondContact: { name: 'Demo Neighbour', phone: '+15550100043' },
};
/** What a Zigbee2MQTT smoke detector and door contact of the demo home publish, and the events they become. */
const demoSmokeTopic = `zigbee2mqtt/${DEMO_HOME}/kitchen_smoke`;
const demoDoorTopic = `zigbee2mqtt/${DEMO_HOME}/front_door`;
const demoMqtt = {
  ingress: {
    devices: {
      'kitchen-smoke': {
        topic: demoSmokeTopic,
        match: { json: { smoke: true } },
        kind: 'smoke-alarm',
        key: DEMO_HOME,
        event: 'smokeDetected',
        body: { detectorId: 'kitchen' },
      },
      // Zigbee2MQTT contact sensors report `contact: true` while closed.
      ...Object.fromEntries(
        (['opened', 'closed'] as const).map((edge) => [
          `front-door-${edge}`,
          {
            topic: demoDoorTopic,
            match: { json: { contact: edge === 'closed' } },
            kind: 'door-left-open',
            key: `${DEMO_HOME}.front`,
            event: edge === 'opened' ? 'doorOpened' : 'doorClosed',
          },
        ]),
      ),
    },
  },
};

/**
 * First run: a local config with one demo home, a shop with a staff and a customer, and fresh random
 * tokens (git-ignored, never reused). A config from an older version gets the sections it lacks.
 */
function ensureLocalConfig(file: string): void {
  const existing = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
    : {};
  const token = newToken;
  const defaults: Record<string, unknown> = {
    homes: {
      [DEMO_HOME]: {
        owner: { name: 'Demo Owner', phone: '+15550100042' },
        emergency: { phone: '+15550100911', address: '42 Demo Street' },
        siren: { pin: 13, component: 'relay' },
        // Simulated smoke detectors: `npm run press -- home-42 kitchen` plays one.
        detectors: { kitchen: { pin: 2 }, hall: { pin: 3 } },
        ...demoDoor,
        tokens: [
          { name: 'hall-detector', role: 'device', token: token() },
          { name: 'owner-phone', role: 'owner', token: token() },
        ],
      },
    },
    operators: [{ name: 'demo-operator', role: 'operator', token: token() }],
    tokenSecret: randomBytes(32).toString('base64url'),
    // Short enough to watch: the owner is reminded after 30 s, the neighbour told after 90 s.
    doors: { remindAfterSeconds: 30, escalateAfterSeconds: 90 },
    // Device rules for the embedded MQTT broker (the launcher sets mqtt.url).
    mqtt: demoMqtt,
    tokens: [
      { name: 'shop-staff', role: 'staff', token: token() },
      { name: 'demo-customer', role: 'customer', token: token() },
    ],
  };
  // Configs from before session kinds were plug-ins kept the shop's tokens and secret under `pizza`.
  const pizza = existing.pizza as { tokens?: unknown; orderTokenSecret?: unknown } | undefined;
  let moved = false;
  if (pizza?.tokens !== undefined && !('tokens' in existing)) {
    existing.tokens = pizza.tokens;
    delete pizza.tokens;
    moved = true;
  }
  if (pizza?.orderTokenSecret !== undefined && !('tokenSecret' in existing)) {
    existing.tokenSecret = pizza.orderTokenSecret;
    delete pizza.orderTokenSecret;
    moved = true;
  }
  // Configs from before the door kind: the demo home gets its simulated front door.
  const demoHome = (existing.homes as Record<string, Record<string, unknown>> | undefined)?.[DEMO_HOME];
  if (demoHome && !('doors' in demoHome)) {
    Object.assign(demoHome, demoDoor);
    moved = true;
  }
  const missing = Object.keys(defaults).filter((k) => !(k in existing));
  if (missing.length === 0 && !moved) return;
  const config = { ...existing, ...Object.fromEntries(missing.map((k) => [k, defaults[k]])) };
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}

/**
 * Payload encryption in dev: a key and a Web UI codec token are generated into the local config when it
 * has none (also for configs from before encryption). Returns the UI's codec token.
 */
function ensureLocalCodec(file: string, keysFromEnv: boolean, hasSessions: boolean): string | undefined {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as {
    codec?: {
      keys?: unknown[];
      strict?: boolean;
      endpoint?: { tokens?: { name: string; role: string; token?: string }[] };
    };
  };
  const codec = (raw.codec ??= {});
  let changed = false;
  if (!keysFromEnv && !codec.keys?.length) {
    codec.keys = [{ id: 'local-1', key: newCodecKey() }];
    // Sessions from before encryption hold plaintext payloads: a strict codec would refuse them.
    if (hasSessions) codec.strict ??= false;
    changed = true;
  }
  codec.endpoint ??= {};
  const tokens = (codec.endpoint.tokens ??= []);
  let ui = tokens.find((t) => t.name === 'web-ui');
  if (!ui) {
    ui = { name: 'web-ui', role: 'codec-viewer', token: newToken() };
    tokens.push(ui);
    changed = true;
  }
  if (changed) writeFileSync(file, JSON.stringify(raw, null, 2) + '\n', { mode: 0o600 });
  return ui.token;
}

async function main() {
  const logger = createLogger('sessionflow');
  // Workflow and activity lines through our logger; the SDK's own chatter only when something is wrong.
  // We stop things in order ourselves on Ctrl-C, so the SDK must not react to the signals on its own.
  // Installed before the dev server starts (its fallback download uses the runtime), so the metrics
  // address comes straight from the environment; loadConfig below checks it like every other value.
  installRuntime(
    logger,
    { metricsAddress: process.env.SESSIONFLOW_METRICS_ADDRESS || undefined },
    { shutdownSignals: [] },
  );
  const octal = (mode: number) => `0${mode.toString(8)}`;
  const dirWas = ensurePrivateDir(dataDir).tightenedFrom;
  if (dirWas !== undefined)
    logger.warn({ dataDir, was: octal(dirWas), now: '0700' }, 'data dir was readable by others: tightened');
  const env = { ...process.env };
  // Only our own local config is ever written to; a config the user points us at is theirs.
  let uiCodecToken: string | undefined;
  if (!env.SESSIONFLOW_CONFIG_FILE) {
    const file = (env.SESSIONFLOW_CONFIG_FILE = localConfigFile(env));
    ensureLocalConfig(file);
    const hasSessions = existsSync(resolve(dataDir, 'temporal.db'));
    uiCodecToken = ensureLocalCodec(file, Boolean(env.SESSIONFLOW_CODEC_KEYS), hasSessions);
    // It holds plain tokens and the codec key; a file from an older version may be world-readable.
    const fileWas = tighten(file, 0o600).tightenedFrom;
    if (fileWas !== undefined)
      logger.warn(
        { file, was: octal(fileWas), now: '0600' },
        'local config was readable by others: tightened',
      );
  }

  // An explicit TEMPORAL_ADDRESS means "attach to that server"; otherwise run our own dev server.
  let devServer: RunningDevServer | undefined;
  const apiPort = Number(env.API_PORT ?? 3000);
  await assertPortFree(apiPort, 'set API_PORT to a free port', env.API_HOST ?? '127.0.0.1');
  // The embedded gateway's status + simulated-board controls (`npm run press`), next to the API.
  env.GATEWAY_HTTP_PORT ??= String(apiPort + 1);
  // The /ui page presses the embedded gateway's simulated detectors through the API.
  env.SESSIONFLOW_SIMULATOR_URL ??= `http://${env.GATEWAY_HTTP_HOST ?? '127.0.0.1'}:${env.GATEWAY_HTTP_PORT}`;
  await assertPortFree(Number(env.GATEWAY_HTTP_PORT), 'set GATEWAY_HTTP_PORT to a free port');
  const dbFile = resolve(dataDir, 'temporal.db');
  const pidFile = localServerPidFile(env);
  if (!env.TEMPORAL_ADDRESS) {
    // A launcher killed with SIGKILL leaves its detached server running on our db file and ports.
    const orphan = await stopOrphanedDevServer({ pidFile, dbFile });
    if (orphan !== undefined)
      logger.warn({ pid: orphan }, 'stopped the Temporal dev server a previous run left behind');
    const port = Number(env.TEMPORAL_PORT ?? 7233);
    const hint = `another Temporal server? Set TEMPORAL_PORT to a free port, or TEMPORAL_ADDRESS=127.0.0.1:${port} to use that server`;
    await assertPortFree(port, hint);
    await assertPortFree(port + 1000, `the Web UI uses TEMPORAL_PORT + 1000; ${hint}`);
    // The Web UI shows payloads decoded through our authenticated codec endpoint (token in its URL).
    env.CODEC_ENDPOINT_CORS_ORIGINS ??= `http://127.0.0.1:${port + 1000},http://localhost:${port + 1000}`;
    const apiHost = env.API_HOST && env.API_HOST !== '0.0.0.0' ? env.API_HOST : '127.0.0.1';
    logger.info({ port, dataDir }, 'starting Temporal dev server (SQLite: temporal.db in the data dir)');
    devServer = await startTemporalDevServer({
      dbFile,
      pidFile,
      port,
      uiPort: port + 1000,
      logFile: resolve(dataDir, 'temporal-server.log'),
      uiCodecEndpoint: uiCodecToken && `http://${apiHost}:${apiPort}/codec/ui/${uiCodecToken}`,
    });
    env.TEMPORAL_ADDRESS = devServer.address;
    if (devServer.uiUrl) env.TEMPORAL_WEB_URL ??= devServer.uiUrl;
  }
  // An embedded MQTT broker unless MQTT_URL names one (Mosquitto, Home Assistant's): devices publish to it.
  let broker: EmbeddedBroker | undefined;
  if (!env.MQTT_URL) {
    const mqttPort = Number(env.MQTT_PORT ?? 1883);
    const mqttHost = env.MQTT_HOST ?? '127.0.0.1';
    await assertPortFree(
      mqttPort,
      'another MQTT broker? Set MQTT_PORT to a free port, or MQTT_URL=mqtt://127.0.0.1:1883 to use that broker',
      mqttHost,
    );
    broker = await startEmbeddedBroker({ host: mqttHost, port: mqttPort });
    env.MQTT_URL = broker.url;
  }
  env.MQTT_DEDUPE_PATH ??= resolve(dataDir, 'mqtt-ingress.db');
  const config = loadConfig(env);
  requireCodecKeys(config);
  // API, worker and embedded gateway in one process: one service in the traces (when an endpoint is set).
  startTracing('sessionflow', config.telemetry);

  // The embedded gateway, the API and the MQTT ingress share the worker's connection: a session opened by
  // a detector, a POST or a device's message then runs its first task here at once (an eager start).
  const workerConnection = await connectWorker(config);
  const gatewayClientOfWorker = gatewayClient(
    config,
    `sessionflow-${EMBEDDED_GATEWAY}-gateway`,
    workerConnection,
  );
  const deps = buildActivityDeps(config, logger, { client: gatewayClientOfWorker, eagerOpenings: true });
  deps.gateway.start();
  const gatewayHttp = await startGatewayHttp(deps.gateway, config, logger);
  const worker = await createWorker({ config, deps, connection: workerConnection, eagerStarts: true });
  const workerRun = worker.run();
  const temporal = createTemporalGateway(config, workerConnection);
  const web = await startWebServer({ config, temporal, logger }, config.api.port, config.api.host);
  const mqttClient = gatewayClient(config, 'sessionflow-mqtt-ingress', workerConnection);
  // Session states from the API's read model feed: every change, in order.
  const mqtt = startMqtt({
    config,
    client: mqttClient,
    eagerOpenings: true,
    logger,
    source: web.readModel?.feed,
  });

  let stoppingSince: number | undefined;
  const stop = async (signal: string) => {
    if (stoppingSince !== undefined) {
      // Under `npm start`, Ctrl-C arrives twice at once (from the terminal and forwarded by npm):
      // only a deliberate second Ctrl-C, a moment later, forces the exit.
      if (Date.now() - stoppingSince < 1000) return;
      logger.warn('second signal: exiting now');
      void devServer?.kill();
      process.exit(1);
    }
    stoppingSince = Date.now();
    logger.info({ signal }, 'stopping: api, worker, Temporal server');
    await mqtt?.stop();
    await broker?.stop();
    await stopWebServer(web);
    await temporal.close();
    worker.shutdown();
    await workerRun;
    if (gatewayHttp) await stopWebServer(gatewayHttp);
    await deps.gateway.stop();
    await workerConnection.close();
    await devServer?.stop();
    logger.info('stopped cleanly');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  printBanner(config, env.SESSIONFLOW_CONFIG_FILE, web.url, devServer?.uiUrl, gatewayHttp?.url, broker);
  await workerRun;
}

/** How to play the demo home's Zigbee2MQTT smoke detector, when its rule is configured. */
function mqttLines(config: ReturnType<typeof loadConfig>): string[] {
  const { url, ingress } = config.mqtt;
  if (!url || !Object.values(ingress.devices).some((d) => d.topic === demoSmokeTopic)) return [];
  const { hostname, port } = new URL(url);
  const at = `-h ${hostname} -p ${port || 1883}`;
  const smoke = `-t ${demoSmokeTopic} -m '{"smoke":true}'`;
  return [
    'Or publish what a Zigbee2MQTT smoke detector sends (session states: mosquitto_sub ' +
      at +
      " -v -t 'sessionflow/#'):",
    `  mosquitto_pub ${at} -q 1 ${smoke}`,
    `  npx mqtt pub ${at} -q 1 ${smoke}`,
  ];
}

/** The demo home's cancel window, for the banner. */
const cancelWindowSeconds = (config: ReturnType<typeof loadConfig>) =>
  (config.homes[DEMO_HOME] as Partial<AlarmHome> | undefined)?.cancelWindowSeconds ??
  settingsOf(smokeAlarm, config).cancelWindowSeconds;

function printBanner(
  config: ReturnType<typeof loadConfig>,
  configFile: string,
  apiUrl: string,
  uiUrl: string | undefined,
  gatewayUrl: string | undefined,
  broker: EmbeddedBroker | undefined,
) {
  // The plain demo tokens live only in the local, git-ignored file; show them so the curl lines paste as-is.
  type Tokens = { role: string; token?: string }[];
  const raw = JSON.parse(readFileSync(configFile, 'utf8')) as {
    homes?: Record<string, { tokens?: Tokens }>;
    tokens?: Tokens;
    operators?: Tokens;
  };
  const plain = (tokens: Tokens | undefined, role: string) =>
    tokens?.find((t) => t.role === role)?.token ?? `<${role} token>`;
  const device = plain(raw.homes?.[DEMO_HOME]?.tokens, 'device');
  const owner = plain(raw.homes?.[DEMO_HOME]?.tokens, 'owner');
  const customer = plain(raw.tokens, 'customer');
  const staff = plain(raw.tokens, 'staff');
  const operator = raw.operators?.find((t) => t.role === 'operator')?.token;
  const json = `-H 'Content-Type: application/json'`;
  const order = JSON.stringify({
    items: [{ sku: 'margherita', qty: 2 }],
    address: '42 Demo Street',
    customer: { name: 'Demo Customer', phone: '+15550100042' },
  });
  const h = (t: string) => `-H 'Authorization: Bearer ${t}'`;
  const lines = [
    '',
    'sessionflow is running',
    `  API            ${apiUrl}`,
    `  Sessions UI    ${apiUrl}/ui${operator ? `#token=${operator}` : ''}   (state diagrams, timers, actions)`,
    `  Temporal UI    ${uiUrl ? `${uiUrl}/namespaces/${config.temporal.namespace}/workflows` : '(attached to ' + config.temporal.address + ')'}`,
    `  Temporal gRPC  ${config.temporal.address}   task queue: ${config.temporal.taskQueue}`,
    `  Config         ${configFile}`,
    `  MQTT broker    ${config.mqtt.url ?? '(none)'}${broker ? '   (embedded; MQTT_URL=… uses another, see docs/mqtt.md)' : ''}`,
    '',
    `Trigger a smoke alarm in ${DEMO_HOME} (siren on, owner told, ${cancelWindowSeconds(config)} s to cancel):`,
    `  curl -i -X POST ${apiUrl}/homes/${DEMO_HOME}/smoke ${h(device)} -H 'Content-Type: application/json' -d '{"detectorId":"kitchen"}'`,
    ...(gatewayUrl
      ? [
          'Or press its simulated kitchen detector (board state: curl -s ' + gatewayUrl + '/status):',
          `  GATEWAY_URL=${gatewayUrl} npm run press -- ${DEMO_HOME} kitchen`,
        ]
      : []),
    ...mqttLines(config),
    'Where is it now?',
    `  curl -s ${apiUrl}/homes/${DEMO_HOME}/alarm ${h(owner)}`,
    'Cancel (inside the window), or all-clear (after escalation):',
    `  curl -s -X POST ${apiUrl}/homes/${DEMO_HOME}/alarm/cancel ${h(owner)}`,
    `  curl -s -X POST ${apiUrl}/homes/${DEMO_HOME}/alarm/all-clear ${h(owner)}`,
    '',
    `Leave the front door of ${DEMO_HOME} open (any kind also answers on /sessions/<kind>/<key>/…):`,
    `  curl -s -X POST ${apiUrl}/sessions/door-left-open/${DEMO_HOME}.front/events/doorOpened ${h(device)}`,
    ...(gatewayUrl
      ? [`Or open its simulated contact:  GATEWAY_URL=${gatewayUrl} npm run press -- ${DEMO_HOME} front`]
      : []),
    'Snooze the reminders, see it, and close the door (press ... front release, or doorClosed):',
    `  curl -s -X POST ${apiUrl}/sessions/door-left-open/${DEMO_HOME}.front/requests/snooze ${h(owner)} ${json} -d '{"minutes":5}'`,
    `  curl -s ${apiUrl}/sessions/door-left-open/${DEMO_HOME}.front ${h(owner)}`,
    `  curl -s -X POST ${apiUrl}/sessions/door-left-open/${DEMO_HOME}.front/events/doorClosed ${h(device)}`,
    '',
    'Order a pizza as the demo customer, set ORDER=<the orderId it answers>, then pay and follow it:',
    `  curl -s -X POST ${apiUrl}/orders ${h(customer)} ${json} -d '${order}'`,
    `  curl -s -X POST ${apiUrl}/orders/$ORDER/payment ${h(customer)} ${json} -d '{"amountCents":1800,"paymentMethod":"pm_card_visa"}'`,
    `  curl -s ${apiUrl}/orders/$ORDER ${h(customer)}`,
    `The kitchen and the driver (staff token) move it on: {"event":"accepted"|"in-oven"|"baked"} to /kitchen,`,
    `{"event":"picked-up"|"delivered"} to /delivery:`,
    `  curl -s -X POST ${apiUrl}/orders/$ORDER/kitchen ${h(staff)} ${json} -d '{"event":"accepted"}'`,
    'Or play a whole order end to end:  npm run demo:pizza',
    '',
    `Ctrl-C stops everything; sessions survive in ${resolve(dataDir, 'temporal.db')}.`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

runMain('sessionflow', main);

// The app side of the production shape: two workers, two APIs and one gateway, each its own process of
// the built entrypoints, configured through the environment only (as containers are). `npm run
// stack:prod`, the failover test and docker-compose.yml all run this topology; the compose test holds
// compose to the services and environment keys defined here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serverTlsFiles, type ServerTls } from './temporal-server';

export type AppRole = 'worker' | 'api' | 'gateway';

/** Process names, as compose names its services. */
export const prodTopology = {
  worker: ['worker-1', 'worker-2'],
  api: ['api-1', 'api-2'],
  gateway: ['gateway'],
} as const satisfies Record<AppRole, readonly string[]>;

/** The built entrypoint each role runs (the Dockerfile's CMD for the worker, `command:` for the others). */
export const entrypoints: Record<AppRole, string> = {
  worker: 'dist/worker/main.js',
  api: 'dist/api/main.js',
  gateway: 'dist/gateway/main.js',
};

/**
 * Node's flags per role. Without a heap cap V8 lets garbage grow towards its default limit (about 4 GB on
 * a 24 GB machine) before collecting: an API holding 100,000 homes' configuration and tokens (about 130 MiB
 * live) reached 693 MiB after 60,000 status reads, and stayed at 320–345 MiB with this cap
 * (bench/results/experiments-2026-11-30-api-memory). The Dockerfile's CMD (the worker) and compose's
 * `command:` (the APIs) pass the same.
 */
export const nodeFlags: Record<AppRole, readonly string[]> = {
  worker: ['--max-old-space-size=512'],
  api: ['--max-old-space-size=512'],
  gateway: [],
};

/** The config every process reads: compose mounts it as is, the launcher copies it with fresh tokens. */
export const prodConfigTemplate = 'deploy/sessionflow.example.json';

/** The gateway process owns the boards of the homes that name it (homes.<id>.gateway). */
export const PROD_GATEWAY_ID = 'edge-1';

export interface AppEnvContext {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  configFile: string;
  /** `id:base64key[,…]`, the same for every process: they all read each other's payloads. */
  codecKeys: string;
  /** Signs session tokens (order links): the same for both APIs, or a link from one is refused by the other. */
  tokenSecret: string;
  apiHost: string;
  /** One per API process. */
  apiPorts: readonly number[];
  gatewayHttpHost: string;
  gatewayHttpPort: number;
  notifyChannel: 'log' | 'webhook';
  notifyWebhookUrl: string;
  /** The notification channels' settings and secrets, passed on as they are (empty: not set). */
  channels: Partial<Record<ChannelVariable, string>>;
  /** Where the workers record what they sent (one file per machine, shared by its workers). */
  sentLog: string;
  /** The read model every worker writes and every API reads (one file per machine). */
  readModel: string;
  logLevel: string;
  /** mTLS to the Temporal frontend: certificates from scripts/make-certs.sh, the server's name in them. */
  temporalTls?: ServerTls;
}

export interface AppProcessSpec {
  name: string;
  role: AppRole;
  main: string;
  env: Record<string, string>;
}

/** The channel variables a worker takes from whoever starts it (compose from its `.env`). */
export const channelVariables = [
  'NOTIFY_ROUTE_SMS',
  'NOTIFY_ROUTE_CALL',
  'NOTIFY_ROUTE_NOTIFY',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_FROM',
  'SMTP_HOST',
  'SMTP_PORT',
  'SMTP_USER',
  'SMTP_PASS',
  'SMTP_FROM',
  'NOTIFY_EMAIL_TO',
] as const;
export type ChannelVariable = (typeof channelVariables)[number];

/** Environment of each process; every key is one the config reads (or LOG_LEVEL, read by the logger). */
export function appProcessSpecs(ctx: AppEnvContext): AppProcessSpec[] {
  const certs = ctx.temporalTls && serverTlsFiles(ctx.temporalTls.dir);
  const common = {
    TEMPORAL_ADDRESS: ctx.temporalAddress,
    TEMPORAL_NAMESPACE: ctx.namespace,
    TEMPORAL_TASK_QUEUE: ctx.taskQueue,
    // Each process presents the client certificate; empty values leave TLS off.
    TEMPORAL_TLS: String(Boolean(certs)),
    TEMPORAL_TLS_CA: certs?.ca ?? '',
    TEMPORAL_TLS_CERT: certs?.clientCert ?? '',
    TEMPORAL_TLS_KEY: certs?.clientKey ?? '',
    TEMPORAL_TLS_SERVER_NAME: ctx.temporalTls?.serverName ?? '',
    SESSIONFLOW_CONFIG_FILE: ctx.configFile,
    SESSIONFLOW_CODEC_KEYS: ctx.codecKeys,
    LOG_LEVEL: ctx.logLevel,
  };
  const workerEnv = {
    ...common,
    NOTIFY_CHANNEL: ctx.notifyChannel,
    NOTIFY_WEBHOOK_URL: ctx.notifyWebhookUrl,
    ...Object.fromEntries(channelVariables.map((k) => [k, ctx.channels[k] ?? ''])),
    NOTIFY_SENT_LOG: ctx.sentLog,
    SESSIONFLOW_READ_MODEL: ctx.readModel,
  };
  const apiEnv = (port: number) => ({
    ...common,
    SESSIONFLOW_TOKEN_SECRET: ctx.tokenSecret,
    SESSIONFLOW_READ_MODEL: ctx.readModel,
    API_HOST: ctx.apiHost,
    API_PORT: String(port),
  });
  const gatewayEnv = {
    ...common,
    GATEWAY_ID: PROD_GATEWAY_ID,
    GATEWAY_HTTP_HOST: ctx.gatewayHttpHost,
    GATEWAY_HTTP_PORT: String(ctx.gatewayHttpPort),
  };
  if (ctx.apiPorts.length !== prodTopology.api.length)
    throw new Error(`${prodTopology.api.length} API ports needed, got ${ctx.apiPorts.length}`);
  return [
    ...prodTopology.worker.map((name) => ({ name, role: 'worker' as const, env: workerEnv })),
    ...prodTopology.api.map((name, i) => ({ name, role: 'api' as const, env: apiEnv(ctx.apiPorts[i]) })),
    ...prodTopology.gateway.map((name) => ({ name, role: 'gateway' as const, env: gatewayEnv })),
  ].map((p) => ({ ...p, main: entrypoints[p.role] }));
}

export interface AppProcess {
  spec: AppProcessSpec;
  /** The current OS process (a new one after each restart). */
  child(): ChildProcess;
  /** SIGKILL, as a power cut or the OOM killer would; resolves once it is gone (no restart). */
  kill(): Promise<void>;
  /** Starts it again after a kill. */
  start(): void;
  /** SIGTERM (workers drain, APIs finish requests), SIGKILL after the grace time. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs the processes from the project root (the entrypoints are relative to it), each logging to
 * `<logDir>/<name>.log`. With `restart`, a process that exits without being asked to is started again
 * after a second, as compose's `restart: unless-stopped` does.
 */
export function startAppProcesses(
  specs: AppProcessSpec[],
  opts: {
    root: string;
    logDir: string;
    restart?: boolean;
    /** Called when a process exits; `restarting` says whether it is started again. */
    onExit?: (name: string, code: number | null, restarting: boolean) => void;
  },
): AppProcess[] {
  mkdirSync(opts.logDir, { recursive: true });
  return specs.map((spec) => {
    let child: ChildProcess;
    let wanted = true;
    const launch = () => {
      const log = openSync(resolve(opts.logDir, `${spec.name}.log`), 'a');
      child = spawn(process.execPath, [...nodeFlags[spec.role], spec.main], {
        cwd: opts.root,
        stdio: ['ignore', log, log],
        env: { ...process.env, ...spec.env },
        // Own process group: a terminal's Ctrl-C reaches only the launcher, which stops them in order.
        detached: true,
      });
      closeSync(log);
      const killOnExit = () => child.kill('SIGKILL');
      process.once('exit', killOnExit);
      const current = child;
      current.once('exit', (code) => {
        process.removeListener('exit', killOnExit);
        opts.onExit?.(spec.name, code, wanted && Boolean(opts.restart));
        if (wanted && opts.restart) setTimeout(() => wanted && current === child && launch(), 1000);
      });
    };
    launch();
    const gone = (c: ChildProcess) =>
      c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => c.once('exit', () => r()));
    return {
      spec,
      child: () => child,
      async kill() {
        wanted = false;
        const exit = gone(child);
        child.kill('SIGKILL');
        await exit;
      },
      start() {
        wanted = true;
        launch();
      },
      async stop(graceMs = 20_000) {
        wanted = false;
        const exit = gone(child);
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(timer);
      },
    };
  });
}

/** Polls `url` until it answers 2xx. */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${String(last)}`);
}

/**
 * Stops in dependency order: the APIs first (no new requests), then the gateway, then the workers
 * (they drain their tasks against a server that is still up).
 */
export async function stopAppProcesses(processes: AppProcess[]): Promise<void> {
  for (const role of ['api', 'gateway', 'worker'] as const)
    await Promise.all(processes.filter((p) => p.spec.role === role).map((p) => p.stop()));
}

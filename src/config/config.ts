// The one typed configuration of every process: defaults < JSON file (SESSIONFLOW_CONFIG_FILE) < environment.
// Plain tokens are hashed on load and dropped, so no secret lives on in the config object or a log of it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const id = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (1-64 chars)');

/** A bearer token by name: the plain token (hashed on load) or its sha256, exactly one of them. */
const namedTokenFields = {
  /** Recorded in sessions and logs instead of the token, e.g. "alice-phone". */
  name: id,
  token: z.string().min(16, 'tokens need at least 16 characters').optional(),
  sha256: z
    .string()
    .regex(/^[a-f0-9]{64}$/, 'sha256 must be 64 lowercase hex chars')
    .optional(),
};
const exactlyOneSecret = (t: { token?: string; sha256?: string }) => Boolean(t.token) !== Boolean(t.sha256);
const oneSecretMessage = 'give exactly one of token or sha256';

const tokenSchema = z
  .object({ ...namedTokenFields, role: z.enum(['device', 'owner']) })
  .refine(exactlyOneSecret, oneSecretMessage);

/** AES-256 key for the payload codec: an id (stored with every payload, for rotation) and 32 bytes, base64. */
const codecKeySchema = z.object({
  id,
  key: z
    .string()
    .refine(
      (k) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(k) && Buffer.from(k, 'base64').length === 32,
      'must be 32 random bytes, base64 (AES-256); `npm run codec-key:new` prints one',
    ),
});

/** A named bearer token outside any home (the codec endpoint's viewers). */
const namedTokenSchema = z.object(namedTokenFields).refine(exactlyOneSecret, oneSecretMessage);

const sirenSchema = z.object({
  pin: z.union([z.number().int().min(2).max(19), z.string().regex(/^A[0-5]$/)]).default(13),
  component: z.enum(['relay', 'led']).default('relay'),
  relayType: z.enum(['NO', 'NC']).optional(),
});

const homeSchema = z.object({
  /** Overrides the deployment's cancel window for this home. */
  cancelWindowSeconds: z.number().positive().max(3600).optional(),
  owner: z.object({ name: z.string().max(100).optional(), phone: z.string().min(3).max(32) }),
  emergency: z.object({ phone: z.string().min(3).max(32), address: z.string().max(300) }),
  siren: sirenSchema.default({ pin: 13, component: 'relay' }),
  tokens: z.array(tokenSchema).default([]),
});

const configSchema = z.object({
  temporal: z
    .object({
      address: z.string().default('127.0.0.1:7233'),
      namespace: z.string().default('default'),
      taskQueue: z.string().default('sessionflow'),
      /** Temporal Cloud API key; implies TLS. */
      apiKey: z.string().optional(),
      tls: z
        .object({
          enabled: z.boolean().default(false),
          serverName: z.string().optional(),
          caPath: z.string().optional(),
          certPath: z.string().optional(),
          keyPath: z.string().optional(),
        })
        .default({ enabled: false }),
      /** Deadline of one API call to Temporal; past it the API answers 503 instead of hanging. */
      callTimeoutMs: z.number().int().positive().default(5000),
    })
    .prefault({}),
  api: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(3000),
    })
    .prefault({}),
  alarm: z
    .object({
      cancelWindowSeconds: z.number().positive().max(3600).default(60),
      wrapUpTimeoutSeconds: z.number().positive().default(300),
    })
    .prefault({}),
  notifications: z
    .object({
      channel: z.enum(['log', 'webhook']).default('log'),
      webhook: z
        .object({
          url: z.url().optional(),
          timeoutMs: z.number().int().positive().default(5000),
        })
        .prefault({}),
    })
    .prefault({})
    .refine(
      (n) => n.channel !== 'webhook' || Boolean(n.webhook.url),
      'webhook channel needs notifications.webhook.url',
    ),
  board: z
    .object({
      type: z.literal('simulated').default('simulated'),
      readyTimeoutMs: z.number().int().positive().default(5000),
    })
    .prefault({}),
  homes: z.record(id, homeSchema).default({}),
  /** Temporal payload encryption (every payload, so no contact or name is in history in clear). */
  codec: z
    .object({
      /** Key that encrypts new payloads; default the first key. The others only decrypt (rotation). */
      activeKeyId: id.optional(),
      keys: z.array(codecKeySchema).default([]),
      /** Remote codec endpoint (/codec/decode) for the Temporal Web UI / CLI. */
      endpoint: z
        .object({
          tokens: z.array(namedTokenSchema).default([]),
          /** Browser origins (the Web UI) allowed to call it. */
          corsOrigins: z.array(z.string()).default([]),
        })
        .prefault({}),
    })
    .prefault({})
    .refine(
      (c) => c.activeKeyId === undefined || c.keys.some((k) => k.id === c.activeKeyId),
      'codec.activeKeyId must name one of codec.keys',
    )
    .refine(
      (c) => new Set(c.keys.map((k) => k.id)).size === c.keys.length,
      'codec.keys: key ids must be unique',
    ),
  /** Per token name; answers 429 with Retry-After beyond it. Generous: a person or detector never hits it. */
  rateLimit: z
    .object({
      perTokenPerMinute: z.number().int().positive().default(600),
    })
    .prefault({}),
});

type RawConfig = z.output<typeof configSchema>;
type RawHome = RawConfig['homes'][string];

export interface TokenEntry {
  name: string;
  role: 'device' | 'owner';
  /** sha256 of the token, hex. */
  sha256: string;
}

export type HomeConfig = Omit<RawHome, 'tokens'> & { tokens: TokenEntry[] };
export type CodecConfig = Omit<RawConfig['codec'], 'endpoint'> & {
  endpoint: { tokens: Omit<TokenEntry, 'role'>[]; corsOrigins: string[] };
};
export type Config = Omit<RawConfig, 'homes' | 'codec'> & {
  homes: Record<string, HomeConfig>;
  codec: CodecConfig;
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Every environment variable the config reads: docs and the compose-file test check against it. */
export const configEnvVars = {
  SESSIONFLOW_CONFIG_FILE: 'path of a JSON config file (same shape as the config object)',
  SESSIONFLOW_HOMES_JSON: 'homes as JSON (overrides the file’s homes), for container deployments',
  TEMPORAL_ADDRESS: 'temporal.address',
  TEMPORAL_NAMESPACE: 'temporal.namespace',
  TEMPORAL_TASK_QUEUE: 'temporal.taskQueue',
  TEMPORAL_API_KEY: 'temporal.apiKey (Temporal Cloud)',
  TEMPORAL_TLS: 'temporal.tls.enabled (true/false)',
  TEMPORAL_TLS_SERVER_NAME: 'temporal.tls.serverName',
  TEMPORAL_TLS_CA: 'temporal.tls.caPath',
  TEMPORAL_TLS_CERT: 'temporal.tls.certPath',
  TEMPORAL_TLS_KEY: 'temporal.tls.keyPath',
  TEMPORAL_CALL_TIMEOUT_MS: 'temporal.callTimeoutMs',
  API_HOST: 'api.host',
  API_PORT: 'api.port',
  ALARM_CANCEL_WINDOW_SECONDS: 'alarm.cancelWindowSeconds',
  ALARM_WRAP_UP_TIMEOUT_SECONDS: 'alarm.wrapUpTimeoutSeconds',
  NOTIFY_CHANNEL: 'notifications.channel (log | webhook)',
  NOTIFY_WEBHOOK_URL: 'notifications.webhook.url',
  NOTIFY_WEBHOOK_TIMEOUT_MS: 'notifications.webhook.timeoutMs',
  BOARD_READY_TIMEOUT_MS: 'board.readyTimeoutMs',
  SESSIONFLOW_CODEC_KEYS: 'codec.keys as `id:base64key,id2:base64key` (secret)',
  SESSIONFLOW_CODEC_ACTIVE_KEY: 'codec.activeKeyId',
  CODEC_ENDPOINT_CORS_ORIGINS: 'codec.endpoint.corsOrigins, comma-separated',
  API_RATE_LIMIT_PER_MINUTE: 'rateLimit.perTokenPerMinute',
} as const;

type Env = Record<string, string | undefined>;

function envOverrides(env: Env): Record<string, unknown> {
  // An empty variable (e.g. compose's `${X:-}`) means "not set", not "set to nothing".
  const str = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const num = (v: string | undefined) => (str(v) === undefined ? undefined : Number(v));
  const bool = (v: string | undefined) => (str(v) === undefined ? undefined : v === 'true' || v === '1');
  const homesJson = str(env.SESSIONFLOW_HOMES_JSON);
  const list = (v: string | undefined) =>
    str(v)
      ?.split(',')
      .map((x) => x.trim());
  const codecKeys = list(env.SESSIONFLOW_CODEC_KEYS)?.map((entry) => {
    const at = entry.indexOf(':');
    return { id: entry.slice(0, at), key: entry.slice(at + 1) };
  });
  return {
    temporal: {
      address: str(env.TEMPORAL_ADDRESS),
      namespace: str(env.TEMPORAL_NAMESPACE),
      taskQueue: str(env.TEMPORAL_TASK_QUEUE),
      apiKey: str(env.TEMPORAL_API_KEY),
      callTimeoutMs: num(env.TEMPORAL_CALL_TIMEOUT_MS),
      tls: {
        enabled: bool(env.TEMPORAL_TLS),
        serverName: str(env.TEMPORAL_TLS_SERVER_NAME),
        caPath: str(env.TEMPORAL_TLS_CA),
        certPath: str(env.TEMPORAL_TLS_CERT),
        keyPath: str(env.TEMPORAL_TLS_KEY),
      },
    },
    api: { host: str(env.API_HOST), port: num(env.API_PORT) },
    alarm: {
      cancelWindowSeconds: num(env.ALARM_CANCEL_WINDOW_SECONDS),
      wrapUpTimeoutSeconds: num(env.ALARM_WRAP_UP_TIMEOUT_SECONDS),
    },
    notifications: {
      channel: str(env.NOTIFY_CHANNEL),
      webhook: { url: str(env.NOTIFY_WEBHOOK_URL), timeoutMs: num(env.NOTIFY_WEBHOOK_TIMEOUT_MS) },
    },
    board: { readyTimeoutMs: num(env.BOARD_READY_TIMEOUT_MS) },
    homes: homesJson ? parseJson(homesJson, 'SESSIONFLOW_HOMES_JSON') : undefined,
    codec: {
      keys: codecKeys,
      activeKeyId: str(env.SESSIONFLOW_CODEC_ACTIVE_KEY),
      endpoint: { corsOrigins: list(env.CODEC_ENDPOINT_CORS_ORIGINS) },
    },
    rateLimit: { perTokenPerMinute: num(env.API_RATE_LIMIT_PER_MINUTE) },
  };
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where}: not valid JSON (${(err as Error).message})`);
  }
}

/** Deep merge where `undefined` in the override keeps the base value. */
function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
    return out;
  }
  return over;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates and normalises a config object (tests build configs with this). */
export function parseConfig(raw: unknown): Config {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const homes: Record<string, HomeConfig> = {};
  for (const [homeId, home] of Object.entries(parsed.data.homes)) {
    homes[homeId] = {
      ...home,
      tokens: home.tokens.map((t) => ({
        name: t.name,
        role: t.role,
        sha256: t.sha256 ?? sha256Hex(t.token!),
      })),
    };
  }
  const { codec } = parsed.data;
  const endpointTokens = codec.endpoint.tokens.map((t) => ({
    name: t.name,
    sha256: t.sha256 ?? sha256Hex(t.token!),
  }));
  return {
    ...parsed.data,
    homes,
    codec: { ...codec, endpoint: { ...codec.endpoint, tokens: endpointTokens } },
  };
}

/** Processes that talk to Temporal (worker, API) refuse to run without a payload key: no PII in clear. */
export function requireCodecKeys(config: Config): void {
  if (config.codec.keys.length === 0)
    throw new ConfigError(
      'codec.keys is empty: payloads must be encrypted. Set SESSIONFLOW_CODEC_KEYS=<id>:<base64 32 bytes> ' +
        '(or codec.keys in the config file); `npm run codec-key:new` prints a fresh key',
    );
}

export function loadConfig(env: Env = process.env): Config {
  const file = env.SESSIONFLOW_CONFIG_FILE || undefined;
  let fromFile: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`SESSIONFLOW_CONFIG_FILE=${file}: ${(err as Error).message}`);
    }
    fromFile = parseJson(text, file);
  }
  return parseConfig(merge(fromFile, envOverrides(env)));
}

export function cancelWindowMs(config: Config, homeId: string): number {
  const home = config.homes[homeId];
  return (home?.cancelWindowSeconds ?? config.alarm.cancelWindowSeconds) * 1000;
}

// The one typed configuration of every process: defaults < JSON file (SESSIONFLOW_CONFIG_FILE) < environment.
// Plain tokens are hashed on load and dropped, so no secret lives on in the config object or a log of it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const id = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (1-64 chars)');

/** A bearer token entry: kept as its sha256 (or given plain in dev configs and hashed on load). */
const tokenSchema = <R extends string>(roles: readonly [R, ...R[]]) =>
  z
    .object({
      /** Recorded in sessions and logs instead of the token, e.g. "alice-phone". */
      name: id,
      role: z.enum(roles),
      token: z.string().min(16, 'tokens need at least 16 characters').optional(),
      sha256: z
        .string()
        .regex(/^[a-f0-9]{64}$/, 'sha256 must be 64 lowercase hex chars')
        .optional(),
    })
    .refine((t) => Boolean(t.token) !== Boolean(t.sha256), 'give exactly one of token or sha256');

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

const seconds = (def: number) =>
  z
    .number()
    .positive()
    .max(7 * 24 * 3600)
    .default(def);

const pizzaSchema = z
  .object({
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. EUR')
      .default('EUR'),
    menu: z
      .record(id, z.object({ name: z.string().min(1).max(100), priceCents: z.number().int().positive() }))
      .default({
        margherita: { name: 'Margherita', priceCents: 900 },
        pepperoni: { name: 'Pepperoni', priceCents: 1100 },
        quattro: { name: 'Quattro Formaggi', priceCents: 1250 },
        cola: { name: 'Cola 0.5 l', priceCents: 300 },
      }),
    paymentTimeoutSeconds: seconds(15 * 60),
    deliveryPromiseSeconds: seconds(45 * 60),
    estimates: z
      .object({
        kitchenSeconds: seconds(10 * 60),
        bakingSeconds: seconds(12 * 60),
        deliverySeconds: seconds(20 * 60),
      })
      .prefault({}),
    /** Orders without a customer token; they get an order-scoped token instead. */
    guestOrders: z.boolean().default(true),
    /** Signs order-scoped tokens and request digests; without it they change at every API restart. */
    orderTokenSecret: z.string().min(32, 'orderTokenSecret needs at least 32 characters').optional(),
    /** Staff see and move every order; a customer token's name is the customer id of its orders. */
    tokens: z.array(tokenSchema(['staff', 'customer'])).default([]),
  })
  .prefault({});

/** Arduino Uno numbering: digital 2-19 (0/1 are the serial link to the gateway), or A0-A5 (= 14-19). */
const pinSchema = z.union([
  z.number().int().min(2, 'pins 0 and 1 carry the serial link; use 2-19').max(19, 'an Uno has pins 2-19'),
  z.string().regex(/^A[0-5]$/, 'analog pins are A0-A5'),
]);

const sirenSchema = z.object({
  pin: pinSchema.default(13),
  component: z.enum(['relay', 'led']).default('relay'),
  relayType: z.enum(['NO', 'NC']).optional(),
});

const detectorSchema = z.strictObject({
  pin: pinSchema,
  /** The input must hold a new level this long before it counts (contact bounce, EMI spikes). */
  debounceMs: z.number().int().min(0).max(10_000).default(50),
  /** The detector pulls the pin LOW when it alarms (open-collector outputs). */
  activeLow: z.boolean().default(false),
  /** Enable the board's internal pull-up: idle HIGH, the detector pulls the pin LOW to alarm (implies activeLow). */
  pullUp: z.boolean().default(false),
});

/** Where a home's board is: a Firmata board on a serial port, or the simulated one (demo, tests). */
const boardSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('simulated') }),
  z.strictObject({
    type: z.literal('serial'),
    path: z.string().min(1),
    baudRate: z.number().int().positive().optional(),
  }),
]);

const homeSchema = z
  .object({
    /** Overrides the deployment's cancel window for this home. */
    cancelWindowSeconds: z.number().positive().max(3600).optional(),
    owner: z.object({ name: z.string().max(100).optional(), phone: z.string().min(3).max(32) }),
    emergency: z.object({ phone: z.string().min(3).max(32), address: z.string().max(300) }),
    siren: sirenSchema.default({ pin: 13, component: 'relay' }),
    tokens: z.array(tokenSchema(['device', 'owner'])).default([]),
    /** Several sirens by id (e.g. hall, bedroom); when given, they replace `siren`. */
    sirens: z.record(id, sirenSchema).optional(),
    /** Smoke detector inputs by id; the id is the detectorId of the smoke event. */
    detectors: z.record(id, detectorSchema).default({}),
    /** Gateway that owns this home's board (queue `gateway-<id>`); unset: the worker's embedded gateway. */
    gateway: id.optional(),
    board: boardSchema.default({ type: 'simulated' }),
  })
  .superRefine((home, ctx) => {
    // One pin, one job: a siren and a detector on the same pin would fight over its mode.
    const owners = new Map<number, string>();
    const claim = (pin: number | string, who: string, path: (string | number)[]) => {
      const n = pinNumber(pin);
      const other = owners.get(n);
      if (other) ctx.addIssue({ code: 'custom', path, message: `pin ${pin} is already used by ${other}` });
      else owners.set(n, who);
    };
    for (const [sid, siren] of Object.entries(home.sirens ?? { siren: home.siren }))
      claim(siren.pin, `siren '${sid}'`, home.sirens ? ['sirens', sid, 'pin'] : ['siren', 'pin']);
    for (const [did, d] of Object.entries(home.detectors))
      claim(d.pin, `detector '${did}'`, ['detectors', did, 'pin']);
  });

const notifyChannel = z.enum(['log', 'webhook', 'twilio', 'email']);

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
      /** The channel of every kind that `routes` does not name. */
      channel: notifyChannel.default('log'),
      /** Channel per kind: owner SMS, emergency call, notices (e.g. sms/call twilio, notify email). */
      routes: z
        .object({
          sms: notifyChannel.optional(),
          call: notifyChannel.optional(),
          notify: notifyChannel.optional(),
        })
        .prefault({}),
      webhook: z
        .object({
          url: z.url().optional(),
          timeoutMs: z.number().int().positive().default(5000),
        })
        .prefault({}),
      twilio: z
        .object({
          accountSid: z
            .string()
            .regex(/^AC[0-9a-fA-F]{32}$/, 'an account SID is AC and 32 hex digits')
            .optional(),
          /** Secret: give it through TWILIO_AUTH_TOKEN, not the config file. */
          authToken: z.string().min(1).optional(),
          /** The sending number (E.164) the account owns. */
          from: z.string().min(3).optional(),
          /** Replaces https://api.twilio.com (a regional host, or a stand-in in tests). */
          baseUrl: z.url().optional(),
          edge: z.string().optional(),
          region: z.string().optional(),
          timeoutMs: z.number().int().positive().default(10_000),
        })
        .prefault({}),
      email: z
        .object({
          host: z.string().min(1).optional(),
          port: z.number().int().min(1).max(65535).default(587),
          secure: z.boolean().default(false),
          user: z.string().optional(),
          /** Secret: give it through SMTP_PASS, not the config file. */
          pass: z.string().optional(),
          from: z.string().min(3).optional(),
          /** Recipient when a contact is a phone number (alarm contacts are), e.g. a monitoring desk. */
          to: z.string().min(3).optional(),
          timeoutMs: z.number().int().positive().default(10_000),
        })
        .prefault({}),
      /** What this machine has sent (SQLite), so a restarted worker does not send it again. */
      sentLog: z.object({ path: z.string().min(1).default('.data/notifications-sent.db') }).prefault({}),
    })
    .prefault({})
    .superRefine((n, ctx) => {
      const used = new Set([n.channel, n.routes.sms, n.routes.call, n.routes.notify]);
      const need = (ok: boolean, message: string) => ok || ctx.addIssue({ code: 'custom', message });
      if (used.has('webhook'))
        need(Boolean(n.webhook.url), 'webhook channel needs notifications.webhook.url');
      if (used.has('twilio'))
        // The auth token is checked where it is used (the worker): the API must not need the secret.
        need(
          Boolean(n.twilio.accountSid && n.twilio.from),
          'twilio channel needs notifications.twilio.accountSid and from',
        );
      if (used.has('email'))
        need(Boolean(n.email.host && n.email.from), 'email channel needs notifications.email.host and from');
    }),
  board: z
    .object({
      type: z.literal('simulated').default('simulated'),
      readyTimeoutMs: z.number().int().positive().default(5000),
      /** Pause before a lost board (USB pulled, port error) is opened again. */
      reconnectDelayMs: z.number().int().positive().default(1000),
    })
    .prefault({}),
  homes: z.record(id, homeSchema).default({}),
  /** The gateway process (`npm run gateway`): which homes' boards it owns and where it reports. */
  gateway: z
    .object({
      id: id.optional(),
      /** GET /status (and, for simulated boards, press/unplug controls); off unless a port is set. */
      http: z
        .object({
          host: z.string().default('127.0.0.1'),
          port: z.number().int().min(0).max(65535).optional(),
        })
        .prefault({}),
      /** Board state as a log line this often (and on every connect/disconnect). */
      statusLogSeconds: z.number().positive().default(60),
      /** How often the desired siren state is re-read from the sessions (besides start and reconnect). */
      resyncSeconds: z.number().positive().default(60),
    })
    .prefault({}),
  pizza: pizzaSchema,
  /** Monitoring-centre operators: see every session in /ui and may act as an owner or staff would. */
  operators: z.array(tokenSchema(['operator'])).default([]),
  ui: z
    .object({
      /** Base URL of the Temporal Web UI, for links from a session page (npm start sets it). */
      temporalWebUrl: z.url().optional(),
      /**
       * A gateway's status URL whose simulated detectors /ui may press (demo; `npm start` sets it to its
       * embedded gateway). Unset in production: the page then offers no simulator.
       */
      simulatorUrl: z.url().optional(),
    })
    .prefault({}),
  payments: z.object({ provider: z.literal('fake').default('fake') }).prefault({}),
  /** Temporal payload encryption (every payload, so no contact or name is in history in clear). */
  codec: z
    .object({
      /** Key that encrypts new payloads; default the first key. The others only decrypt (rotation). */
      activeKeyId: id.optional(),
      keys: z.array(codecKeySchema).default([]),
      /** Remote codec endpoint (/codec/decode) for the Temporal Web UI / CLI. */
      endpoint: z
        .object({
          tokens: z.array(tokenSchema(['codec-viewer'])).default([]),
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
type RawPizza = RawConfig['pizza'];

export interface TokenEntry<R extends string = 'device' | 'owner'> {
  name: string;
  role: R;
  /** sha256 of the token, hex. */
  sha256: string;
}

export type HomeConfig = Omit<RawHome, 'tokens'> & { tokens: TokenEntry[] };
export type PizzaConfig = Omit<RawPizza, 'tokens'> & { tokens: TokenEntry<'staff' | 'customer'>[] };
export type CodecConfig = Omit<RawConfig['codec'], 'endpoint'> & {
  endpoint: { tokens: TokenEntry<'codec-viewer'>[]; corsOrigins: string[] };
};
export type Config = Omit<RawConfig, 'homes' | 'pizza' | 'operators' | 'codec'> & {
  homes: Record<string, HomeConfig>;
  pizza: PizzaConfig;
  operators: TokenEntry<'operator'>[];
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
  NOTIFY_CHANNEL: 'notifications.channel (log | webhook | twilio | email)',
  NOTIFY_ROUTE_SMS: 'notifications.routes.sms (channel of the owner SMS)',
  NOTIFY_ROUTE_CALL: 'notifications.routes.call (channel of the emergency call)',
  NOTIFY_ROUTE_NOTIFY: 'notifications.routes.notify (channel of notices)',
  NOTIFY_WEBHOOK_URL: 'notifications.webhook.url',
  NOTIFY_WEBHOOK_TIMEOUT_MS: 'notifications.webhook.timeoutMs',
  TWILIO_ACCOUNT_SID: 'notifications.twilio.accountSid',
  TWILIO_AUTH_TOKEN: 'notifications.twilio.authToken (secret)',
  TWILIO_FROM: 'notifications.twilio.from',
  TWILIO_BASE_URL: 'notifications.twilio.baseUrl',
  SMTP_HOST: 'notifications.email.host',
  SMTP_PORT: 'notifications.email.port',
  SMTP_SECURE: 'notifications.email.secure (true/false)',
  SMTP_USER: 'notifications.email.user',
  SMTP_PASS: 'notifications.email.pass (secret)',
  SMTP_FROM: 'notifications.email.from',
  NOTIFY_EMAIL_TO: 'notifications.email.to',
  NOTIFY_SENT_LOG: 'notifications.sentLog.path (SQLite file, on a local disk)',
  BOARD_READY_TIMEOUT_MS: 'board.readyTimeoutMs',
  GATEWAY_ID: 'gateway.id (npm run gateway: serves the homes whose gateway is this id)',
  GATEWAY_HTTP_HOST: 'gateway.http.host',
  GATEWAY_HTTP_PORT: 'gateway.http.port (status endpoint; off when unset)',
  PIZZA_PAYMENT_TIMEOUT_SECONDS: 'pizza.paymentTimeoutSeconds',
  PIZZA_DELIVERY_PROMISE_SECONDS: 'pizza.deliveryPromiseSeconds',
  PIZZA_ORDER_TOKEN_SECRET: 'pizza.orderTokenSecret',
  SESSIONFLOW_SHOP_TOKENS_JSON: 'pizza.tokens as JSON, for container deployments',
  SESSIONFLOW_OPERATORS_JSON: 'operators as JSON, for container deployments',
  TEMPORAL_WEB_URL: 'ui.temporalWebUrl',
  SESSIONFLOW_SIMULATOR_URL: 'ui.simulatorUrl (a gateway with simulated boards, for /ui)',
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
  const shopTokensJson = str(env.SESSIONFLOW_SHOP_TOKENS_JSON);
  const operatorsJson = str(env.SESSIONFLOW_OPERATORS_JSON);
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
      routes: {
        sms: str(env.NOTIFY_ROUTE_SMS),
        call: str(env.NOTIFY_ROUTE_CALL),
        notify: str(env.NOTIFY_ROUTE_NOTIFY),
      },
      webhook: { url: str(env.NOTIFY_WEBHOOK_URL), timeoutMs: num(env.NOTIFY_WEBHOOK_TIMEOUT_MS) },
      twilio: {
        accountSid: str(env.TWILIO_ACCOUNT_SID),
        authToken: str(env.TWILIO_AUTH_TOKEN),
        from: str(env.TWILIO_FROM),
        baseUrl: str(env.TWILIO_BASE_URL),
      },
      email: {
        host: str(env.SMTP_HOST),
        port: num(env.SMTP_PORT),
        secure: bool(env.SMTP_SECURE),
        user: str(env.SMTP_USER),
        pass: str(env.SMTP_PASS),
        from: str(env.SMTP_FROM),
        to: str(env.NOTIFY_EMAIL_TO),
      },
      sentLog: { path: str(env.NOTIFY_SENT_LOG) },
    },
    board: { readyTimeoutMs: num(env.BOARD_READY_TIMEOUT_MS) },
    gateway: {
      id: str(env.GATEWAY_ID),
      http: { host: str(env.GATEWAY_HTTP_HOST), port: num(env.GATEWAY_HTTP_PORT) },
    },
    homes: homesJson ? parseJson(homesJson, 'SESSIONFLOW_HOMES_JSON') : undefined,
    pizza: {
      paymentTimeoutSeconds: num(env.PIZZA_PAYMENT_TIMEOUT_SECONDS),
      deliveryPromiseSeconds: num(env.PIZZA_DELIVERY_PROMISE_SECONDS),
      orderTokenSecret: str(env.PIZZA_ORDER_TOKEN_SECRET),
      tokens: shopTokensJson ? parseJson(shopTokensJson, 'SESSIONFLOW_SHOP_TOKENS_JSON') : undefined,
    },
    operators: operatorsJson ? parseJson(operatorsJson, 'SESSIONFLOW_OPERATORS_JSON') : undefined,
    ui: { temporalWebUrl: str(env.TEMPORAL_WEB_URL), simulatorUrl: str(env.SESSIONFLOW_SIMULATOR_URL) },
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
  const hashed = <R extends string>(t: { name: string; role: R; token?: string; sha256?: string }) => ({
    name: t.name,
    role: t.role,
    sha256: t.sha256 ?? sha256Hex(t.token!),
  });
  const homes: Record<string, HomeConfig> = {};
  for (const [homeId, home] of Object.entries(parsed.data.homes)) {
    homes[homeId] = {
      ...home,
      tokens: home.tokens.map(hashed),
    };
  }
  const pizza = { ...parsed.data.pizza, tokens: parsed.data.pizza.tokens.map(hashed) };
  const { codec } = parsed.data;
  return {
    ...parsed.data,
    homes,
    pizza,
    operators: parsed.data.operators.map(hashed),
    codec: { ...codec, endpoint: { ...codec.endpoint, tokens: codec.endpoint.tokens.map(hashed) } },
  };
}

/** Processes that talk to Temporal (worker, API, gateway) refuse to run without a payload key: no PII in clear. */
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

/** A pin as the board numbers it: A0-A5 are 14-19 on an Uno. */
export function pinNumber(pin: number | string): number {
  return typeof pin === 'number' ? pin : 14 + Number(pin.slice(1));
}

/** The task queue of the gateway that owns a home's board (the central queue for the embedded gateway). */
export function hardwareTaskQueue(config: Config, homeId: string): string {
  const gateway = config.homes[homeId]?.gateway;
  return gateway ? gatewayTaskQueue(gateway) : config.temporal.taskQueue;
}

export const gatewayTaskQueue = (gatewayId: string) => `gateway-${gatewayId}`;

export function cancelWindowMs(config: Config, homeId: string): number {
  const home = config.homes[homeId];
  return (home?.cancelWindowSeconds ?? config.alarm.cancelWindowSeconds) * 1000;
}

/** An order's durations, from configuration. */
export function orderTiming(config: Config) {
  const { paymentTimeoutSeconds, deliveryPromiseSeconds, estimates } = config.pizza;
  return {
    paymentTimeoutMs: paymentTimeoutSeconds * 1000,
    deliveryPromiseMs: deliveryPromiseSeconds * 1000,
    kitchenMs: estimates.kitchenSeconds * 1000,
    bakingMs: estimates.bakingSeconds * 1000,
    deliveryMs: estimates.deliverySeconds * 1000,
  };
}

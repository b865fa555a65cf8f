// The one typed configuration of every process: defaults < JSON file (SESSIONFLOW_CONFIG_FILE) < environment.
// Plain tokens are hashed on load and dropped, so no secret lives on in the config object or a log of it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  idSchema,
  inputWiringSchema,
  pinSchema,
  type AnySessionKind,
  type InputWiring,
} from '../shared/session-kind';
import { findKind, sessionKinds, settingsOf } from './kinds';

/**
 * Names the platform or a kind gives callers without a token (a guest's order is `guest`'s): no token may
 * take one, or it would see what those callers own. Session principals are `session:<id>`, which no token
 * name can spell (no colon in `id`).
 */
export const reservedNames: readonly string[] = ['guest'];

const id = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (1-64 chars)');

/** A bearer token entry: kept as its sha256 (or given plain in dev configs and hashed on load). */
const tokenSchema = <R extends string>(roles: readonly [R, ...R[]]) =>
  z
    .strictObject({
      /** Recorded in sessions and logs instead of the token, e.g. "alice-phone". */
      name: id.refine((n) => !reservedNames.includes(n), {
        error: (i) =>
          `'${String(i.input)}' is reserved (${reservedNames.join(', ')} name callers without a token)`,
      }),
      role: z.enum(roles),
      token: z.string().min(16, 'tokens need at least 16 characters').optional(),
      sha256: z
        .string()
        .regex(/^[a-f0-9]{64}$/, 'sha256 must be 64 lowercase hex chars')
        .optional(),
    })
    .refine((t) => Boolean(t.token) !== Boolean(t.sha256), 'give exactly one of token or sha256');

/** AES-256 key for the payload codec: an id (stored with every payload, for rotation) and 32 bytes, base64. */
const pair = 'api.tls needs both certPath and keyPath (API_TLS_CERT and API_TLS_KEY)';

const codecKeySchema = z.strictObject({
  id,
  key: z
    .string()
    .refine(
      (k) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(k) && Buffer.from(k, 'base64').length === 32,
      'must be 32 random bytes, base64 (AES-256); `npm run codec-key:new` prints one',
    ),
});

const sirenSchema = z.strictObject({
  pin: pinSchema.default(13),
  component: z.enum(['relay', 'led']).default('relay'),
  relayType: z.enum(['NO', 'NC']).optional(),
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

/** A board input mapped to a kind's events: `active` when the input becomes active, `inactive` when it idles. */
const inputEventSchema = z.strictObject({
  event: z.string().min(1),
  body: z.record(z.string(), z.unknown()).default({}),
});
const inputSchema = inputWiringSchema.extend({
  kind: id,
  /** The session key; default the home's id. */
  key: id.optional(),
  active: inputEventSchema,
  inactive: inputEventSchema.optional(),
});

/** What every home has, whatever kinds run there; kinds add their own fields and input sections. */
const platformHomeSchema = z.strictObject({
  owner: z.strictObject({ name: z.string().max(100).optional(), phone: z.string().min(3).max(32) }),
  siren: sirenSchema.default({ pin: 13, component: 'relay' }),
  tokens: z.array(tokenSchema(['device', 'owner'])).default([]),
  /** Several sirens by id (e.g. hall, bedroom); when given, they replace `siren`. */
  sirens: z.record(id, sirenSchema).optional(),
  /** Board inputs by id, each mapped to a session kind's events. */
  inputs: z.record(id, inputSchema).default({}),
  /** Gateway that owns this home's board (queue `gateway-<id>`); unset: the worker's embedded gateway. */
  gateway: id.optional(),
  board: boardSchema.default({ type: 'simulated' }),
});

/** One input of a home's board, resolved: its wiring and the session events its edges become. */
export interface HomeInput {
  inputId: string;
  wiring: InputWiring;
  kind: string;
  key: string;
  active: { event: string; body: unknown };
  inactive?: { event: string; body: unknown };
}

/** Every input of a home: those written out under `inputs` and those of the kinds' input sections. */
export function homeInputs(homeId: string, home: HomeConfig): HomeInput[] {
  const out: HomeInput[] = Object.entries(home.inputs).map(([inputId, i]) => ({
    inputId,
    wiring: { pin: i.pin, debounceMs: i.debounceMs, activeLow: i.activeLow, pullUp: i.pullUp },
    kind: i.kind,
    key: i.key ?? homeId,
    active: i.active,
    inactive: i.inactive,
  }));
  for (const kind of sessionKinds()) {
    const section = kind.inputs;
    if (!section) continue;
    for (const [inputId, wiring] of Object.entries(
      (home[section.section] ?? {}) as Record<string, InputWiring>,
    )) {
      const edge = (e: { event: string; body: (id: string) => unknown }) => ({
        event: e.event,
        body: e.body(inputId),
      });
      out.push({
        inputId,
        wiring,
        kind: kind.name,
        key: section.key(homeId, inputId),
        active: edge(section.active),
        inactive: section.inactive && edge(section.inactive),
      });
    }
  }
  return out;
}

/** Each home's schema: the platform's fields, the kinds' fields and the kinds' input sections. */
function homeSchema() {
  const kinds = sessionKinds();
  let schema: z.ZodObject = platformHomeSchema;
  for (const kind of kinds) {
    if (kind.home) schema = schema.extend(kind.home.shape);
    if (kind.inputs)
      schema = schema.extend({
        [kind.inputs.section]: z.record(id, inputWiringSchema).default({}).describe(kind.inputs.summary),
      });
  }
  return schema.superRefine((raw, ctx) => {
    const home = raw as HomeConfig;
    // One pin, one job: a siren and an input on the same pin would fight over its mode.
    const owners = new Map<number, string>();
    const claim = (pin: number | string, who: string, path: (string | number)[]) => {
      const n = pinNumber(pin);
      const other = owners.get(n);
      if (other) ctx.addIssue({ code: 'custom', path, message: `pin ${pin} is already used by ${other}` });
      else owners.set(n, who);
    };
    for (const [sid, siren] of Object.entries(home.sirens ?? { siren: home.siren }))
      claim(siren.pin, `siren '${sid}'`, home.sirens ? ['sirens', sid, 'pin'] : ['siren', 'pin']);
    const inputIds = new Set<string>();
    for (const input of homeInputs('-', home)) {
      const section = findKind(input.kind)?.inputs?.section;
      const path =
        input.kind && home.inputs[input.inputId]
          ? ['inputs', input.inputId]
          : [section ?? 'inputs', input.inputId];
      if (inputIds.has(input.inputId))
        ctx.addIssue({ code: 'custom', path, message: `input id '${input.inputId}' is used twice` });
      inputIds.add(input.inputId);
      claim(input.wiring.pin, `input '${input.inputId}'`, [...path, 'pin']);
      const kind = findKind(input.kind);
      if (!kind) {
        ctx.addIssue({ code: 'custom', path: [...path, 'kind'], message: `no session kind '${input.kind}'` });
        continue;
      }
      for (const [edge, e] of [
        ['active', input.active],
        ['inactive', input.inactive],
      ] as const) {
        if (!e) continue;
        const event = kind.events[e.event];
        if (!event) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, edge, 'event'],
            message: `${kind.name} has no event '${e.event}' (one of ${Object.keys(kind.events).join(', ') || 'none'})`,
          });
        } else if (!event.body.safeParse(e.body).success) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, edge, 'body'],
            message: `not a valid ${e.event} body`,
          });
        }
      }
    }
  });
}

/** A value a JSON payload field must have for a device rule to match. */
const scalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A topic of its own: one device, one topic (wildcards would let any publisher pose as the device). */
const mqttTopicSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((t) => !/[+#]/.test(t) && !t.includes('\0'), 'a device topic names one topic: no + or # wildcards');

/**
 * What a message must carry: JSON fields with these values (`{"smoke": true}` for Zigbee2MQTT,
 * `{"Switch1": "ON"}` for Tasmota; a dotted name reaches into objects), or exactly this text (`ON`).
 */
const mqttMatchSchema = z
  .strictObject({
    json: z
      .record(z.string().min(1), scalarSchema)
      .refine((f) => Object.keys(f).length > 0, 'name at least one field')
      .optional(),
    text: z.string().min(1).optional(),
  })
  .refine((m) => (m.json === undefined) !== (m.text === undefined), 'give exactly one of json or text');

/** One device rule: a message on `topic` that matches becomes `event` (with `body`) of session `kind`/`key`. */
const mqttDeviceSchema = z.strictObject({
  topic: mqttTopicSchema,
  match: mqttMatchSchema,
  kind: id,
  key: z.string().min(1).max(128),
  event: z.string().min(1),
  body: z.record(z.string(), z.unknown()).default({}),
});
export type MqttDevice = z.output<typeof mqttDeviceSchema>;

const mqttSchema = z
  .strictObject({
    /** The broker, e.g. mqtt://127.0.0.1:1883; unset: no MQTT at all. */
    url: z
      .string()
      .regex(/^(mqtts?|wss?|tcp|tls):\/\/[^\s]+$/, 'an mqtt://, mqtts://, ws:// or wss:// URL')
      .optional(),
    username: z.string().min(1).optional(),
    /** Secret: give it through MQTT_PASSWORD, not the config file. */
    password: z.string().min(1).optional(),
    /**
     * Fixed, so the broker keeps this client's session (subscriptions and unacknowledged messages) while
     * it is away; `-ingress` and `-state` are appended for the two connections.
     */
    clientId: id.default('sessionflow'),
    ingress: z
      .strictObject({
        /** Device rules by id (the id names the rule in logs and counters). */
        devices: z.record(id, mqttDeviceSchema).default({}),
        /** Larger payloads are counted and dropped without being parsed. */
        maxPayloadBytes: z.number().int().positive().max(1_048_576).default(16_384),
        /** Messages accepted lately (SQLite), so one the broker delivers again is not sent again. */
        dedupe: z
          .strictObject({
            path: z.string().min(1).default('.data/mqtt-ingress.db'),
            windowSeconds: z.number().int().positive().default(86_400),
          })
          .prefault({}),
      })
      .prefault({}),
    /** Every session's state, retained, under `<topicPrefix>/<kind>/<key>/state`. */
    state: z
      .strictObject({
        enabled: z.boolean().default(true),
        topicPrefix: mqttTopicSchema.default('sessionflow'),
      })
      .prefault({}),
    /** Home Assistant MQTT discovery: each configured session as entities of its home's device. */
    discovery: z
      .strictObject({
        enabled: z.boolean().default(true),
        prefix: mqttTopicSchema.default('homeassistant'),
        /** Node id in discovery topics and the prefix of entity unique ids. */
        nodeId: id.default('sessionflow'),
      })
      .prefault({}),
  })
  .prefault({});

const notifyChannel = z.enum(['log', 'webhook', 'twilio', 'email']);

// Not strict at the top: the kinds' sections live there too. parseConfig refuses any other top-level key.
const configSchema = z
  .object({
    /** `production` refuses settings that only make sense on a laptop (the log channel, unless allowed). */
    profile: z.enum(['development', 'production']).default('development'),
    temporal: z
      .strictObject({
        address: z.string().default('127.0.0.1:7233'),
        namespace: z.string().default('default'),
        taskQueue: z.string().default('sessionflow'),
        /** Temporal Cloud API key; implies TLS. */
        apiKey: z.string().optional(),
        tls: z
          .strictObject({
            enabled: z.boolean().default(false),
            serverName: z.string().optional(),
            caPath: z.string().optional(),
            certPath: z.string().optional(),
            keyPath: z.string().optional(),
          })
          .default({ enabled: false }),
        /** Deadline of one API call to Temporal; past it the API answers 503 instead of hanging. */
        callTimeoutMs: z.number().int().positive().default(5000),
        /**
         * Worker Deployment Versioning: the worker joins this deployment as this build, and each kind's
         * sessions follow its declared `versioning` (pinned or auto-upgrade). Unset: an unversioned worker.
         */
        deployment: z.strictObject({ name: idSchema, buildId: idSchema }).optional(),
      })
      .prefault({}),
    api: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(3000),
        /**
         * Which proxies' X-Forwarded-For to believe for the client address (Express's `trust proxy`: false,
         * a hop count, or addresses/subnets such as `loopback` or `10.0.0.0/8`). Default: none, so a client
         * cannot pick its own address; per-address limits then count the socket's peer.
         */
        trustProxy: z
          .union([z.boolean(), z.number().int().min(0).max(10), z.array(z.string().min(1)).min(1)])
          .default(false),
        /**
         * Load shedding: Temporal writes (events, requests, starts) in flight at once per API process, and
         * how many may wait behind them and for how long; beyond that 429 with Retry-After, nothing sent.
         */
        writes: z
          .strictObject({
            concurrency: z.number().int().positive().default(16),
            queue: z.number().int().min(0).default(256),
            maxWaitMs: z.number().int().positive().default(1000),
            retryAfterSeconds: z.number().int().positive().default(1),
            /**
             * Sessions this API process opened that wait for their first workflow task; a new opening
             * beyond is refused with 429 (events to running sessions still pass). A worker and dev server
             * on 2 cores run about 40 first tasks/s, so 200 holds a new session back up to 5 s.
             */
            openingBacklog: z.number().int().positive().default(200),
          })
          .prefault({}),
        /**
         * HTTPS served by the API itself (PEM files; `npm run certs:new` makes a private CA and a server
         * certificate). Without it the API speaks plain HTTP: terminate TLS in a proxy in front of it.
         */
        tls: z
          .strictObject({
            certPath: z.string({ error: pair }).min(1),
            keyPath: z.string({ error: pair }).min(1),
          })
          .optional(),
      })
      .prefault({}),
    /**
     * The central worker's share of Temporal, in the SDK's own terms. The defaults suit a worker on its
     * server's host or LAN, as every shape this project starts (docs/performance.md).
     */
    worker: z
      .strictObject({
        /** Sessions kept in memory (about 200 KB each); one outside replays its history on its next task. */
        maxCachedWorkflows: z.number().int().min(0).default(500),
        /** Workflow tasks run at once. */
        maxConcurrentWorkflowTaskExecutions: z.number().int().min(2).default(16),
        /** Workflow-task polls held open at once; at most one per task slot, and one per queue at least. */
        workflowTaskPolls: z.number().int().min(2).default(10),
        /**
         * The share of those polls on the shared queue (new sessions' first tasks) against the worker's own
         * (its cached sessions' tasks), which keeps one at least. 1: all of them, and the SDK adds that one
         * (11 polls), so events to a busy session batch into one task. A worker tens of ms from its server
         * fetches one task per round trip and poll, so it wants more on its own queue: the SDK's default
         * is 0.2.
         */
        nonStickyToStickyPollRatio: z.number().gt(0).max(1).default(1),
        /**
         * Task slots added for eager starts when the API shares the worker's connection (`npm start`). An
         * eager start needs a slot no poll holds, and each poll holds one while it waits: 13 of the 16 by
         * default, which left 3 for openings in flight (docs/performance.md).
         */
        eagerStartSlots: z.number().int().min(0).default(8),
      })
      .prefault({})
      .refine((w) => w.workflowTaskPolls <= w.maxConcurrentWorkflowTaskExecutions, {
        message: 'must not exceed worker.maxConcurrentWorkflowTaskExecutions (each poll holds a task slot)',
        path: ['workflowTaskPolls'],
      }),
    notifications: z
      .strictObject({
        /** The channel of every kind that `routes` does not name. */
        channel: notifyChannel.default('log'),
        /** The log channel in the production profile: notices become log lines, so it must be asked for. */
        allowLog: z.boolean().default(false),
        /** Channel per kind: owner SMS, emergency call, notices (e.g. sms/call twilio, notify email). */
        routes: z
          .strictObject({
            sms: notifyChannel.optional(),
            call: notifyChannel.optional(),
            notify: notifyChannel.optional(),
          })
          .prefault({}),
        webhook: z
          .strictObject({
            url: z.url().optional(),
            timeoutMs: z.number().int().positive().default(5000),
          })
          .prefault({}),
        twilio: z
          .strictObject({
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
          .strictObject({
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
        sentLog: z
          .strictObject({ path: z.string().min(1).default('.data/notifications-sent.db') })
          .prefault({}),
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
          need(
            Boolean(n.email.host && n.email.from),
            'email channel needs notifications.email.host and from',
          );
      }),
    /** Status reads and the change stream (src/read-model): a SQLite file every process on a host shares. */
    readModel: z
      .strictObject({
        path: z.string().min(1).default('.data/read-model.db'),
        /** How often an API compares the store with Temporal and repairs what a lost publication left. */
        syncSeconds: z.number().positive().default(60),
      })
      .prefault({}),
    board: z
      .strictObject({
        type: z.literal('simulated').default('simulated'),
        readyTimeoutMs: z.number().int().positive().default(5000),
        /** Pause before a lost board (USB pulled, port error) is opened again. */
        reconnectDelayMs: z.number().int().positive().default(1000),
      })
      .prefault({}),
    homes: z.record(id, z.unknown()).default({}),
    /** The gateway process (`npm run gateway`): which homes' boards it owns and where it reports. */
    gateway: z
      .strictObject({
        id: id.optional(),
        /** GET /status (and, for simulated boards, press/unplug controls); off unless a port is set. */
        http: z
          .strictObject({
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
    /** Shop staff (every session of kinds that let staff in) and customers (sessions carrying their name). */
    tokens: z.array(tokenSchema(['staff', 'customer'])).default([]),
    /**
     * Signs session tokens (one session's access, e.g. a guest's order) and keyed digests; without it they
     * change at every API restart.
     */
    tokenSecret: z.string().min(32, 'tokenSecret needs at least 32 characters').optional(),
    /** Monitoring-centre operators: see every session in /ui and may act as an owner or staff would. */
    operators: z.array(tokenSchema(['operator'])).default([]),
    ui: z
      .strictObject({
        /** Base URL of the Temporal Web UI, for links from a session page (npm start sets it). */
        temporalWebUrl: z.url().optional(),
        /**
         * A gateway's status URL whose simulated detectors /ui may press (demo; `npm start` sets it to its
         * embedded gateway). Unset in production: the page then offers no simulator.
         */
        simulatorUrl: z.url().optional(),
      })
      .prefault({}),
    payments: z.strictObject({ provider: z.literal('fake').default('fake') }).prefault({}),
    /** MQTT in (device messages become session events) and out (session states, Home Assistant). */
    mqtt: mqttSchema,
    /** Temporal payload encryption (every payload, so no contact or name is in history in clear). */
    codec: z
      .strictObject({
        /** Key that encrypts new payloads; default the first key. The others only decrypt (rotation). */
        activeKeyId: id.optional(),
        keys: z.array(codecKeySchema).default([]),
        strict: z.boolean().default(true), // see src/codec/aes-gcm-codec.ts: refuse unencrypted payloads
        /** Remote codec endpoint (/codec/decode) for the Temporal Web UI / CLI. */
        endpoint: z
          .strictObject({
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
    /** What operators watch: the SDK runtime's metrics (worker, gateway) and traces; both off unless set. */
    telemetry: z
      .strictObject({
        /** `host:port` of the Temporal SDK runtime's Prometheus endpoint (`/metrics`) in worker and gateway. */
        metricsAddress: z
          .string()
          .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464')
          .optional(),
        /** OTLP/HTTP collector base URL (spans go to `<url>/v1/traces`); tracing is off without it. */
        otlpEndpoint: z.url().optional(),
      })
      .prefault({}),
    /** Per token name; answers 429 with Retry-After beyond it. Generous: a person or detector never hits it. */
    rateLimit: z
      .strictObject({
        perTokenPerMinute: z.number().int().positive().default(600),
        /**
         * Per client address, for requests without a valid token (none, unknown, malformed, and guests):
         * a flood of guesses or guest calls is slowed before it reaches a token lookup or Temporal.
         */
        unauthenticatedPerMinute: z.number().int().positive().default(60),
      })
      .prefault({}),
  })
  .refine(
    (c) => {
      const { channel, routes, allowLog } = c.notifications;
      const used = [routes.sms ?? channel, routes.call ?? channel, routes.notify ?? channel];
      return c.profile !== 'production' || !used.includes('log') || allowLog;
    },
    {
      path: ['notifications', 'channel'],
      message:
        'the log channel in the production profile turns SMS and emergency calls into log lines: ' +
        'configure a real channel, or set NOTIFY_ALLOW_LOG=true (notifications.allowLog) to mean it',
    },
  );

type RawConfig = z.output<typeof configSchema>;
type RawHome = z.output<typeof platformHomeSchema>;

export interface TokenEntry<R extends string = 'device' | 'owner'> {
  name: string;
  role: R;
  /** sha256 of the token, hex. */
  sha256: string;
}

/** A home as the platform reads it; the fields kinds add are read by their own files, typed there. */
export type HomeConfig = Omit<RawHome, 'tokens'> & { tokens: TokenEntry[]; [kindField: string]: unknown };
export type CodecConfig = Omit<RawConfig['codec'], 'endpoint'> & {
  endpoint: { tokens: TokenEntry<'codec-viewer'>[]; corsOrigins: string[] };
};
export type Config = Omit<RawConfig, 'homes' | 'tokens' | 'operators' | 'codec'> & {
  homes: Record<string, HomeConfig>;
  tokens: TokenEntry<'staff' | 'customer'>[];
  /** Each registered kind's own configuration section, parsed by its schema (see `settingsOf`). */
  kinds: Record<string, unknown>;
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
  SESSIONFLOW_PROFILE: 'profile (development | production)',
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
  TEMPORAL_DEPLOYMENT_NAME: 'temporal.deployment.name (Worker Deployment Versioning)',
  TEMPORAL_BUILD_ID: 'temporal.deployment.buildId',
  API_HOST: 'api.host',
  API_PORT: 'api.port',
  NOTIFY_CHANNEL: 'notifications.channel (log | webhook | twilio | email)',
  NOTIFY_ROUTE_SMS: 'notifications.routes.sms (channel of the owner SMS)',
  NOTIFY_ROUTE_CALL: 'notifications.routes.call (channel of the emergency call)',
  NOTIFY_ROUTE_NOTIFY: 'notifications.routes.notify (channel of notices)',
  NOTIFY_ALLOW_LOG: 'notifications.allowLog (true/false: the log channel in production)',
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
  SESSIONFLOW_READ_MODEL: 'readModel.path (SQLite file every worker and API on the host shares)',
  SESSIONFLOW_READ_MODEL_SYNC_SECONDS: 'readModel.syncSeconds',
  BOARD_READY_TIMEOUT_MS: 'board.readyTimeoutMs',
  GATEWAY_ID: 'gateway.id (npm run gateway: serves the homes whose gateway is this id)',
  GATEWAY_HTTP_HOST: 'gateway.http.host',
  GATEWAY_HTTP_PORT: 'gateway.http.port (status endpoint; off when unset)',
  SESSIONFLOW_TOKEN_SECRET: 'tokenSecret (signs session tokens and digests; secret)',
  SESSIONFLOW_SHOP_TOKENS_JSON: 'tokens (staff and customers) as JSON, for container deployments',
  SESSIONFLOW_OPERATORS_JSON: 'operators as JSON, for container deployments',
  TEMPORAL_WEB_URL: 'ui.temporalWebUrl',
  SESSIONFLOW_SIMULATOR_URL: 'ui.simulatorUrl (a gateway with simulated boards, for /ui)',
  SESSIONFLOW_CODEC_KEYS: 'codec.keys as `id:base64key,id2:base64key` (secret)',
  SESSIONFLOW_CODEC_ACTIVE_KEY: 'codec.activeKeyId',
  CODEC_ENDPOINT_CORS_ORIGINS: 'codec.endpoint.corsOrigins, comma-separated',
  API_RATE_LIMIT_PER_MINUTE: 'rateLimit.perTokenPerMinute',
  API_UNAUTHENTICATED_PER_MINUTE: 'rateLimit.unauthenticatedPerMinute',
  API_TRUST_PROXY: 'api.trustProxy (false, a hop count, or comma-separated addresses/subnets)',
  API_WRITE_CONCURRENCY: 'api.writes.concurrency (Temporal writes in flight per API process)',
  API_WRITE_QUEUE: 'api.writes.queue (writes waiting for a slot; beyond: 429)',
  API_OPENING_BACKLOG: 'api.writes.openingBacklog (sessions waiting for their first task; beyond: 429)',
  WORKER_MAX_CACHED_WORKFLOWS: 'worker.maxCachedWorkflows (sessions the worker keeps in memory)',
  WORKER_WORKFLOW_TASKS: 'worker.maxConcurrentWorkflowTaskExecutions (workflow tasks at once)',
  WORKER_WORKFLOW_TASK_POLLS: 'worker.workflowTaskPolls (workflow-task polls held open)',
  WORKER_NON_STICKY_POLL_RATIO: 'worker.nonStickyToStickyPollRatio (share of polls on the shared queue)',
  WORKER_EAGER_START_SLOTS: 'worker.eagerStartSlots (task slots added for eager starts beside the API)',
  API_TLS_CERT: 'api.tls.certPath (PEM certificate chain; with API_TLS_KEY the API serves HTTPS)',
  API_TLS_KEY: 'api.tls.keyPath (PEM private key)',
  MQTT_URL: 'mqtt.url (the broker, e.g. mqtt://127.0.0.1:1883; MQTT is off when unset)',
  MQTT_USERNAME: 'mqtt.username',
  MQTT_PASSWORD: 'mqtt.password (secret)',
  MQTT_CLIENT_ID: 'mqtt.clientId (fixed, so the broker keeps the session while we are away)',
  MQTT_DEVICES_JSON: 'mqtt.ingress.devices as JSON (device rules by id)',
  MQTT_MAX_PAYLOAD_BYTES: 'mqtt.ingress.maxPayloadBytes',
  MQTT_DEDUPE_PATH: 'mqtt.ingress.dedupe.path (SQLite file, on a local disk)',
  MQTT_STATE: 'mqtt.state.enabled (true/false: publish session states)',
  MQTT_STATE_TOPIC_PREFIX: 'mqtt.state.topicPrefix',
  MQTT_DISCOVERY: 'mqtt.discovery.enabled (true/false: Home Assistant discovery)',
  MQTT_DISCOVERY_PREFIX: 'mqtt.discovery.prefix',
  SESSIONFLOW_METRICS_ADDRESS: 'telemetry.metricsAddress (worker, gateway: SDK runtime Prometheus endpoint)',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'telemetry.otlpEndpoint (OTLP/HTTP traces; off when unset)',
} as const;

type Env = Record<string, string | undefined>;

function envOverrides(env: Env): Record<string, unknown> {
  // An empty variable (e.g. compose's `${X:-}`) means "not set", not "set to nothing".
  const str = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  // Anything but a number or true/false is passed on as given, so the schema refuses it ('yes' is not false).
  const num = (v: string | undefined) =>
    str(v) === undefined ? undefined : /^-?\d+(\.\d+)?$/.test(v!) ? Number(v) : v;
  const bool = (v: string | undefined) =>
    str(v) === undefined ? undefined : v === 'true' ? true : v === 'false' ? false : v;
  const homesJson = str(env.SESSIONFLOW_HOMES_JSON);
  const shopTokensJson = str(env.SESSIONFLOW_SHOP_TOKENS_JSON);
  const operatorsJson = str(env.SESSIONFLOW_OPERATORS_JSON);
  const mqttDevicesJson = str(env.MQTT_DEVICES_JSON);
  const list = (v: string | undefined) =>
    str(v)
      ?.split(',')
      .map((x) => x.trim());
  const trustProxy = (v: string | undefined) => {
    if (v === undefined || v === '') return undefined;
    if (/^\d+$/.test(v)) return Number(v);
    return v === 'true' || v === 'false' ? v === 'true' : list(v);
  };
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
      deployment:
        env.TEMPORAL_DEPLOYMENT_NAME || env.TEMPORAL_BUILD_ID
          ? { name: str(env.TEMPORAL_DEPLOYMENT_NAME), buildId: str(env.TEMPORAL_BUILD_ID) }
          : undefined,
      tls: {
        enabled: bool(env.TEMPORAL_TLS),
        serverName: str(env.TEMPORAL_TLS_SERVER_NAME),
        caPath: str(env.TEMPORAL_TLS_CA),
        certPath: str(env.TEMPORAL_TLS_CERT),
        keyPath: str(env.TEMPORAL_TLS_KEY),
      },
    },
    profile: str(env.SESSIONFLOW_PROFILE),
    api: {
      host: str(env.API_HOST),
      port: num(env.API_PORT),
      trustProxy: trustProxy(env.API_TRUST_PROXY),
      writes: {
        concurrency: num(env.API_WRITE_CONCURRENCY),
        queue: num(env.API_WRITE_QUEUE),
        openingBacklog: num(env.API_OPENING_BACKLOG),
      },
      tls:
        str(env.API_TLS_CERT) || str(env.API_TLS_KEY)
          ? { certPath: str(env.API_TLS_CERT), keyPath: str(env.API_TLS_KEY) }
          : undefined,
    },
    worker: {
      maxCachedWorkflows: num(env.WORKER_MAX_CACHED_WORKFLOWS),
      maxConcurrentWorkflowTaskExecutions: num(env.WORKER_WORKFLOW_TASKS),
      workflowTaskPolls: num(env.WORKER_WORKFLOW_TASK_POLLS),
      nonStickyToStickyPollRatio: num(env.WORKER_NON_STICKY_POLL_RATIO),
      eagerStartSlots: num(env.WORKER_EAGER_START_SLOTS),
    },
    notifications: {
      channel: str(env.NOTIFY_CHANNEL),
      routes: {
        sms: str(env.NOTIFY_ROUTE_SMS),
        call: str(env.NOTIFY_ROUTE_CALL),
        notify: str(env.NOTIFY_ROUTE_NOTIFY),
      },
      allowLog: bool(env.NOTIFY_ALLOW_LOG),
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
    readModel: {
      path: str(env.SESSIONFLOW_READ_MODEL),
      syncSeconds: num(env.SESSIONFLOW_READ_MODEL_SYNC_SECONDS),
    },
    board: { readyTimeoutMs: num(env.BOARD_READY_TIMEOUT_MS) },
    gateway: {
      id: str(env.GATEWAY_ID),
      http: { host: str(env.GATEWAY_HTTP_HOST), port: num(env.GATEWAY_HTTP_PORT) },
    },
    homes: homesJson ? parseJson(homesJson, 'SESSIONFLOW_HOMES_JSON') : undefined,
    tokenSecret: str(env.SESSIONFLOW_TOKEN_SECRET),
    tokens: shopTokensJson ? parseJson(shopTokensJson, 'SESSIONFLOW_SHOP_TOKENS_JSON') : undefined,
    operators: operatorsJson ? parseJson(operatorsJson, 'SESSIONFLOW_OPERATORS_JSON') : undefined,
    ui: { temporalWebUrl: str(env.TEMPORAL_WEB_URL), simulatorUrl: str(env.SESSIONFLOW_SIMULATOR_URL) },
    codec: {
      keys: codecKeys,
      activeKeyId: str(env.SESSIONFLOW_CODEC_ACTIVE_KEY),
      endpoint: { corsOrigins: list(env.CODEC_ENDPOINT_CORS_ORIGINS) },
    },
    telemetry: {
      metricsAddress: str(env.SESSIONFLOW_METRICS_ADDRESS),
      otlpEndpoint: str(env.OTEL_EXPORTER_OTLP_ENDPOINT),
    },
    rateLimit: {
      perTokenPerMinute: num(env.API_RATE_LIMIT_PER_MINUTE),
      unauthenticatedPerMinute: num(env.API_UNAUTHENTICATED_PER_MINUTE),
    },
    mqtt: {
      url: str(env.MQTT_URL),
      username: str(env.MQTT_USERNAME),
      password: str(env.MQTT_PASSWORD),
      clientId: str(env.MQTT_CLIENT_ID),
      ingress: {
        devices: mqttDevicesJson ? parseJson(mqttDevicesJson, 'MQTT_DEVICES_JSON') : undefined,
        maxPayloadBytes: num(env.MQTT_MAX_PAYLOAD_BYTES),
        dedupe: { path: str(env.MQTT_DEDUPE_PATH) },
      },
      state: { enabled: bool(env.MQTT_STATE), topicPrefix: str(env.MQTT_STATE_TOPIC_PREFIX) },
      discovery: { enabled: bool(env.MQTT_DISCOVERY), prefix: str(env.MQTT_DISCOVERY_PREFIX) },
    },
    ...kindEnvOverrides(env),
  };
}

/** The kinds' own variables (their declarations name them), into their sections. */
function kindEnvOverrides(env: Env): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const kind of sessionKinds()) {
    const { section, env: vars = {} } = kind.settings ?? { section: '' };
    for (const [name, field] of Object.entries(vars)) {
      const v = env[name];
      if (v === undefined || v === '') continue;
      // Numbers and booleans as such; the kind's schema says whether that is what it wants.
      const value = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
      (out[section] ??= {})[field] = value;
    }
  }
  return out;
}

/** Every variable a kind reads, with the field it sets (docs and the compose-file test use it). */
export function kindEnvVars(): Record<string, string> {
  return Object.fromEntries(
    sessionKinds().flatMap((k) =>
      Object.entries(k.settings?.env ?? {}).map(([name, field]) => [name, `${k.settings!.section}.${field}`]),
    ),
  );
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

/** The config path each set environment variable wrote, so an error can name the variable. */
function envSources(env: Env): [path: string, variable: string][] {
  const all: Record<string, string> = { ...configEnvVars, ...kindEnvVars() };
  return Object.entries(all)
    .filter(([name]) => name !== 'SESSIONFLOW_CONFIG_FILE' && env[name] !== undefined && env[name] !== '')
    .map(([name, desc]) => [/^[A-Za-z.]+/.exec(desc)![0].replace(/\.$/, ''), name]);
}

/**
 * The event's own check against the configuration (a detector of this home, not any id a sender makes
 * up): a refusal message, or undefined. The API, the MQTT ingress and the config's device rules use it.
 */
export function eventRefusal(
  config: Pick<Config, 'homes' | 'kinds'>,
  kind: AnySessionKind,
  key: string,
  name: string,
  body: unknown,
): string | undefined {
  const event = Object.hasOwn(kind.events, name) ? kind.events[name] : undefined;
  if (!event?.check) return undefined;
  const homeId = kind.homeOf?.(key);
  const home = homeId === undefined ? undefined : config.homes[homeId];
  const inputs =
    homeId === undefined || home === undefined
      ? []
      : homeInputs(homeId, home)
          .filter((i) => i.kind === kind.name && i.key === key)
          .flatMap((i) =>
            [i.active, ...(i.inactive ? [i.inactive] : [])].map((e) => ({ inputId: i.inputId, ...e })),
          );
  return event.check(body, { home, settings: settingsOf(kind, config), inputs });
}

/** Whether a device rule names a kind, key, event and body the sessions would take: what is wrong. */
function deviceRefusal(
  device: MqttDevice,
  config: Pick<Config, 'homes' | 'kinds'>,
): { field: string; message: string } | undefined {
  const kind = findKind(device.kind);
  if (!kind)
    return {
      field: 'kind',
      message: `no session kind '${device.kind}' (one of ${sessionKinds()
        .map((k) => k.name)
        .join(', ')})`,
    };
  if (!kind.key.schema.safeParse(device.key).success)
    return { field: 'key', message: `not a ${kind.name} key (like '${kind.key.example}')` };
  const event = Object.hasOwn(kind.events, device.event) ? kind.events[device.event] : undefined;
  if (!event)
    return {
      field: 'event',
      message: `${kind.name} has no event '${device.event}' (one of ${Object.keys(kind.events).join(', ') || 'none'})`,
    };
  const body = event.body.safeParse(device.body);
  if (!body.success)
    return { field: 'body', message: `not a valid ${device.event} body: ${body.error.issues[0]?.message}` };
  const homeId = kind.homeOf?.(device.key);
  if (homeId !== undefined && !config.homes[homeId])
    return { field: 'key', message: `home '${homeId}' is not configured` };
  const refusal = eventRefusal(config, kind, device.key, device.event, body.data);
  return refusal === undefined ? undefined : { field: 'body', message: refusal };
}

/**
 * Validates and normalises a config object (tests build configs with this). Unknown keys are errors
 * everywhere (a typo must not fall back to a default); `fromEnv` names the variable behind a bad value.
 */
export function parseConfig(raw: unknown, fromEnv: [path: string, variable: string][] = []): Config {
  const problems: string[] = [];
  const line = (path: string, message: string) => {
    const variable = fromEnv.find(([p]) => path === p || path.startsWith(`${p}.`))?.[1];
    problems.push(`  ${path || '(root)'}: ${message}${variable ? ` (from ${variable})` : ''}`);
  };
  const report = (prefix: string, issues: z.core.$ZodIssue[]) => {
    for (const i of issues) {
      const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      if (i.code === 'unrecognized_keys')
        for (const key of i.keys) line([path, key].filter(Boolean).join('.'), 'unknown key (a typo?)');
      else line(path, i.message);
    }
  };
  const input = (raw ?? {}) as Record<string, unknown>;
  const known = new Set([
    ...Object.keys(configSchema.shape),
    ...sessionKinds().flatMap((k) => (k.settings ? [k.settings.section] : [])),
  ]);
  for (const key of Object.keys(input)) if (!known.has(key)) line(key, 'unknown key (a typo?)');
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) report('', parsed.error.issues);
  const homes: Record<string, HomeConfig> = {};
  const homeSchemaNow = homeSchema();
  for (const [homeId, home] of Object.entries(parsed.data?.homes ?? {})) {
    const result = homeSchemaNow.safeParse(home);
    if (!result.success) report(`homes.${homeId}`, result.error.issues);
    else {
      const parsedHome = result.data as RawHome;
      homes[homeId] = { ...parsedHome, tokens: parsedHome.tokens.map(hashed) };
    }
  }
  const kinds: Record<string, unknown> = {};
  for (const kind of sessionKinds()) {
    if (!kind.settings) continue;
    const result = kind.settings.schema.safeParse(input[kind.settings.section]);
    if (!result.success) report(kind.settings.section, result.error.issues);
    else kinds[kind.name] = result.data;
  }
  if (parsed.success)
    for (const [deviceId, device] of Object.entries(parsed.data.mqtt.ingress.devices)) {
      const refusal = deviceRefusal(device, { homes, kinds });
      if (refusal) line(`mqtt.ingress.devices.${deviceId}.${refusal.field}`, refusal.message);
    }
  if (parsed.success) {
    // A name is an identity (audit fields, a customer's orders): two tokens must never share one.
    const named = [
      ...Object.entries(homes).flatMap(([h, home]) =>
        home.tokens.map((t, i) => [t.name, `homes.${h}.tokens.${i}`]),
      ),
      ...parsed.data.tokens.map((t, i) => [t.name, `tokens.${i}`]),
      ...parsed.data.operators.map((t, i) => [t.name, `operators.${i}`]),
      ...parsed.data.codec.endpoint.tokens.map((t, i) => [t.name, `codec.endpoint.tokens.${i}`]),
    ];
    const seen = new Map<string, string>();
    for (const [name, path] of named) {
      const first = seen.get(name);
      if (first)
        line(`${path}.name`, `'${name}' is already the name of ${first}: token names must be unique`);
      else seen.set(name, path);
    }
  }
  if (!parsed.success || problems.length > 0)
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  const { codec } = parsed.data;
  return {
    ...parsed.data,
    homes,
    kinds,
    tokens: parsed.data.tokens.map(hashed),
    operators: parsed.data.operators.map(hashed),
    codec: { ...codec, endpoint: { ...codec.endpoint, tokens: codec.endpoint.tokens.map(hashed) } },
  };
}

const hashed = <R extends string>(t: { name: string; role: R; token?: string; sha256?: string }) => ({
  name: t.name,
  role: t.role,
  sha256: t.sha256 ?? sha256Hex(t.token!),
});

/**
 * One line of what a process runs with, logged at start so a fallback cannot go unnoticed: never a secret
 * (key ids, not keys; the webhook's host, not its URL, which may carry a token).
 */
export function configSummary(config: Config): string {
  const { temporal, codec, notifications: n } = config;
  const active = codec.activeKeyId ?? codec.keys[0]?.id;
  const channel =
    n.channel === 'webhook' && n.webhook.url ? `webhook(${new URL(n.webhook.url).host})` : n.channel;
  return [
    `profile=${config.profile}`,
    `temporal=${temporal.address}/${temporal.namespace}`,
    `queue=${temporal.taskQueue}`,
    `tls=${temporal.tls.enabled || temporal.apiKey ? 'on' : 'off'}`,
    `channel=${channel}`,
    `codecKeys=${codec.keys.map((k) => (k.id === active ? `${k.id}(active)` : k.id)).join(',') || 'none'}`,
    `kinds=${sessionKinds()
      .map((k) => k.name)
      .join(',')}`,
    `homes=${Object.keys(config.homes).length}`,
    // The broker's host only: its URL may carry credentials.
    `mqtt=${config.mqtt.url ? `${new URL(config.mqtt.url).host}(${Object.keys(config.mqtt.ingress.devices).length} devices)` : 'off'}`,
    `metrics=${config.telemetry.metricsAddress ?? 'off'}`,
    `traces=${config.telemetry.otlpEndpoint ? new URL(config.telemetry.otlpEndpoint).host : 'off'}`,
  ].join(' ');
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
  return parseConfig(merge(fromFile, envOverrides(env)), envSources(env));
}

/** A pin as the board numbers it: A0-A5 are 14-19 on an Uno. */
export function pinNumber(pin: number | string): number {
  return typeof pin === 'number' ? pin : 14 + Number(pin.slice(1));
}

/**
 * The task queue of the gateway that owns a home's board; undefined for the embedded gateway, which
 * serves the board from the central worker itself (the session's own worker: src/workflows/hardware.ts).
 */
export function hardwareTaskQueue(config: Config, homeId: string): string | undefined {
  const gateway = config.homes[homeId]?.gateway;
  return gateway ? gatewayTaskQueue(gateway) : undefined;
}

export const gatewayTaskQueue = (gatewayId: string) => `gateway-${gatewayId}`;

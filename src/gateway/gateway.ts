// An edge gateway: owns the boards of its homes, runs their siren commands (the hardware activities),
// turns input edges into the session events their configuration maps them to (with the gateway's own
// client identity), and learns the desired siren state from the sessions that drive the sirens whenever
// it starts — so a restarted gateway puts the sirens back where the running sessions want them.
import { dataConverterFor } from '../codec/aes-gcm-codec';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Client,
  Connection,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { homeInputs, type Config, type HomeInput } from '../config/config';
import { findKind, sessionKinds } from '../config/kinds';
import type { Logger } from '../config/logger';
import { retryUntilDone } from '../config/retry';
import { sendSessionEventIfRunning } from '../config/session-events';
import { temporalConnectionSettings } from '../config/temporal-connection';
import { clientInterceptors } from '../config/tracing';
import { boardLabel, homeHardware, openBoardIO } from '../hardware/board-io';
import type { BoardStatus, HomeBoard, InputEdge } from '../hardware/home-board';
import { hardwareActivities } from '../activities/hardware';
import { JohnnyFiveSirenBank, type SetSirenOptions, type SirenBank } from '../hardware/siren-bank';
import type { SimulatedIO } from '../hardware/simulated-io';
import { SessionState } from '../shared/search-attributes';
import { sessionId, type AnySessionKind } from '../shared/session-kind';

export interface GatewayOptions {
  config: Config;
  /** `embedded` for the worker's own gateway, else the configured gateway id. */
  gatewayId: string;
  /** The homes whose boards this gateway owns. */
  homeIds: string[];
  logger: Logger;
  /** For detector events and the desired-state sync; without it the gateway only runs siren commands. */
  client?: Client;
  /**
   * The client shares its connection with the worker of the sessions' queue in this process (the
   * embedded gateway under `npm start`): opening events start their session eagerly (`sendSessionEvent`).
   */
  eagerOpenings?: boolean;
  /** Simulated boards by home (created on first use); tests and the press endpoint drive them. */
  simulatedBoards?: Map<string, SimulatedIO>;
  /** Pause before a lost board is opened again. */
  reconnectDelayMs?: number;
}

export interface GatewayStatus {
  gatewayId: string;
  homes: BoardStatus[];
  /** Input events being sent to Temporal right now (retried until accepted). */
  eventsPending: number;
  eventsSent: number;
}

/** What `read` takes from the running session of a kind at a key; undefined when none is running. */
async function running<T>(
  client: Client,
  kind: AnySessionKind,
  key: string,
  read: (d: WorkflowExecutionDescription, query: () => Promise<{ state: string }>) => T | Promise<T>,
): Promise<T | undefined> {
  const handle = client.workflow.getHandle(sessionId(kind, key));
  try {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return undefined;
    return await read(description, () => handle.query(kind.statusQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * A running session's state as Temporal records it (its SessionState search attribute, set at the start
 * and at every move): no worker answers, and no history is replayed for it. A session started by an older
 * version, before its first task, has none yet: its query then.
 */
const runningState = (client: Client, kind: AnySessionKind, key: string) =>
  running(
    client,
    kind,
    key,
    async (d, query) => d.typedSearchAttributes.get(SessionState) ?? (await query()).state,
  );

/** A running session's status, by query (the worker replays the session if it does not hold it). */
const runningStatus = (client: Client, kind: AnySessionKind, key: string) =>
  running(client, kind, key, (_d, query) => query());

export class Gateway implements SirenBank {
  readonly simulatedBoards: Map<string, SimulatedIO>;
  private readonly bank: JohnnyFiveSirenBank;
  private readonly homes: Set<string>;
  private readonly log: Logger;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly abort = new AbortController();
  private eventsPending = 0;
  private eventsSent = 0;
  private readonly inflight = new Set<Promise<void>>();
  private readonly inputs = new Map<string, Map<string, HomeInput>>();

  constructor(private readonly opts: GatewayOptions) {
    const { config } = opts;
    this.simulatedBoards = opts.simulatedBoards ?? new Map<string, SimulatedIO>();
    this.homes = new Set(opts.homeIds);
    for (const homeId of this.homes) {
      const home = config.homes[homeId];
      if (home) this.inputs.set(homeId, new Map(homeInputs(homeId, home).map((i) => [i.inputId, i])));
    }
    this.log = opts.logger.child({ component: 'gateway', gatewayId: opts.gatewayId });
    this.bank = new JohnnyFiveSirenBank({
      hardwareFor: (homeId) => {
        const home = config.homes[homeId];
        return home && this.homes.has(homeId) ? homeHardware(homeId, home) : undefined;
      },
      openIO: (homeId) => openBoardIO(homeId, config.homes[homeId].board, this.simulatedBoards),
      boardLabel: (homeId) => boardLabel(config.homes[homeId].board),
      readyTimeoutMs: config.board.readyTimeoutMs,
      reconnectDelayMs: opts.reconnectDelayMs ?? config.board.reconnectDelayMs,
      logger: this.log,
    });
  }

  get id(): string {
    return this.opts.gatewayId;
  }

  serves(homeId: string): boolean {
    return this.homes.has(homeId);
  }

  /** A served home's board (opened on first use). */
  board(homeId: string): HomeBoard {
    return this.bank.board(homeId);
  }

  set(homeId: string, on: boolean, opts?: SetSirenOptions): Promise<void> {
    return this.bank.set(homeId, on, opts);
  }

  /** The hardware activities this gateway runs on its task queue. */
  activities() {
    return hardwareActivities(this);
  }

  /** A served home's configured input ids. */
  inputIds(homeId: string): string[] {
    return [...(this.inputs.get(homeId)?.keys() ?? [])];
  }

  /** A served home's configured input. */
  input(homeId: string, inputId: string): HomeInput | undefined {
    return this.inputs.get(homeId)?.get(inputId);
  }

  /**
   * Opens every board, watches the detectors and learns the desired siren state from the sessions
   * (at start, after every reconnect and every `resyncSeconds`).
   */
  start(): void {
    const { client, config } = this.opts;
    for (const homeId of this.homes) {
      const board = this.bank.board(homeId);
      if (!client) continue;
      board.on('input', (edge: InputEdge) => this.track(this.report(client, edge)));
      board.on('connected', () => this.track(this.sync(client, homeId)));
    }
    if (client) {
      const resync = setInterval(() => {
        for (const homeId of this.homes) this.track(this.sync(client, homeId, false));
      }, config.gateway.resyncSeconds * 1000);
      this.timers.push(resync);
    }
    const statusLog = setInterval(() => this.logStatus(), config.gateway.statusLogSeconds * 1000);
    this.timers.push(statusLog);
    for (const t of this.timers) t.unref();
    this.logStatus();
  }

  status(): GatewayStatus {
    return {
      gatewayId: this.opts.gatewayId,
      homes: this.bank.status(),
      eventsPending: this.eventsPending,
      eventsSent: this.eventsSent,
    };
  }

  /** Input events and syncs still running (tests wait for these before tearing down). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  close(): void {
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    this.bank.close();
  }

  /**
   * Closes and lets in-flight Temporal calls end (bounded) before the caller closes the client's
   * connection: the SDK's gRPC retry timer throws if it fires on a closed channel.
   */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.close();
    // The bound must not hold the process open once everything has settled.
    await Promise.race([this.settled(), sleep(timeoutMs, undefined, { ref: false })]);
  }

  private logStatus() {
    for (const h of this.bank.status()) {
      const pins = Object.entries(h.sirens).map(([id, s]) => `${id}@${s.pin}=${s.written ?? '?'}`);
      const inputs = Object.entries(h.inputs).map(
        ([id, d]) => `${id}@${d.pin}=${d.active ? 'ACTIVE' : 'idle'}`,
      );
      this.log.info(
        {
          homeId: h.homeId,
          board: h.board,
          connected: h.connected,
          desiredSiren: h.desiredSiren,
          sirens: pins.join(' '),
          inputs: inputs.join(' '),
          lastError: h.lastError?.message,
        },
        'board status',
      );
    }
  }

  private track(p: Promise<void>) {
    const done = p
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'gateway task failed'))
      .finally(() => this.inflight.delete(done));
    this.inflight.add(done);
  }

  /** Whether any running session that drives the home's sirens wants them on. */
  private async sirenWanted(client: Client, homeId: string): Promise<boolean> {
    for (const kind of sessionKinds()) {
      if (!kind.sirens) continue;
      const state = await runningState(client, kind, kind.sirens.key(homeId));
      if (state !== undefined && kind.sirens.wanted(state)) return true;
    }
    return false;
  }

  /** Desired state from the sessions; retried until Temporal answers (a worker need not run). */
  private async sync(client: Client, homeId: string, persist = true): Promise<void> {
    const board = this.bank.board(homeId);
    await this.retrying(
      `reading the sessions of ${homeId}`,
      async () => {
        const version = board.desiredVersion;
        board.wantFromSync(await this.sirenWanted(client, homeId), version);
      },
      persist,
    );
  }

  /**
   * One input edge → the session event its configuration maps it to, retried until Temporal accepts it.
   * An input already active when the board (or this gateway) came up may have been reported before:
   * skip it if its session says it knows it. A duplicate would be harmless anyway (sessions count a
   * repeated event and change nothing).
   */
  private async report(client: Client, edge: InputEdge): Promise<void> {
    const { homeId, inputId } = edge;
    const input = this.input(homeId, inputId);
    const event = edge.active ? input?.active : input?.inactive;
    const kind = input && findKind(input.kind);
    if (!input || !event || !kind) return;
    // The session's own fields, so a grep for its workflow id finds this gateway's part of its story.
    const session = { kind: kind.name, key: input.key, workflowId: sessionId(kind, input.key) };
    this.eventsPending += 1;
    try {
      if (edge.initial && kind.sirens?.knows) {
        const status = await runningStatus(client, kind, input.key).catch(() => undefined);
        if (status && kind.sirens.knows(status, inputId)) {
          this.log.info({ homeId, inputId, ...session }, 'input still active; its session already has it');
          return;
        }
      }
      await this.retrying(`${kind.name} event ${homeId}/${inputId}`, async () => {
        const sent = await sendSessionEventIfRunning(
          client,
          this.opts.config,
          kind,
          input.key,
          event.event,
          event.body,
          { eager: this.opts.eagerOpenings === true },
        );
        if (!sent) {
          this.log.info({ homeId, inputId, ...session, event: event.event }, 'no running session to join');
          return;
        }
        const { runId, eager } = sent;
        this.eventsSent += 1;
        this.log.info({ homeId, inputId, ...session, event: event.event, runId, eager }, 'event sent');
      });
    } finally {
      this.eventsPending -= 1;
    }
  }

  private retrying(what: string, fn: () => Promise<void>, persist = true): Promise<void> {
    return retryUntilDone(fn, {
      signal: this.abort.signal,
      once: !persist,
      onError: (err, retryInMs) => this.log.warn({ err: err.message, retryInMs }, `${what} failed; retrying`),
    });
  }
}

/** The homes a gateway owns: those naming it, or (embedded) those naming no gateway. */
export function homesOfGateway(config: Config, gatewayId: string | undefined): string[] {
  return Object.entries(config.homes)
    .filter(([, home]) => home.gateway === gatewayId)
    .map(([homeId]) => homeId);
}

/** Id of the gateway a worker runs itself, for the homes that name no gateway. */
export const EMBEDDED_GATEWAY = 'embedded';

/**
 * A Temporal client with the gateway's own identity (detector events are recorded as sent by it): on its
 * own connection, or on the worker's when it runs beside one (`npm start`).
 */
export function gatewayClient(config: Config, identity: string, workerConnection?: NativeConnection): Client {
  const connection = workerConnection ?? Connection.lazy(temporalConnectionSettings(config));
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    identity,
    dataConverter: dataConverterFor(config),
    interceptors: clientInterceptors(),
  });
}

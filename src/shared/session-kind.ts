// What a session kind declares, and all the platform reads: API routes, auth scopes, OpenAPI, /ui,
// diagrams, worker registration, gateway inputs and configuration are derived from it. Sandbox-safe:
// a kind's workflow imports its own declaration, so no Node built-ins and no I/O here.
import type {
  QueryDefinition,
  SearchAttributeType,
  SignalDefinition,
  UpdateDefinition,
} from '@temporalio/common';
import { z } from 'zod';
import type { SessionModel, TransitionTaken } from './session-model';

/**
 * Who may call what. Home roles (device, owner) act only on sessions of their own home; a customer on
 * sessions that carry their name; staff on every session of a kind that lets staff in; an operator on
 * every session as any role but device; a session token on its one session.
 */
export const roles = ['device', 'owner', 'staff', 'customer', 'operator', 'session'] as const;
export type Role = (typeof roles)[number];
export const homeRoles: readonly Role[] = ['device', 'owner'];

/** The caller as a session sees it: a name (never the token) and the role it acted in. */
export interface Caller {
  name: string;
  role: Role;
}

/** Ids, keys and names in routes, topics and configuration: short, URL- and topic-safe. */
export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore');

/** What an event's `check` sees of the configuration, for the session its key names. */
export interface EventContext<Settings = unknown> {
  /** The session's home as configured (kinds with `homeOf`); undefined when there is none. */
  home: unknown;
  settings: Settings;
  /** The home's board inputs of this kind, and the event and body each edge sends (see `InputSection`). */
  inputs: readonly { inputId: string; event: string; body: unknown }[];
}

/** A signal a device or person sends; `opens` events start the session when none is running. */
export interface EventDecl<Body = unknown> {
  signal: SignalDefinition<[Body]>;
  body: z.ZodType<Body>;
  roles: readonly Role[];
  opens: boolean;
  summary: string;
  /**
   * Whether the body names only what the configuration has (a detector of this home, not any id a token
   * holder makes up): a refusal message, or undefined. The API refuses with 422 before anything is started
   * or signalled, on every route that sends the event; the gateway sends only configured inputs.
   */
  check?(body: Body, ctx: EventContext): string | undefined;
}

/** What the /ui offers for a model trigger: a label and the request body it sends. */
export interface ActionOffer {
  label: string;
  body?: unknown;
}

/** An update that answers: the answer, or a refusal with a code (HTTP 409 unless `refusals` says). */
export interface RequestDecl<Status = unknown, Body = unknown, Arg = unknown, Answer = unknown> {
  update: UpdateDefinition<Answer, [Arg]>;
  body: z.ZodType<Body>;
  roles: readonly Role[];
  summary: string;
  answer: z.ZodType<Answer>;
  /** The update's argument from the body and the caller; default: the body plus `by`. */
  args?(body: Body, caller: Caller): Arg;
  /** Refusal codes → HTTP status, for those that are not conflicts with the session's state (409). */
  refusals?: Record<string, number>;
  /** Refusal codes the workflow lifts within a moment (see `guardTransitionTask`): the API asks again. */
  retryWhile?: readonly string[];
  /** The /ui action for a model trigger this request drives, or undefined when it drives none. */
  action?(on: string, status: Status): ActionOffer | undefined;
}

/** A pin on a home's board (detector, door contact): its wiring, as the gateway reads it. */
export const pinSchema = z.union([
  z.number().int().min(2, 'pins 0 and 1 carry the serial link; use 2-19').max(19, 'an Uno has pins 2-19'),
  z.string().regex(/^A[0-5]$/, 'analog pins are A0-A5'),
]);
export const inputWiringSchema = z.strictObject({
  pin: pinSchema,
  /** The input must hold a new level this long before it counts (contact bounce, EMI spikes). */
  debounceMs: z.number().int().min(0).max(10_000).default(50),
  /** The device pulls the pin LOW when active (open-collector outputs, contacts to ground). */
  activeLow: z.boolean().default(false),
  /** Enable the board's internal pull-up: idle HIGH, the device pulls the pin LOW (implies activeLow). */
  pullUp: z.boolean().default(false),
});
export type InputWiring = z.output<typeof inputWiringSchema>;

/** An input edge becomes this event of a session. */
export interface InputEvent {
  event: string;
  body: (inputId: string) => unknown;
}

/**
 * Board inputs a kind claims in each home's configuration (`homes.<id>.<section>: { <inputId>: wiring }`):
 * the gateway turns their edges into the kind's events. The same as writing each one out under
 * `homes.<id>.inputs` with kind, key and events.
 */
export interface InputSection {
  section: string;
  summary: string;
  key: (homeId: string, inputId: string) => string;
  active: InputEvent;
  inactive?: InputEvent;
}

/** A kind whose sessions drive a home's sirens: the gateway learns the wanted state from its session. */
export interface SirenDriver<Status> {
  key(homeId: string): string;
  /**
   * Whether a running session in this state wants the sirens on. The gateway reads the state from
   * Temporal's record of the session (its SessionState search attribute), so it needs no worker to answer.
   */
  wanted(state: string): boolean;
  /** Whether the session already counted this input (an input still active after a gateway restart). */
  knows?(status: Status, inputId: string): boolean;
}

/** What a kind's opening events need to start its workflow: its settings and the home's config. */
export interface StartContext<Settings> {
  settings: Settings;
  /** The home the session belongs to (kinds with `homeOf`); undefined when it is not configured. */
  home: unknown;
  /** The task queue of the gateway that owns the home's board; undefined: the session's own worker. */
  hardwareTaskQueue: string | undefined;
}

/**
 * The event that opened a session, in its start input when it was started without a signal: an eager
 * start, where the server hands the first workflow task straight back to a worker in the starter's process
 * (`sendSessionEvent`). The kind's workflow handles it with `handleEvent`, exactly as if it was signalled.
 */
export interface OpeningEvent {
  signal: string;
  body: unknown;
}

/** The opening event a start input carries, if any. */
export function openingOf(input: unknown): OpeningEvent | undefined {
  const opening = (input as { opening?: OpeningEvent } | null | undefined)?.opening;
  return typeof opening?.signal === 'string' ? opening : undefined;
}

/**
 * The framework's patches (`patched()` ids in src/workflows) that every session started from now on takes.
 * Its start input says so (`withSettledPatches`), and its workflow then takes those branches without
 * `patched()`, which writes a marker and a TemporalChangeVersion upsert per patch in the first task
 * (src/workflows/settled-patches.ts). The list is closed: every worker that reads the count knows these
 * three, so it is safe whichever of API and workers deploys first. A later patch uses `patched()`: an
 * older worker would take its old branch for a session whose input counted it, and a newer one, replaying
 * that history, the new branch.
 */
export const frameworkPatches = [
  'kind-namespaced-activities',
  'opened-at-run-start',
  'board-commands-local-first',
] as const;
export type FrameworkPatch = (typeof frameworkPatches)[number];

/** The start input, saying that its session begins under every framework patch (inputs are objects). */
export function withSettledPatches(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  return { ...input, settledPatches: frameworkPatches.length };
}

/** How many of the framework patches the session began under, from its start input (0 for older ones). */
export function settledPatchesOf(input: unknown): number {
  const n = (input as { settledPatches?: unknown } | null | undefined)?.settledPatches;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * What a deploy does to a kind's running sessions when workers run with Worker Deployment Versioning
 * (`temporal.deployment`); docs/changing-a-session-kind.md says how to choose.
 * - `pinned`: a session finishes on the build that started it; the old build's workers stay until its
 *   sessions drain. For sessions with a bound on their length (an order lives an hour).
 * - `auto-upgrade`: a session moves to the new build at its next workflow task, so every change that alters
 *   its history is gated with `patched()`. For sessions with no bound (an alarm waits for its all-clear).
 * Without a deployment every kind behaves as `auto-upgrade`: `patched()` is never optional.
 */
export const versioningBehaviors = ['pinned', 'auto-upgrade'] as const;
export type SessionVersioning = (typeof versioningBehaviors)[number];

export interface SessionKindDecl<Status extends { state: string } = { state: string }, Settings = unknown> {
  /** Kebab-case; workflow ids are `<name>:<key>`, routes `/sessions/<name>/<key>`. */
  name: string;
  title: string;
  /** The exported workflow function's name. */
  workflowType: string;
  key: { name: string; schema: z.ZodType<string>; example: string };
  model: SessionModel<string>;
  /** How its running sessions meet a deploy (see {@link SessionVersioning}). */
  versioning: SessionVersioning;
  /** The status as the workflow keeps it and every read answers it; its type is inferred from this. */
  status: z.ZodType<Status>;
  statusQuery: QueryDefinition<Status>;
  events: Record<string, EventDecl>;
  requests: Record<string, RequestDecl<Status>>;
  /** Roles that may read a session (operators always may). */
  viewers: readonly Role[];
  /** The home a session belongs to, from its key: home roles act only on their own home's sessions. */
  homeOf?(key: string): string;
  /**
   * Input for opening events (an object: the opening event may travel in it, see {@link OpeningEvent}).
   * Kinds without opening events start elsewhere.
   */
  startInput?(key: string, ctx: StartContext<Settings>): unknown;
  /**
   * The kind's configuration section (`<section>` at the top level of the config); `env` maps environment
   * variables to its fields (numbers and true/false are read as such).
   */
  settings?: { section: string; schema: z.ZodType<Settings>; env?: Record<string, string> };
  /** Fields the kind adds to every home's configuration (e.g. an emergency contact). */
  home?: z.ZodObject;
  /** Named deadlines of a running session; they label the open timers on its /ui page. */
  deadlines?(status: Status): { label: string; at: string }[];
  /**
   * What the MQTT state topics (and Home Assistant) show beside the state: how the session ended
   * (`outcome`, null while it runs) and the next deadline it waits for. Default: the final state as the
   * outcome, and the earliest of `deadlines` while it runs.
   */
  summary?(status: Status): { outcome?: string | null; deadline?: string | null };
  /** The refusal a request to a closed session gets, from its final status. */
  closed?(status: Status): { code: string; message: string };
  inputs?: InputSection;
  sirens?: SirenDriver<Status>;
  /** Search attributes of the kind's own, besides the platform's (registered with the server). */
  searchAttributes?: readonly { name: string; type: SearchAttributeType }[];
}

/** Typed at the declaration, erased in the registry (every kind looks alike to the platform). */
export type AnySessionKind = SessionKindDecl<StatusCommon, unknown>;

export function defineSessionKind<Status extends { state: string }, Settings = undefined>(
  decl: SessionKindDecl<Status, Settings>,
): SessionKindDecl<Status, Settings> {
  return decl;
}

/** Declares one request with its body, argument and answer types tied together. */
export function defineRequest<Status, Body, Arg, Answer>(
  decl: RequestDecl<Status, Body, Arg, Answer>,
): RequestDecl<Status, Body, Arg, Answer> {
  return decl;
}

export function defineEvent<Body>(decl: EventDecl<Body>): EventDecl<Body> {
  return decl;
}

/** Workflow id = `<kind>:<business key>`: routes, Web UI, topics and logs speak the same key. */
export const sessionId = (kind: { name: string }, key: string) => `${kind.name}:${key}`;

/** What every status carries, whatever its kind: the platform reads only these. */
export interface StatusCommon {
  state: string;
  path?: TransitionTaken[];
}

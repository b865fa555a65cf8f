// A session kind declares its states and allowed transitions once; workflows move only through
// `SessionModel.move`, so the declared picture and the running code cannot drift apart.
import { z } from 'zod';

export interface TransitionDecl<S extends string> {
  from: S;
  to: S;
  /** What drives it: a signal/update name, `timer:<name>` or `activity:<name>`. */
  on: string;
}

export interface SessionModelDecl<S extends string> {
  kind: string;
  initial: S;
  states: readonly S[];
  final: readonly S[];
  transitions: readonly TransitionDecl<S>[];
}

export class UndeclaredTransitionError extends Error {
  constructor(kind: string, from: string, to: string, on: string) {
    super(`${kind}: transition ${from} -> ${to} on '${on}' is not declared in the session model`);
    this.name = 'UndeclaredTransitionError';
  }
}

export class SessionModel<S extends string> {
  constructor(readonly decl: SessionModelDecl<S>) {}

  can(from: S, to: S, on: string): boolean {
    return this.decl.transitions.some((t) => t.from === from && t.to === to && t.on === on);
  }

  /** Returns `to` when the transition is declared, throws otherwise. */
  move(from: S, to: S, on: string): S {
    if (!this.can(from, to, on)) throw new UndeclaredTransitionError(this.decl.kind, from, to, on);
    return to;
  }

  /** Any name may be asked (a state read back from a search attribute is a plain string). */
  isFinal(state: string): boolean {
    return (this.decl.final as readonly string[]).includes(state);
  }
}

// Shapes every session status shares; each kind's status schema is built from them.
export const isoTime = z.iso.datetime();

/** One side effect of a session as the status shows it. */
export const sessionStepSchema = z.strictObject({
  step: z.string(),
  /** `cancelled`: superseded by a newer command (e.g. siren-on when the owner cancels). */
  status: z.enum(['pending', 'done', 'failed', 'cancelled']),
  startedAt: isoTime,
  completedAt: isoTime.nullable(),
  error: z.string().nullable(),
});
export type SessionStep<S extends string = string> = Omit<z.infer<typeof sessionStepSchema>, 'step'> & {
  step: S;
};

/** A transition a session took, as its status shows it: the path drawn on its state diagram. */
export const transitionTakenSchema = z.strictObject({
  from: z.string(),
  to: z.string(),
  on: z.string(),
  at: isoTime,
});
export type TransitionTaken = z.infer<typeof transitionTakenSchema>;

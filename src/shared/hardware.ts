// What the platform's hardware activities take: a home board's sirens, switched by whichever gateway
// owns the board. Sandbox-safe: session workflows import these types.

export interface SetSirenInput {
  homeId: string;
  on: boolean;
  /**
   * Workflow time of the command: a gateway ignores a command older than the one it already holds, so a
   * late retry of a superseded "on" can never undo a newer "off".
   */
  issuedAt?: number;
  /**
   * false: fail at once (BoardUnavailable) when the board is away instead of waiting for it. The session's
   * fast path runs the command this way in its own workflow task and leaves waiting to the durable command.
   */
  waitForBoard?: boolean;
}

/** Activities every gateway runs on its task queue (not namespaced: they belong to the platform). */
export interface HardwareActivities {
  setSiren: (input: SetSirenInput) => Promise<void>;
}

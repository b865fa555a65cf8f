// A durable record of the notifications this machine has sent, shared by every worker process on it.
// It is what keeps a retried activity from sending again after the worker that sent it died before
// Temporal heard of the completion (the in-process set dies with the process).
//
// SQLite (better-sqlite3) rather than a hand-rolled append-only file: `BEGIN IMMEDIATE` gives an
// atomic check-and-claim across processes, WAL with synchronous=FULL makes every commit durable
// (fsync) before we go on, and old rows are pruned with one DELETE. Local file systems only: SQLite's
// locks are not safe on NFS.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';

/** Who is sending: enough to tell, from another process on this machine, whether it is still alive. */
interface Owner {
  host: string;
  pid: number;
  /** Random per process: a restarted container's worker often gets the same pid (1) again. */
  instance: string;
}

export type Claim =
  /** Go ahead and send; `ambiguous` when a process died mid-send: the provider may have it already. */
  | { kind: 'claimed'; ambiguous: boolean }
  /** Sent before (by this or another process): do not send again. */
  | { kind: 'sent'; providerId: string | null }
  /** Another live process is sending it right now: try again later. */
  | { kind: 'busy'; owner: string };

export interface SentLogTotals {
  /** Keys whose message the provider accepted. */
  sent: number;
  /** Sends started (first attempts, retries after a definite failure, takeovers). */
  attempts: number;
  /** Attempts answered from the record instead of sending again (the crash case this exists for). */
  suppressed: number;
  /** Sends taken over from a process that died between "about to send" and "sent" (may duplicate). */
  ambiguous: number;
}

interface Row {
  state: 'sending' | 'sent' | 'failed';
  owner: string | null;
  lease_until: number | null;
  provider_id: string | null;
}

const RETAIN_MS = 7 * 24 * 3600 * 1000;

export class SentLog {
  private readonly db: Database.Database;
  private readonly me: Owner = { host: hostname(), pid: process.pid, instance: randomUUID() };
  /** Keys this process is sending now: tells our own live claim from one left by a dead incarnation. */
  private readonly inFlight = new Set<string>();

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: each commit is fsynced before it returns, so "sent" survives a SIGKILL or a power cut.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS sends (
      key TEXT PRIMARY KEY,
      channel TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
      owner TEXT,
      lease_until INTEGER,
      provider_id TEXT,
      attempts INTEGER NOT NULL DEFAULT 0,
      suppressed INTEGER NOT NULL DEFAULT 0,
      ambiguous INTEGER NOT NULL DEFAULT 0,
      updated_at INTEGER NOT NULL
    )`);
    // Sessions retry a message for an hour at most (refund notices a day): a week is plenty.
    this.db
      .prepare(`DELETE FROM sends WHERE updated_at < ? AND state <> 'sending'`)
      .run(Date.now() - RETAIN_MS);
  }

  /**
   * Records "about to send" for `key` unless it was sent already or a live process is sending it.
   * `leaseMs` bounds how long a claim whose owner cannot be checked (another host on a shared disk, a
   * reused pid) blocks others: the activity's start-to-close timeout, after which Temporal retries anyway.
   */
  claim(key: string, channel: string, leaseMs: number): Claim {
    const now = Date.now();
    const owner = JSON.stringify(this.me);
    return this.db
      .transaction((): Claim => {
        const row = this.db
          .prepare('SELECT state, owner, lease_until, provider_id FROM sends WHERE key = ?')
          .get(key) as Row | undefined;
        if (row?.state === 'sent') {
          this.db
            .prepare('UPDATE sends SET suppressed = suppressed + 1, updated_at = ? WHERE key = ?')
            .run(now, key);
          return { kind: 'sent', providerId: row.provider_id };
        }
        if (row?.state === 'sending' && this.alive(key, row, now))
          return { kind: 'busy', owner: row.owner ?? '?' };
        const ambiguous = row?.state === 'sending';
        this.db
          .prepare(
            `INSERT INTO sends (key, channel, state, owner, lease_until, attempts, ambiguous, updated_at)
             VALUES (@key, @channel, 'sending', @owner, @lease, 1, @amb, @now)
             ON CONFLICT (key) DO UPDATE SET state = 'sending', channel = @channel, owner = @owner,
               lease_until = @lease, attempts = attempts + 1, ambiguous = ambiguous + @amb, updated_at = @now`,
          )
          .run({ key, channel, owner, lease: now + leaseMs, amb: ambiguous ? 1 : 0, now });
        this.inFlight.add(key);
        return { kind: 'claimed', ambiguous };
      })
      .immediate();
  }

  /** The provider accepted it: from now on no process sends it again. */
  sent(key: string, providerId: string | undefined): void {
    this.inFlight.delete(key);
    this.db
      .prepare(
        `UPDATE sends SET state = 'sent', provider_id = ?, owner = NULL, lease_until = NULL, updated_at = ?
         WHERE key = ?`,
      )
      .run(providerId ?? null, Date.now(), key);
  }

  /** The send failed: the next attempt may send (see DurableNotifier for which failures are definite). */
  failed(key: string): void {
    this.inFlight.delete(key);
    this.db
      .prepare(
        `UPDATE sends SET state = 'failed', owner = NULL, lease_until = NULL, updated_at = ?
         WHERE key = ? AND state = 'sending' AND owner = ?`,
      )
      .run(Date.now(), key, JSON.stringify(this.me));
  }

  totals(): SentLogTotals {
    return this.db
      .prepare(
        `SELECT COUNT(*) FILTER (WHERE state = 'sent') AS sent, COALESCE(SUM(attempts), 0) AS attempts,
                COALESCE(SUM(suppressed), 0) AS suppressed, COALESCE(SUM(ambiguous), 0) AS ambiguous
         FROM sends`,
      )
      .get() as SentLogTotals;
  }

  /** The record of one key, for tests and diagnosis. */
  state(key: string): Row['state'] | undefined {
    return (this.db.prepare('SELECT state FROM sends WHERE key = ?').get(key) as Row | undefined)?.state;
  }

  close(): void {
    this.db.close();
  }

  /** Whether the process that claimed `key` may still be sending it. */
  private alive(key: string, row: Row, now: number): boolean {
    let owner: Owner;
    try {
      owner = JSON.parse(row.owner ?? '') as Owner;
    } catch {
      return false;
    }
    if (owner.instance === this.me.instance) return this.inFlight.has(key);
    const withinLease = now < (row.lease_until ?? 0);
    if (owner.host !== this.me.host) return withinLease;
    // Same machine: a pid that is gone means the sender died (SIGKILL, OOM) mid-send.
    if (owner.pid === this.me.pid) return false; // an earlier incarnation of this process
    try {
      process.kill(owner.pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    }
    // The pid exists: the sender, or an unrelated process that reused its pid; the lease decides.
    return withinLease;
  }
}

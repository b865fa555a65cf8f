// The read model's store: the newest published state of every session, and the log of changes the
// change feed streams. Workers write it (a local activity per status change); APIs read it. Status
// reads are one primary-key lookup in SQLite's page cache instead of a Temporal query that wakes a
// worker, and a restarted API answers at once from the file.
//
// SQLite (better-sqlite3) because every process of a deployment on one host can share the file (WAL:
// readers never wait for the writer) and it needs no server. synchronous=NORMAL: a power cut may lose
// the last commits, which the sync (rebuild.ts) restores from Temporal, the source of truth.
import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SessionChange, SessionPublication } from '../shared/session-change';

/** One session as the read model holds it: its newest publication, and where it is in the change log. */
export interface StoredSession {
  publication: SessionPublication;
  seq: number;
}

interface SessionRow {
  body: string;
  seq: number;
}

/** How much of the change log a resuming stream can still read: the newest rows, up to a day. */
const KEEP_CHANGES = 100_000;
const KEEP_CHANGES_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_WRITES = 1000;

export class ReadModelStore {
  private readonly db: Database.Database;
  /** Emits `written` after this connection's own commits (other processes' show in dataVersion). */
  readonly events = new EventEmitter();
  private writes = 0;
  private readonly stmt;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Writes are synchronous on the worker's thread: wait little for a lock, rather lose the write (the
    // sync repairs it) than stall every session the worker runs.
    this.db.pragma('busy_timeout = 250');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS sessions (
        workflow_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        workflow_id TEXT NOT NULL,
        written_at INTEGER NOT NULL,
        body TEXT NOT NULL
      );`);
    this.events.setMaxListeners(0);
    this.stmt = {
      version: this.db.prepare<[string], { version: number }>(
        'SELECT version FROM sessions WHERE workflow_id = ?',
      ),
      get: this.db.prepare<[string], SessionRow>('SELECT body, seq FROM sessions WHERE workflow_id = ?'),
      change: this.db.prepare<[string, number, string]>(
        'INSERT INTO changes (workflow_id, written_at, body) VALUES (?, ?, ?)',
      ),
      upsert: this.db.prepare<[string, number, number, string, string]>(
        `INSERT INTO sessions (workflow_id, version, seq, state, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (workflow_id) DO UPDATE SET version = excluded.version, seq = excluded.seq,
           state = excluded.state, body = excluded.body`,
      ),
      after: this.db.prepare<[number, number], { seq: number; body: string }>(
        'SELECT seq, body FROM changes WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      // Two subqueries: SQLite reads a lone MIN or MAX off the key's b-tree, but scans the whole log
      // (up to KEEP_CHANGES rows) for both in one aggregate, and the API asks on every feed subscription.
      bounds: this.db.prepare<[], { oldest: number | null; newest: number | null }>(
        'SELECT (SELECT MIN(seq) FROM changes) AS oldest, (SELECT MAX(seq) FROM changes) AS newest',
      ),
      states: this.db.prepare<[], { workflow_id: string; state: string; version: number }>(
        'SELECT workflow_id, state, version FROM sessions',
      ),
    };
  }

  /**
   * Keeps the newest publication of a session: one older than (or as old as) the stored one is a
   * redelivery or arrived late, and changes nothing. Returns the change as logged, when it was newer.
   */
  write(p: SessionPublication): SessionChange | undefined {
    return this.put(p, (known) => known === undefined || known < p.version);
  }

  /**
   * Puts Temporal's answer in place of a publication it never committed (a worker that published, then
   * died before Temporal accepted the task), though that one's version is higher; only while the stored
   * version is still `uncommitted` (a newer publication since then wins as always).
   */
  replace(p: SessionPublication, uncommitted: number): SessionChange | undefined {
    return this.put(p, (known) => known === uncommitted || known === undefined || known < p.version);
  }

  private put(p: SessionPublication, accept: (known: number | undefined) => boolean) {
    const change = this.db
      .transaction((): SessionChange | undefined => {
        if (!accept(this.stmt.version.get(p.workflowId)?.version)) return undefined;
        const body = JSON.stringify(p);
        const seq = Number(this.stmt.change.run(p.workflowId, Date.now(), body).lastInsertRowid);
        this.stmt.upsert.run(p.workflowId, p.version, seq, p.state, body);
        return { ...p, seq };
      })
      .immediate();
    if (change) {
      if (++this.writes % PRUNE_EVERY_WRITES === 0) this.prune();
      this.events.emit('written', change);
    }
    return change;
  }

  get(workflowId: string): StoredSession | undefined {
    const row = this.stmt.get.get(workflowId);
    return row && { publication: JSON.parse(row.body) as SessionPublication, seq: row.seq };
  }

  /** Drops a session whose status no read may answer from here (it ended without a result). */
  forget(workflowId: string): void {
    this.db.prepare('DELETE FROM sessions WHERE workflow_id = ?').run(workflowId);
  }

  /** Every session's state and version, for the sync's comparison with Temporal visibility. */
  states(): Map<string, { state: string; version: number }> {
    return new Map(this.stmt.states.all().map((r) => [r.workflow_id, r]));
  }

  /** Changes after `seq`, oldest first. */
  changesAfter(seq: number, limit = 1000): SessionChange[] {
    return this.stmt.after
      .all(seq, limit)
      .map((r) => ({ ...(JSON.parse(r.body) as SessionPublication), seq: r.seq }));
  }

  /** The oldest and newest change still logged (0 when none). */
  bounds(): { oldest: number; newest: number } {
    const b = this.stmt.bounds.get()!;
    return { oldest: b.oldest ?? 0, newest: b.newest ?? 0 };
  }

  /** Changes whenever another connection (another process) commits: a cheap "anything new?". */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /**
   * Binds the store to one Temporal namespace (its id is unique per namespace creation): a store left
   * from another server or a wiped dev server would answer for sessions that no longer exist, so it is
   * emptied, and the sync rebuilds it.
   */
  bindNamespace(namespaceId: string): boolean {
    return this.db
      .transaction(() => {
        const row = this.db.prepare("SELECT value FROM meta WHERE name = 'namespace'").get() as
          { value: string } | undefined;
        if (row?.value === namespaceId) return false;
        this.db.exec('DELETE FROM sessions; DELETE FROM changes;');
        this.db.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES ('namespace', ?)").run(namespaceId);
        return row !== undefined;
      })
      .immediate();
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    this.db.close();
  }

  private prune(): void {
    const { newest } = this.bounds();
    this.db
      .prepare('DELETE FROM changes WHERE seq <= ? OR written_at < ?')
      .run(newest - KEEP_CHANGES, Date.now() - KEEP_CHANGES_MS);
  }
}

/** One store (one connection) per file and process: a process's worker and API share it. */
const stores = new Map<string, ReadModelStore>();
export function readModelAt(path: string): ReadModelStore {
  const full = path === ':memory:' ? path : resolve(path);
  let found = stores.get(full);
  if (!found?.open) stores.set(full, (found = new ReadModelStore(full)));
  return found;
}

// Messages the ingress accepted lately, durably, so one the broker delivers again is acknowledged without
// being sent again. A QoS 1 redelivery is the same message under the same packet id in the same broker
// session: the broker resends what it has not seen acknowledged (the ingress died, or the line dropped,
// between Temporal's acceptance and our PUBACK). Mosquitto marks it DUP, aedes does not, so we key on
// packet id + topic + payload rather than on the flag. A broker reuses a packet id only after its message
// was acknowledged, so a different message under a recorded id replaces the record; a lost session
// (CONNACK without sessionPresent) can redeliver nothing, and its records are dropped, since its packet
// ids start over.
//
// The one gap: the ingress dies after Temporal accepted the event and before this record is written
// (a few milliseconds); that message is sent again when redelivered.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** What identifies a message's content: its topic and payload. */
export const fingerprint = (topic: string, payload: Buffer) =>
  createHash('sha256').update(topic).update('\0').update(payload).digest('hex');

export class DeliveryLog {
  private readonly db: Database.Database;
  private readonly find: Database.Statement<[string, number, number], { hash: string }>;
  private readonly put: Database.Statement<[string, number, string, number]>;

  constructor(
    readonly path: string,
    /** The MQTT client id: packet ids are per broker session. */
    private readonly clientId: string,
    private readonly windowMs: number,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: the record is on disk before the PUBACK leaves, so a power cut cannot lose it.
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS accepted (
      client TEXT NOT NULL,
      packet_id INTEGER NOT NULL,
      hash TEXT NOT NULL,
      at INTEGER NOT NULL,
      PRIMARY KEY (client, packet_id)
    )`);
    this.find = this.db.prepare('SELECT hash FROM accepted WHERE client = ? AND packet_id = ? AND at >= ?');
    this.put = this.db.prepare(
      `INSERT INTO accepted (client, packet_id, hash, at) VALUES (?, ?, ?, ?)
       ON CONFLICT (client, packet_id) DO UPDATE SET hash = excluded.hash, at = excluded.at`,
    );
    this.prune();
  }

  /** Whether this message was accepted before (and is being delivered again). */
  accepted(packetId: number, hash: string): boolean {
    return this.find.get(this.clientId, packetId, Date.now() - this.windowMs)?.hash === hash;
  }

  record(packetId: number, hash: string): void {
    this.put.run(this.clientId, packetId, hash, Date.now());
  }

  /** The broker kept no session for us: nothing it sends now is a redelivery. */
  sessionLost(): void {
    this.db.prepare('DELETE FROM accepted WHERE client = ?').run(this.clientId);
  }

  prune(): void {
    this.db.prepare('DELETE FROM accepted WHERE at < ?').run(Date.now() - this.windowMs);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

import Database from 'better-sqlite3';
import { LEASES, REPLICAS, type Lease, type LeaseStore } from './lease-store.port';

interface Row {
  name: string;
  holder: string;
  token: number;
  expires_at: number;
}

const toLease = (r: Row): Lease => ({ name: r.name, holder: r.holder, token: r.token, expiresAt: r.expires_at });

/**
 * Leases in a SQLite file (the read models' file): for tests of several replicas in one process or on one host. The
 * embedded mode (`npm start`) does not lease at all (docs/decisions.md).
 */
export class SqliteLeaseStore implements LeaseStore {
  private readonly db: Database.Database;

  constructor(filename: string) {
    this.db = new Database(filename);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${LEASES} (
      name TEXT PRIMARY KEY, holder TEXT NOT NULL, token INTEGER NOT NULL, expires_at INTEGER NOT NULL)`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${REPLICAS} (replica TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)`);
  }

  async acquire(name: string, holder: string, now: number, ttlMs: number): Promise<Lease | null> {
    // One statement: insert, or take over an expired lease (token + 1), or extend one's own (same token).
    const row = this.db.prepare(
      `INSERT INTO ${LEASES} (name, holder, token, expires_at) VALUES (@name, @holder, 1, @expires)
       ON CONFLICT (name) DO UPDATE SET
         token = CASE WHEN holder = excluded.holder AND expires_at > @now THEN token ELSE token + 1 END,
         holder = excluded.holder, expires_at = excluded.expires_at
       WHERE expires_at <= @now OR holder = excluded.holder
       RETURNING name, holder, token, expires_at`,
    ).get({ name, holder, now, expires: now + ttlMs }) as Row | undefined;
    return row ? toLease(row) : null;
  }

  async renew(lease: Lease, now: number, ttlMs: number): Promise<Lease | null> {
    const row = this.db.prepare(
      `UPDATE ${LEASES} SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?
       RETURNING name, holder, token, expires_at`,
    ).get(now + ttlMs, lease.name, lease.holder, lease.token, now) as Row | undefined;
    return row ? toLease(row) : null;
  }

  async release(lease: Lease): Promise<void> {
    this.db.prepare(`UPDATE ${LEASES} SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ?`).run(lease.name, lease.holder, lease.token);
  }

  async list(): Promise<Lease[]> {
    return (this.db.prepare(`SELECT name, holder, token, expires_at FROM ${LEASES} ORDER BY name`).all() as Row[]).map(toLease);
  }

  async heartbeat(replica: string, now: number, ttlMs: number): Promise<void> {
    this.db.prepare(`INSERT INTO ${REPLICAS} (replica, expires_at) VALUES (?, ?) ON CONFLICT (replica) DO UPDATE SET expires_at = excluded.expires_at`)
      .run(replica, now + ttlMs);
  }

  async liveReplicas(now: number): Promise<string[]> {
    return this.db.prepare(`SELECT replica FROM ${REPLICAS} WHERE expires_at > ? ORDER BY replica`).pluck().all(now) as string[];
  }

  async leave(replica: string): Promise<void> {
    this.db.prepare(`DELETE FROM ${REPLICAS} WHERE replica = ?`).run(replica);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

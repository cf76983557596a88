import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import { BUSY_TIMEOUT_MS } from '@crm/event-store';

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type Reservation =
  /**
   * The request may run. `requestId` is the id minted when the key was first reserved (the request's own on a first
   * attempt); `recovered` says an earlier attempt ended without recording its outcome, so it may have appended.
   */
  | { kind: 'reserved'; requestId: string; recovered: boolean }
  | { kind: 'in-progress' }
  /** An earlier attempt with another request (method, path or body) holds the key and its outcome is unknown. */
  | { kind: 'reused' }
  | { kind: 'completed'; requestHash: string; response: StoredResponse };

/**
 * Remembers the outcome of each (principal, Idempotency-Key). A key is first reserved, so two concurrent requests
 * with the same key cannot both run. A reservation whose request ended without recording an outcome (the process
 * died, the request failed with 5xx, recording failed) is recoverable: the next attempt runs with the same request id
 * and is told to look for what the earlier one appended. A store with a retention forgets a record that long after it
 * was last written (reserved, taken over or completed): its key is new again.
 */
export interface IdempotencyStore {
  /** `requestId`: the id to remember if the key is new. */
  reserve(scope: string, requestHash: string, nowMs: number, requestId: string): Promise<Reservation>;
  /**
   * A response that cannot be recorded leaves the reservation recoverable, as a release would. If the store itself
   * fails, the caller releases (the guard does).
   */
  complete(scope: string, requestHash: string, response: StoredResponse, nowMs: number): Promise<void>;
  /** The request ended without an outcome to remember: its reservation stays, recoverable at once. */
  release(scope: string): Promise<void>;
  close(): Promise<void>;
}

export const IDEMPOTENCY_STORE = Symbol('IdempotencyStore');

/**
 * How long the shared (MongoDB) store remembers a key: 24 h, as Stripe does. A client retries within minutes; a day
 * also covers a batch re-run the next morning. SQLite keeps its records (one process's file, as before).
 */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * The (principal, key) scope as stored beside events (`metadata.idempotencyKey`) and as the MongoDB record's `_id`:
 * the first 128 bits of its SHA-256 in hex, never the raw key (a client may put anything in it).
 */
export function idempotencyScopeHash(scope: string): string {
  return createHash('sha256').update(scope).digest('hex').slice(0, 32);
}

interface Row {
  request_hash: string;
  state: 'pending' | 'done';
  response: string | null;
  request_id: string | null;
  boot_id: string | null;
  updated_ms: number;
}

/**
 * SQLite, in DATA_DIR. One API process owns DATA_DIR (the embedded event log is a file of that process), so which
 * reservations are running is known in memory: a pending row is "in progress" only while this process runs its
 * request; a pending row of an earlier boot is recoverable at once. `staleAfterMs` is a backstop for a request of this
 * process that never ends. Synchronous inside: the port's promises only wrap it. Rows are kept unless a retention is
 * given (the contract suite's); expired rows are then overwritten when their key comes again, not purged.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly db: Database.Database;
  private readonly reserveTx: Database.Transaction<(scope: string, hash: string, nowMs: number, requestId: string) => Reservation>;
  private readonly completeStmt: Database.Statement<[string, string, number, string]>;
  /** Reservations whose requests are running in this process, with when they were reserved. */
  private readonly running = new Map<string, number>();
  readonly bootId = randomUUID();

  private readonly staleAfterMs: number;
  private readonly retentionMs: number;

  constructor(filename: string, options: { staleAfterMs?: number; retentionMs?: number } = {}) {
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
    this.retentionMs = options.retentionMs ?? Number.POSITIVE_INFINITY;
    this.db = new Database(filename);
    // As every SQLite store of DATA_DIR: wait for another connection's write lock instead of failing at once.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS idempotency (
      scope TEXT PRIMARY KEY, request_hash TEXT NOT NULL, state TEXT NOT NULL, response TEXT, updated_ms INTEGER NOT NULL)`);
    // Files written before keys were recoverable lack these columns; their pending rows recover with a new request id.
    const columns = new Set(this.db.prepare<[], { name: string }>('PRAGMA table_info(idempotency)').all().map((c) => c.name));
    if (!columns.has('request_id')) this.db.exec('ALTER TABLE idempotency ADD COLUMN request_id TEXT');
    if (!columns.has('boot_id')) this.db.exec('ALTER TABLE idempotency ADD COLUMN boot_id TEXT');
    const select = this.db.prepare<[string], Row>('SELECT request_hash, state, response, request_id, boot_id, updated_ms FROM idempotency WHERE scope = ?');
    const insert = this.db.prepare<[string, string, number, string, string]>(
      `INSERT INTO idempotency (scope, request_hash, state, response, updated_ms, request_id, boot_id) VALUES (?, ?, 'pending', NULL, ?, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET request_hash = excluded.request_hash, state = 'pending', response = NULL,
         updated_ms = excluded.updated_ms, request_id = excluded.request_id, boot_id = excluded.boot_id`,
    );
    this.completeStmt = this.db.prepare(`UPDATE idempotency SET state = 'done', request_hash = ?, response = ?, updated_ms = ? WHERE scope = ?`);
    this.reserveTx = this.db.transaction((scope: string, hash: string, nowMs: number, requestId: string): Reservation => {
      const stored = select.get(scope);
      const row = stored !== undefined && nowMs - stored.updated_ms < this.retentionMs ? stored : undefined;
      if (row?.state === 'done' && row.response !== null) {
        return { kind: 'completed', requestHash: row.request_hash, response: JSON.parse(row.response) as StoredResponse };
      }
      if (row?.state === 'pending') {
        const started = row.boot_id === this.bootId ? this.running.get(scope) : undefined;
        if (started !== undefined && nowMs - started < this.staleAfterMs) return { kind: 'in-progress' };
        // What the earlier attempt did is unknown, so the key stays bound to its request.
        if (row.request_hash !== hash) return { kind: 'reused' };
        const recoveredId = row.request_id ?? requestId;
        insert.run(scope, hash, nowMs, recoveredId, this.bootId);
        this.running.set(scope, nowMs);
        return { kind: 'reserved', requestId: recoveredId, recovered: true };
      }
      insert.run(scope, hash, nowMs, requestId, this.bootId);
      this.running.set(scope, nowMs);
      return { kind: 'reserved', requestId, recovered: false };
    });
  }

  async reserve(scope: string, requestHash: string, nowMs: number, requestId: string): Promise<Reservation> {
    // IMMEDIATE: the write lock is taken before the SELECT, so the read-then-upsert cannot act on a stale read.
    return this.reserveTx.immediate(scope, requestHash, nowMs, requestId);
  }

  async complete(scope: string, requestHash: string, response: StoredResponse, nowMs: number): Promise<void> {
    try {
      this.completeStmt.run(requestHash, JSON.stringify(response), nowMs, scope);
    } finally {
      // Recorded or not, the request has ended: if recording failed the row stays pending and the next attempt recovers.
      this.running.delete(scope);
    }
  }

  /**
   * The row stays pending, no longer running: the next attempt recovers it (reads the stream) rather than starting
   * afresh, because a request that failed with 5xx may still have appended (a timeout after the store committed).
   */
  async release(scope: string): Promise<void> {
    this.running.delete(scope);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

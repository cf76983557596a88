import Database from 'better-sqlite3';

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type Reservation =
  | { kind: 'reserved' }
  | { kind: 'in-progress' }
  | { kind: 'completed'; requestHash: string; response: StoredResponse };

/**
 * Remembers the outcome of each (principal, Idempotency-Key). A key is first reserved, so two concurrent requests
 * with the same key cannot both run; a reservation older than `staleAfterMs` (a crash between reserve and
 * complete) may be taken over.
 */
export interface IdempotencyStore {
  reserve(scope: string, requestHash: string, nowMs: number): Reservation;
  complete(scope: string, requestHash: string, response: StoredResponse, nowMs: number): void;
  release(scope: string): void;
  close(): void;
}

export const IDEMPOTENCY_STORE = Symbol('IdempotencyStore');

interface Row {
  request_hash: string;
  state: 'pending' | 'done';
  response: string | null;
  updated_ms: number;
}

export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly db: Database.Database;
  private readonly reserveTx: (scope: string, hash: string, nowMs: number) => Reservation;

  constructor(filename: string, private readonly staleAfterMs = 60_000) {
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS idempotency (
      scope TEXT PRIMARY KEY, request_hash TEXT NOT NULL, state TEXT NOT NULL, response TEXT, updated_ms INTEGER NOT NULL)`);
    const select = this.db.prepare<[string], Row>('SELECT request_hash, state, response, updated_ms FROM idempotency WHERE scope = ?');
    const upsert = this.db.prepare(
      `INSERT INTO idempotency (scope, request_hash, state, response, updated_ms) VALUES (?, ?, 'pending', NULL, ?)
       ON CONFLICT (scope) DO UPDATE SET request_hash = excluded.request_hash, state = 'pending', response = NULL, updated_ms = excluded.updated_ms`,
    );
    this.reserveTx = this.db.transaction((scope: string, hash: string, nowMs: number): Reservation => {
      const row = select.get(scope);
      if (row?.state === 'done' && row.response !== null) {
        return { kind: 'completed', requestHash: row.request_hash, response: JSON.parse(row.response) as StoredResponse };
      }
      if (row?.state === 'pending' && nowMs - row.updated_ms < this.staleAfterMs) return { kind: 'in-progress' };
      upsert.run(scope, hash, nowMs);
      return { kind: 'reserved' };
    });
  }

  reserve(scope: string, requestHash: string, nowMs: number): Reservation {
    return this.reserveTx(scope, requestHash, nowMs);
  }

  complete(scope: string, requestHash: string, response: StoredResponse, nowMs: number): void {
    this.db
      .prepare(`UPDATE idempotency SET state = 'done', request_hash = ?, response = ?, updated_ms = ? WHERE scope = ?`)
      .run(requestHash, JSON.stringify(response), nowMs, scope);
  }

  release(scope: string): void {
    this.db.prepare(`DELETE FROM idempotency WHERE scope = ? AND state = 'pending'`).run(scope);
  }

  close(): void {
    this.db.close();
  }
}

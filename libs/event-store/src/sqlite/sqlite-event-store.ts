import Database from 'better-sqlite3';
import { closeSync, fdatasync, openSync } from 'node:fs';
import { AppendNotifier, catchUpSubscription } from '../catch-up-subscription';
import { WalCheckpointer } from './wal-checkpointer';
import { checkExpectedRevision, DuplicateEventId, StoreUnavailable, StreamVersionConflict } from '../errors';
import { describeStorageFault, storageFaultOf } from '../storage-faults';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store.port';

export interface SqliteEventStoreOptions {
  /** File path, or ':memory:'. */
  readonly filename: string;
  /**
   * FULL: an append is acknowledged only once it is on disk. NORMAL (WAL) may lose the last commits on power loss,
   * never corrupts. Group commit makes FULL affordable: appends that arrive in the same tick share one transaction,
   * and the fsync of the write-ahead log runs on libuv's thread pool, not on the event loop (see `durable`).
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  readonly now?: () => Date;
  /** How often subscribers look for appends made by other processes. */
  readonly pollMs?: number;
  /** Syncs a file's data to disk off the event loop (default fs.fdatasync; tests hold or fail it). */
  readonly syncFile?: (fd: number, callback: (error: Error | null) => void) => void;
  /** WAL checkpoints from a worker thread instead of inside commits on the event loop (default true for a file). */
  readonly backgroundCheckpoints?: boolean;
  /** Called once per commit that appended something, after its appends were acknowledged. */
  readonly onCommitted?: () => void;
  /**
   * Registers a listener for appends another connection announces (a thread of this process that writes the same
   * file): subscribers read at once instead of at their next poll.
   */
  readonly appendsElsewhere?: (listener: () => void) => void;
}

/**
 * A row as better-sqlite3's raw mode returns it, in `EVENT_COLUMNS`' order: an array per row instead of an object
 * with named properties was ~1 µs less per event read (of ~5 µs with the parses), on every read of the log.
 */
type Row = [position: number, eventId: string, streamId: string, revision: number, type: string, data: string, metadata: string, recordedAt: string];
const EVENT_COLUMNS = 'position, event_id, stream_id, revision, type, data, metadata, recorded_at';

interface PendingAppend {
  streamId: string;
  events: readonly EventToAppend[];
  expected: ExpectedRevision;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/**
 * How long a write waits for another connection's write lock (another process on the same DATA_DIR: an import while
 * the server runs). The wait blocks the thread (SQLite sleeps in the call), as long as the other's commit takes.
 */
export const BUSY_TIMEOUT_MS = 5000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY,
  event_id    TEXT    NOT NULL UNIQUE,
  stream_id   TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  recorded_at TEXT    NOT NULL,
  UNIQUE (stream_id, revision)
);
CREATE INDEX IF NOT EXISTS events_type_position ON events (type, position);
`;

function toRecorded(row: Row): RecordedEvent {
  return {
    eventId: row[1],
    type: row[4],
    data: JSON.parse(row[5]) as unknown,
    metadata: JSON.parse(row[6]) as Record<string, unknown>,
    streamId: row[2],
    revision: row[3],
    position: row[0],
    recordedAt: row[7],
  };
}

/** The row's data text goes along: the parse above allocated a copy, this is the string the driver already made. */
function toRecordedWithJson(row: Row): RecordedEvent {
  return {
    eventId: row[1],
    type: row[4],
    data: JSON.parse(row[5]) as unknown,
    metadata: JSON.parse(row[6]) as Record<string, unknown>,
    streamId: row[2],
    revision: row[3],
    position: row[0],
    recordedAt: row[7],
    dataJson: row[5],
  };
}

/** The embedded default: the whole log in one SQLite file (WAL), one transaction per group of appends. */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly notifier = new AppendNotifier();
  private readonly pollMs: number;
  private readonly onCommitted: (() => void) | undefined;
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  /** FULL on a file: the WAL's descriptor, fsynced off the event loop before appends are acknowledged. */
  private walFd: number | undefined;
  private syncing: Promise<void> | undefined;
  private syncWaiters: Array<(error: Error | null) => void> = [];
  private readonly syncFile: NonNullable<SqliteEventStoreOptions['syncFile']>;
  private checkpointer: WalCheckpointer | undefined;
  private readonly backgroundCheckpoints: boolean;

  private readonly stmt: {
    streamRevision: Database.Statement<[string], { revision: number | null }>;
    insert: Database.Statement<[string, string, number, string, string, string, string]>;
    head: Database.Statement<[], { position: number | null }>;
  };
  private readonly commitBatch: Database.Transaction<(batch: PendingAppend[]) => Array<AppendResult | { error: unknown }>>;

  constructor(options: SqliteEventStoreOptions) {
    this.now = options.now ?? (() => new Date());
    this.pollMs = options.pollMs ?? 20;
    this.syncFile = options.syncFile ?? fdatasync;
    this.onCommitted = options.onCommitted;
    options.appendsElsewhere?.(() => this.notifier.notify());
    try {
      this.db = new Database(options.filename);
    } catch (cause) {
      throw new StoreUnavailable(`cannot open event store ${options.filename}`, { cause });
    }
    // First: switching the journal mode and creating the schema take locks too, which another process may hold.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const wal = this.db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    this.db.exec(SCHEMA);
    // FULL durability without blocking the event loop on fsync: SQLite commits at NORMAL (no sync), then the WAL
    // file, which holds every committed frame, is fdatasync'ed on the thread pool and only then are the appends
    // acknowledged. That is what synchronous=FULL guarantees in WAL mode (the log is synced at each commit;
    // checkpoints sync the database file at NORMAL too). Readers may see a commit up to one fsync before it is
    // durable, as they could at NORMAL.
    const synchronous = options.synchronous ?? 'FULL';
    if (synchronous === 'FULL' && wal) {
      this.db.pragma('synchronous = NORMAL');
      try {
        this.walFd = openSync(`${this.db.name}-wal`, 'r+');
      } catch {
        this.db.pragma('synchronous = FULL'); // no WAL file to hold on to: let SQLite sync each commit itself
      }
    } else {
      this.db.pragma(`synchronous = ${synchronous}`);
    }
    this.backgroundCheckpoints = wal && !this.db.memory && options.backgroundCheckpoints !== false;
    this.stmt = {
      streamRevision: this.db.prepare('SELECT max(revision) AS revision FROM events WHERE stream_id = ?'),
      insert: this.db.prepare(
        'INSERT INTO events (event_id, stream_id, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      head: this.db.prepare('SELECT max(position) AS position FROM events'),
    };
    const appendOne = this.db.transaction((p: PendingAppend, recordedAt: string): AppendResult => {
      const current = this.stmt.streamRevision.get(p.streamId)?.revision ?? -1;
      checkExpectedRevision(p.streamId, p.expected, current);
      let revision = current;
      let position = 0;
      for (const e of p.events) {
        revision += 1;
        try {
          const info = this.stmt.insert.run(
            e.eventId, p.streamId, revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), recordedAt,
          );
          position = Number(info.lastInsertRowid);
        } catch (error) {
          throw this.mapInsertError(error, p.streamId, p.expected, e.eventId);
        }
      }
      if (p.events.length === 0) position = this.stmt.head.get()?.position ?? 0;
      return { nextExpectedRevision: revision, position };
    });
    // Each append runs in its own savepoint (a nested better-sqlite3 transaction), so one refused append
    // rolls back alone and the others in the group still commit. A full disk or an I/O error is not a refusal:
    // SQLite may already have rolled back the whole transaction (it does for SQLITE_FULL), so the whole group fails.
    this.commitBatch = this.db.transaction((batch: PendingAppend[]) => {
      const recordedAt = this.now().toISOString();
      return batch.map((p) => {
        try {
          return appendOne(p, recordedAt);
        } catch (error) {
          if (storageFaultOf(error) || !this.db.inTransaction) throw error;
          return { error };
        }
      });
    });
  }

  appendToStream(
    streamId: string,
    events: readonly EventToAppend[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailable('event store is closed'));
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, events, expected: options.expectedRevision ?? 'any', resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let results: Array<AppendResult | { error: unknown }>;
    try {
      // IMMEDIATE: the write lock is taken before the first read, waiting up to busy_timeout for another process's
      // commit (an import, a projector). A deferred transaction reads first and then cannot upgrade once another
      // connection has committed since its read (SQLITE_BUSY_SNAPSHOT, "database is locked"), whatever the timeout.
      results = this.commitBatch.immediate(batch);
    } catch (cause) {
      const fault = storageFaultOf(cause);
      const error = new StoreUnavailable(`event store commit failed${fault ? `: ${describeStorageFault(fault)}` : ''}`, { cause });
      for (const p of batch) p.reject(error);
      return;
    }
    const settle = (syncError: Error | null): void => {
      results.forEach((r, i) => {
        const p = batch[i];
        if (!p) return;
        if ('error' in r) p.reject(r.error);
        else if (syncError) p.reject(new StoreUnavailable('event store could not make the commit durable', { cause: syncError }));
        else p.resolve(r);
      });
      this.notifier.notify();
      if (committed) this.onCommitted?.();
    };
    // Only appends that committed something wait for the sync; refusals are answered at once.
    const committed = results.some((r) => !('error' in r));
    if (committed) this.startedCheckpointer()?.committed();
    if (committed && this.walFd !== undefined) this.durable(settle);
    else settle(null);
  }

  /**
   * The worker thread that checkpoints the WAL, started at the first commit: a process that only reads the log (the
   * projector, a replay) does not pay for a thread. From then on SQLite no longer checkpoints inside commits.
   */
  private startedCheckpointer(): WalCheckpointer | undefined {
    if (!this.checkpointer && this.backgroundCheckpoints && !this.closed) this.checkpointer = WalCheckpointer.forConnection(this.db);
    return this.checkpointer;
  }

  /**
   * Calls back once everything committed so far is on disk. One fdatasync at a time: commits made while one runs
   * wait for the next, which covers them all (group commit of the fsyncs themselves).
   */
  private durable(callback: (error: Error | null) => void): void {
    this.syncWaiters.push(callback);
    this.syncing ??= this.syncLoop();
  }

  private async syncLoop(): Promise<void> {
    while (this.syncWaiters.length > 0 && this.walFd !== undefined) {
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      const fd = this.walFd;
      const error = await new Promise<Error | null>((resolve) => this.syncFile(fd, (e) => resolve(e)));
      for (const w of waiters) w(error);
    }
    this.syncing = undefined;
  }

  private mapInsertError(error: unknown, streamId: string, expected: ExpectedRevision, eventId: string): unknown {
    const message = error instanceof Error ? error.message : String(error);
    if (message.includes('events.event_id')) return new DuplicateEventId(eventId);
    if (message.includes('events.stream_id')) return new StreamVersionConflict(streamId, expected, undefined);
    return error;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    const limit = options.maxCount ?? -1;
    const sql = backwards
      ? `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`
      : `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`;
    return this.query(sql, [streamId, from, limit]);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const types = options.eventTypes;
    if (types && types.length > 1 && options.maxCount === undefined) {
      // Unbounded, several types (the merge resumer's read of every merge step, at each start): one walk of the
      // (type, position) index per type reads only those rows. The page-bounded walk below would scan the whole log
      // instead: ~1M rows on the API's event loop before it answers its first request.
      const rows = types.flatMap((type) => this.readAllSync({ ...options, eventTypes: [type] }));
      return rows.sort(options.direction === 'backwards' ? (a, b) => b.position - a.position : (a, b) => a.position - b.position);
    }
    return this.readAllSync(options);
  }

  private readAllSync(options: ReadAllOptions): RecordedEvent[] {
    const backwards = options.direction === 'backwards';
    const from = options.fromPosition ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    const limit = options.maxCount ?? -1;
    const types = options.eventTypes;
    const typeClause = types ? ` AND type IN (${types.map(() => '?').join(',')})` : '';
    // The (type, position) index yields one type in log order. For several types SQLite would gather every later
    // event of each type and sort them, for every page: a catch-up in pages would be quadratic in the log's length.
    // Walking the log in position order and skipping other types is linear, and stops at the page's limit.
    const source = types && types.length > 1 ? 'events NOT INDEXED' : 'events';
    const sql = backwards
      ? `SELECT ${EVENT_COLUMNS} FROM ${source} WHERE position < ?${typeClause} ORDER BY position DESC LIMIT ?`
      : `SELECT ${EVENT_COLUMNS} FROM ${source} WHERE position > ?${typeClause} ORDER BY position ASC LIMIT ?`;
    return this.query(sql, [from, ...(types ?? []), limit], options.dataJson ? toRecordedWithJson : toRecorded);
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    return catchUpSubscription((o) => this.readAll(o), this.notifier, { ...options, pollMs: this.pollMs });
  }

  async headPosition(): Promise<number> {
    return this.stmt.head.get()?.position ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    await this.syncing;
    await this.checkpointer?.close();
    this.notifier.notify();
    this.db.close();
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }

  private readonly statements = new Map<string, Database.Statement>();

  private query(sql: string, params: unknown[], decode: (row: Row) => RecordedEvent = toRecorded): RecordedEvent[] {
    if (this.closed) throw new StoreUnavailable('event store is closed');
    try {
      let statement = this.statements.get(sql);
      if (!statement) {
        statement = this.db.prepare(sql).raw(true);
        this.statements.set(sql, statement);
      }
      return (statement.all(...params) as Row[]).map(decode);
    } catch (cause) {
      throw new StoreUnavailable('event store read failed', { cause });
    }
  }
}

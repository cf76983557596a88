import Database from 'better-sqlite3';
import { describeStorageFault, storageFaultOf, WalCheckpointer } from '@crm/event-store';
import { FencedOff, ReadModelStoreUnavailable } from '../store/errors';
import type {
  Checkpoint, CheckpointWrite, Doc, DocumentWrite, FieldCondition, FindOptions, IndexSpec, Query, ReadModelStore, Scalar,
} from '../store/read-model-store.port';
import { indexKeys } from '../store/read-model-store.port';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function table(collection: string): string {
  if (!NAME.test(collection)) throw new Error(`invalid collection name ${collection}`);
  return `rm_${collection}`;
}

function path(field: string): string {
  if (field === '_id') return 'id';
  if (field === '_position') return 'position';
  if (!FIELD.test(field)) throw new Error(`invalid field name ${field}`);
  return `json_extract(doc, '$.${field}')`;
}

/** JSON booleans come back from json_extract as 1/0. */
function bind(value: Scalar): string | number | null {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function isOperatorObject(c: FieldCondition): c is Exclude<FieldCondition, Scalar> {
  return typeof c === 'object' && c !== null;
}

function where(query: Query): { sql: string; params: Array<string | number | null> } {
  const clauses: string[] = [];
  const params: Array<string | number | null> = [];
  for (const [field, condition] of Object.entries(query)) {
    const p = path(field);
    if (!isOperatorObject(condition)) {
      if (condition === null) clauses.push(`${p} IS NULL`);
      else {
        clauses.push(`${p} = ?`);
        params.push(bind(condition));
      }
      continue;
    }
    for (const [op, value] of Object.entries(condition)) {
      switch (op) {
        case '$eq':
          if (value === null) clauses.push(`${p} IS NULL`);
          else { clauses.push(`${p} = ?`); params.push(bind(value as Scalar)); }
          break;
        case '$ne':
          if (value === null) clauses.push(`${p} IS NOT NULL`);
          else { clauses.push(`(${p} IS NULL OR ${p} <> ?)`); params.push(bind(value as Scalar)); }
          break;
        case '$gt': clauses.push(`${p} > ?`); params.push(value as string | number); break;
        case '$gte': clauses.push(`${p} >= ?`); params.push(value as string | number); break;
        case '$lt': clauses.push(`${p} < ?`); params.push(value as string | number); break;
        case '$lte': clauses.push(`${p} <= ?`); params.push(value as string | number); break;
        case '$in': {
          const values = value as readonly Scalar[];
          if (values.length === 0) { clauses.push('0'); break; }
          const nonNull = values.filter((v) => v !== null);
          const parts = nonNull.length ? [`${p} IN (${nonNull.map(() => '?').join(',')})`] : [];
          params.push(...nonNull.map(bind));
          if (nonNull.length < values.length) parts.push(`${p} IS NULL`);
          clauses.push(`(${parts.join(' OR ')})`);
          break;
        }
        case '$contains':
          clauses.push(`instr(${p}, ?) > 0`);
          params.push(value as string);
          break;
        case '$exists':
          clauses.push(field === '_id' || field === '_position' ? (value ? '1' : '0')
            : `json_type(doc, '$.${field}') IS ${value ? 'NOT ' : ''}NULL`);
          break;
        default:
          throw new Error(`unsupported operator ${op}`);
      }
    }
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

interface Row {
  id: string;
  position: number;
  doc: string;
}

/** The parsed object itself takes `_id`/`_position` (a copy per document read was ~5 % of a profiles rebuild's garbage). */
const toDoc = (row: Row): Doc => {
  const doc = JSON.parse(row.doc) as Record<string, unknown>;
  doc['_id'] = row.id;
  doc['_position'] = row.position;
  return doc as Doc;
};

export interface SqliteReadModelStoreOptions {
  /**
   * Seconds a write transaction waited for the file's write lock (SQLite takes one writer at a time: the projector
   * threads, the API's erasure rewrites). Each write reports its wait, however short (the metric sums them).
   */
  readonly onWriteLockWait?: (seconds: number) => void;
  /** SQLite's page cache of this connection, in MB (default READ_MODEL_CACHE_MB). */
  readonly cacheMb?: number;
  /**
   * WAL checkpoints from a worker thread, started at this connection's first write, instead of inside its commits
   * (default true for a file; see `startedCheckpointer`).
   */
  readonly backgroundCheckpoints?: boolean;
}

/**
 * SQLite's own default page cache (2 MB) per connection, made configurable (READ_MODEL_CACHE_MB). 32 MB made
 * `customer_profiles` rebuild 1.2–1.4× faster at 1M (its batches rewrite documents spread over the whole table, whose
 * pages a small cache reads back from the OS every batch), but cost the timeline's rebuild ~60 MB of RSS for no speed
 * and all ten read models on two threads 30 MB and no speed: not the default (docs/decisions.md, "A page cache for
 * the read models").
 */
export const READ_MODEL_CACHE_MB = 2;

/**
 * Pages of 16 KiB rather than SQLite's 4 KiB: read-model rows are JSON documents of up to ~1 KB (a timeline entry
 * ~800 bytes), four to a 4 KiB page. Inserting the 1M entries of a timeline build took 25-30 % less time and its
 * deferred index 30 % less with 16 KiB pages (docs/decisions.md "Read-model page size").
 */
export const READ_MODEL_PAGE_SIZE = 16_384;

/**
 * WAL frames (pages of READ_MODEL_PAGE_SIZE: 64 MB) past which the background checkpoint empties the WAL. Writers that
 * commit without a pause never leave it wholly copied, so it is never restarted: two projector threads checkpointing
 * in the background grew it to 1.7 GB over a 1M rebuild (they checkpoint in their commits now; see open-projector).
 */
export const READ_MODEL_WAL_FRAMES = 4_096;

/**
 * At most one background checkpoint a second: about as often as SQLite's own at 1,000 frames under the live tail of
 * 500 commands/s, whose syncs of `read-models.db` share the disk with the event store's per-commit syncs.
 */
export const READ_MODEL_CHECKPOINT_INTERVAL_MS = 1_000;

function byCollectionAndId(a: DocumentWrite, b: DocumentWrite): number {
  if (a.collection !== b.collection) return a.collection < b.collection ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The embedded read-model store: one table per collection, JSON documents, expression indexes on queried fields. */
export class SqliteReadModelStore implements ReadModelStore {
  private readonly db: Database.Database;
  private readonly onWriteLockWait: ((seconds: number) => void) | undefined;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly writeStatements = new Map<string, { upsert: Database.Statement; remove: Database.Statement }>();
  private readonly backgroundCheckpoints: boolean;
  private checkpointer: WalCheckpointer | undefined;

  constructor(filename: string, options: SqliteReadModelStoreOptions = {}) {
    this.onWriteLockWait = options.onWriteLockWait;
    this.db = new Database(filename);
    this.backgroundCheckpoints = !this.db.memory && (options.backgroundCheckpoints ?? true);
    // First: the journal mode switch and the schema take locks another process (a projector) may hold.
    this.db.pragma('busy_timeout = 5000');
    // Only a new file takes it: SQLite fixes the page size when the first page is written (an existing file keeps its own).
    this.db.pragma(`page_size = ${READ_MODEL_PAGE_SIZE}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Overwritten documents (e.g. masked at erasure) leave no old bytes in freed pages.
    this.db.pragma('secure_delete = ON');
    this.db.pragma(`cache_size = ${-Math.max(1, Math.round((options.cacheMb ?? READ_MODEL_CACHE_MB) * 1024))}`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS rm_checkpoints (
      projection TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_at TEXT NOT NULL, fence INTEGER NOT NULL DEFAULT 0)`);
    // Files of releases before fencing: the column is added in place (every existing checkpoint unfenced, 0).
    const columns = this.db.pragma('table_info(rm_checkpoints)') as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'fence')) {
      this.guarded('write', () => this.db.exec('ALTER TABLE rm_checkpoints ADD COLUMN fence INTEGER NOT NULL DEFAULT 0'));
    }
  }

  /**
   * A full disk, an I/O error or a lock held past the busy timeout is the store's failure, not the caller's:
   * ReadModelStoreUnavailable (a retry later may succeed; the runner retries a batch from its checkpoint).
   */
  private guarded<T>(what: string, fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (cause) {
      const fault = storageFaultOf(cause);
      if (!fault) throw cause;
      throw new ReadModelStoreUnavailable(`read-model store ${what} failed: ${describeStorageFault(fault)}`, { cause });
    }
    // Any write (a deferred index, a dropped table) leaves WAL pages for a running checkpointer to copy back.
    if (what === 'write') this.checkpointer?.committed();
    return result;
  }

  /** Documents or checkpoints committed: the checkpointer, started here, copies their WAL pages back. */
  private wroteDocuments(): void {
    this.startedCheckpointer()?.committed();
  }

  /**
   * The worker thread that checkpoints this connection's WAL (as the event store's, WalCheckpointer), started at its
   * first write of documents or checkpoints: an API that only queries (or creates its collections at start) pays for
   * no thread. SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages (16 MB here): it
   * copies the pages into the database file and syncs both files, on the projector's thread. A build catching up commits a page of documents spread over its table (a batch of
   * `customer_profiles` rewrites most of its pages), so nearly every commit checkpointed: a third of the profile
   * rebuild's commit time (docs/decisions.md, "Read-model checkpoints off the projector's thread"). Without the
   * worker (it failed), SQLite checkpoints in commits again.
   */
  private startedCheckpointer(): WalCheckpointer | undefined {
    if (!this.checkpointer && this.backgroundCheckpoints && this.db.open) {
      this.checkpointer = WalCheckpointer.forConnection(this.db, { truncateAboveFrames: READ_MODEL_WAL_FRAMES, intervalMs: READ_MODEL_CHECKPOINT_INTERVAL_MS });
    }
    return this.checkpointer;
  }

  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Indexes on `indexKeys`; an index of an earlier release without the trailing id is replaced. */
  async ensureCollection(collection: string, indexes: readonly IndexSpec[]): Promise<void> {
    const t = table(collection);
    this.guarded('write', () => this.db.exec(`CREATE TABLE IF NOT EXISTS ${t} (id TEXT PRIMARY KEY, position INTEGER NOT NULL, doc TEXT NOT NULL)`));
    const nameOf = (fields: IndexSpec['fields']): string =>
      `${t}__${fields.map(([f, d]) => `${f.replace(/\./g, '_')}_${d === 1 ? 'a' : 'd'}`).join('__')}`;
    for (const index of indexes) {
      const fields = indexKeys(index);
      const columns = fields.map(([f, d]) => `${path(f)} ${d === 1 ? 'ASC' : 'DESC'}`).join(', ');
      this.guarded('write', () => {
        this.db.exec(`CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${nameOf(fields)} ON ${t} (${columns})`);
        if (!index.unique) this.db.exec(`DROP INDEX IF EXISTS ${nameOf(index.fields)}`);
      });
    }
  }

  async dropCollection(collection: string): Promise<void> {
    this.guarded('write', () => this.db.exec(`DROP TABLE IF EXISTS ${table(collection)}`));
    this.statements.clear();
    this.writeStatements.clear();
  }

  async listCollections(): Promise<string[]> {
    const rows = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 3) = 'rm_' AND name <> 'rm_checkpoints' ORDER BY name")
      .pluck().all() as string[];
    return rows.map((name) => name.slice(3));
  }

  async rewrite(collection: string, query: Query, evolve: (doc: Doc) => Readonly<Record<string, unknown>> | null): Promise<number> {
    const t = table(collection);
    const docs = await this.find(collection, query);
    const update = this.db.prepare(`UPDATE ${t} SET doc = ? WHERE id = ? AND position = ?`);
    const remove = this.db.prepare(`DELETE FROM ${t} WHERE id = ? AND position = ?`);
    // Only what changes is written: an erasure rewrites builds a runner has masked already, and a write here waits for
    // (and blocks) the projector's connection to the file.
    const writes: Array<{ id: string; position: number; body: string | null }> = [];
    for (const doc of docs) {
      const next = evolve(doc);
      if (next === null) {
        writes.push({ id: doc._id, position: doc._position, body: null });
        continue;
      }
      const { _id: id, _position: position, ...current } = doc;
      const { _id: _ignoredId, _position: _ignoredPosition, ...body } = next;
      const json = JSON.stringify(body);
      if (json !== JSON.stringify(current)) writes.push({ id, position, body: json });
    }
    if (writes.length === 0) return 0;
    let changed = 0;
    this.db.transaction(() => {
      for (const w of writes) {
        changed += (w.body === null ? remove.run(w.id, w.position) : update.run(w.body, w.id, w.position)).changes;
      }
    })();
    this.wroteDocuments();
    return changed;
  }

  async get(collection: string, id: string): Promise<Doc | null> {
    const row = this.prepare(`SELECT id, position, doc FROM ${table(collection)} WHERE id = ?`).get(id) as Row | undefined;
    return row ? toDoc(row) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, Doc>> {
    const result = new Map<string, Doc>();
    const t = table(collection);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.db.prepare(`SELECT id, position, doc FROM ${t} WHERE id IN (${chunk.map(() => '?').join(',')})`).all(...chunk) as Row[];
      for (const row of rows) result.set(row.id, toDoc(row));
    }
    return result;
  }

  async find(collection: string, query: Query, options: FindOptions = {}): Promise<Doc[]> {
    const w = where(query);
    const order = [...(options.sort ?? []).map(([f, d]) => `${path(f)} ${d === 1 ? 'ASC' : 'DESC'}`), 'id ASC'].join(', ');
    const limit = options.limit ?? -1;
    const offset = options.skip ?? 0;
    const sql = `SELECT id, position, doc FROM ${table(collection)} ${w.sql} ORDER BY ${order} LIMIT ? OFFSET ?`;
    return (this.prepare(sql).all(...w.params, limit, offset) as Row[]).map(toDoc);
  }

  async count(collection: string, query: Query): Promise<number> {
    const w = where(query);
    const row = this.prepare(`SELECT count(*) AS n FROM ${table(collection)} ${w.sql}`).get(...w.params) as { n: number };
    return row.n;
  }

  /** The two write statements of a collection, prepared once (the write path runs them millions of times). */
  private writers(collection: string): { upsert: Database.Statement; remove: Database.Statement } {
    let w = this.writeStatements.get(collection);
    if (!w) {
      const t = table(collection);
      w = {
        upsert: this.db.prepare(
          `INSERT INTO ${t} (id, position, doc) VALUES (?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET position = excluded.position, doc = excluded.doc WHERE ${t}.position < excluded.position`,
        ),
        remove: this.db.prepare(`DELETE FROM ${t} WHERE id = ? AND position < ?`),
      };
      this.writeStatements.set(collection, w);
    }
    return w;
  }

  async applyBatch(writes: readonly DocumentWrite[], checkpoint: CheckpointWrite): Promise<void> {
    const now = new Date().toISOString();
    // IMMEDIATE: the write lock before the first read, so another process's commit is waited for, not failed on.
    // The fence is checked inside it: documents and checkpoint commit together, so a refused batch writes nothing.
    this.guarded('write', () => this.immediateTransaction(() => {
      if (this.fencedOff(checkpoint)) throw new FencedOff([checkpoint.projection], checkpoint.fence ?? 0);
      // In key order: a batch's documents are spread over the table (a page of 5,000 events touches ~3,800 of 50,000
      // profiles), and visiting its pages in order reads each from the OS once, not back and forth (1.1x at 1M).
      for (const w of [...writes].sort(byCollectionAndId)) {
        const statements = this.writers(w.collection);
        if (w.doc === null) {
          statements.remove.run(w.id, w.position);
        } else if (w.json !== undefined) {
          statements.upsert.run(w.id, w.position, w.json);
        } else {
          const { _id: _ignoredId, _position: _ignoredPosition, ...body } = w.doc;
          statements.upsert.run(w.id, w.position, JSON.stringify(body));
        }
      }
      this.moveCheckpoint(checkpoint, now);
    }));
    this.wroteDocuments();
  }

  /**
   * `body` in a BEGIN IMMEDIATE transaction (better-sqlite3's `transaction().immediate()`, spelled out so that the
   * wait for the write lock, inside BEGIN, is measured on its own: with several projector threads on one file that
   * wait is what parallel catch-up costs).
   */
  private immediateTransaction(body: () => void): void {
    const asked = performance.now();
    this.prepare('BEGIN IMMEDIATE').run();
    this.onWriteLockWait?.((performance.now() - asked) / 1000);
    try {
      body();
      this.prepare('COMMIT').run();
    } catch (error) {
      // A failed COMMIT (SQLITE_FULL, say) may leave the transaction open: roll it back, or the next BEGIN fails.
      if (this.db.inTransaction) this.prepare('ROLLBACK').run();
      throw error;
    }
  }

  async saveCheckpoints(checkpoints: ReadonlyArray<CheckpointWrite>): Promise<void> {
    const now = new Date().toISOString();
    const refused: CheckpointWrite[] = [];
    this.guarded('write', () => this.immediateTransaction(() => {
      for (const c of checkpoints) {
        if (this.fencedOff(c)) refused.push(c);
        else this.moveCheckpoint(c, now);
      }
    }));
    this.wroteDocuments();
    if (refused.length > 0) throw new FencedOff(refused.map((c) => c.projection), Math.min(...refused.map((c) => c.fence ?? 0)));
  }

  /** Inside the write transaction: has a newer lease holder written this checkpoint? */
  private fencedOff(checkpoint: CheckpointWrite): boolean {
    if (checkpoint.fence === undefined) return false;
    const stored = this.prepare('SELECT fence FROM rm_checkpoints WHERE projection = ?').pluck().get(checkpoint.projection) as number | undefined;
    return stored !== undefined && stored > checkpoint.fence;
  }

  /** Position only forward; the fence only up (a fenced write that moves no position still records its token). */
  private moveCheckpoint(checkpoint: CheckpointWrite, now: string): void {
    this.prepare(
      `INSERT INTO rm_checkpoints (projection, position, updated_at, fence) VALUES (?, ?, ?, ?)
       ON CONFLICT (projection) DO UPDATE SET
         updated_at = CASE WHEN rm_checkpoints.position < excluded.position THEN excluded.updated_at ELSE rm_checkpoints.updated_at END,
         position = max(rm_checkpoints.position, excluded.position),
         fence = max(rm_checkpoints.fence, excluded.fence)
       WHERE rm_checkpoints.position < excluded.position OR rm_checkpoints.fence < excluded.fence`,
    ).run(checkpoint.projection, checkpoint.position, now, checkpoint.fence ?? 0);
  }

  async getCheckpoint(projection: string): Promise<Checkpoint | null> {
    const row = this.prepare('SELECT projection, position, updated_at, fence FROM rm_checkpoints WHERE projection = ?').get(projection) as
      | { projection: string; position: number; updated_at: string; fence: number }
      | undefined;
    return row ? { projection: row.projection, position: row.position, updatedAt: row.updated_at, fence: row.fence } : null;
  }

  async listCheckpoints(prefix: string): Promise<Checkpoint[]> {
    const rows = this.prepare("SELECT projection, position, updated_at, fence FROM rm_checkpoints WHERE substr(projection, 1, ?) = ? ORDER BY projection")
      .all(prefix.length, prefix) as Array<{ projection: string; position: number; updated_at: string; fence: number }>;
    return rows.map((r) => ({ projection: r.projection, position: r.position, updatedAt: r.updated_at, fence: r.fence }));
  }

  async deleteCheckpoint(projection: string): Promise<void> {
    this.guarded('write', () => this.prepare('DELETE FROM rm_checkpoints WHERE projection = ?').run(projection));
  }

  /**
   * Old page images live on in the WAL until it is checkpointed and truncated. A TRUNCATE checkpoint must wait for
   * other connections' writes and reads (a projector thread or process); it is tried without SQLite's busy wait, which
   * would hold up this thread's event loop, and again a turn later, for up to `waitMs`.
   */
  async compact(waitMs = 2000): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    const busyTimeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    for (;;) {
      this.db.pragma('busy_timeout = 0');
      let result: { busy: number } | undefined;
      try {
        [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      } finally {
        this.db.pragma(`busy_timeout = ${busyTimeout}`);
      }
      if (result?.busy === 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    const checkpointer = this.checkpointer;
    this.checkpointer = undefined;
    await checkpointer?.close();
    if (this.db.open) this.db.close();
  }
}

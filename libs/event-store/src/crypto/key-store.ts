import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { StoreUnavailable } from '../errors';
import { BUSY_TIMEOUT_MS } from '../sqlite/sqlite-event-store';
import { describeStorageFault, storageFaultOf } from '../storage-faults';
import { DataKeyUnwrapFailed, wrongKekError, type KeyEncryptionKey } from './key-encryption-key';

/** A subject's data key, or 'erased' once its key was destroyed (for good). */
export type SubjectKey = Buffer | 'erased';

/**
 * Per-subject (customer) data keys. Deleting a key is the erasure: what it encrypted can never be read again.
 * Asynchronous, as a key store may sit across the network (MongoDB); callers fetch the keys of a whole append or
 * read batch at once (`existingKeys`), then seal and open fields synchronously.
 */
export interface KeyStore {
  /** The subject's key, created on first use; 'erased' once the subject was erased (never re-created). */
  keyFor(subject: string): Promise<SubjectKey>;
  /** The keys that exist among `subjects` ('erased' for the erased); a subject without a key is absent (reads never create keys). */
  existingKeys(subjects: Iterable<string>): Promise<Map<string, SubjectKey>>;
  /** Destroys the key and keeps a tombstone; false when there was nothing left to erase. */
  erase(subject: string, at: Date): Promise<boolean>;
  /** Every subject whose key was destroyed (tombstones): what a start checks for erasures a crash left unfinished. */
  erasedSubjects(): Promise<string[]>;
  close(): Promise<void>;
}

const MAX_CACHED_KEYS = 200_000;
const KEYS_PER_READ = 1000;

export interface SqliteKeyStoreOptions {
  /** Wraps every data key stored in the file (envelope encryption; see KeyEncryptionKey). */
  readonly kek: KeyEncryptionKey;
  /** How often at most another process's commits are looked for (the check is a file lock round trip). */
  readonly recheckMs?: number;
  /** Milliseconds since the epoch; tests move it by hand. */
  readonly now?: () => number;
}

interface PendingKey {
  readonly key: Buffer;
  readonly promise: Promise<SubjectKey>;
  resolve(key: SubjectKey): void;
  reject(error: unknown): void;
}

interface KeyRow {
  key: Buffer | null;
  erased_at: string | null;
  kek_id: string | null;
}

/**
 * Keys in their own SQLite file (DATA_DIR/keys.db), with secure_delete so a destroyed key leaves no bytes behind.
 * Each key is stored wrapped by the key-encryption key (`kek_id` says by which). A file from before wrapping holds
 * its keys in clear with no `kek_id`: they are wrapped when the file is opened, and read as they are if one is met
 * before that (a process of the older version writing while this one starts).
 */
export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;
  /**
   * Keys as last read (unwrapped). Another process (API vs projector) may create or erase keys: SQLite's
   * `data_version` changes whenever another connection commits to the file, and then every cached key is read again
   * (erased stays erased). It is looked at every `recheckMs` at most, so an erasure elsewhere is seen within that time
   * (this process's own erasures at once), and a rebuild reading a million events does not query the file once per event.
   */
  private readonly cache = new Map<string, SubjectKey>();
  private readonly dataVersion: Database.Statement;
  private readonly select: Database.Statement;
  private readonly selectMany: Database.Statement;
  private readonly insertKey: Database.Statement;
  private readonly eraseKey: Database.Statement;
  private readonly kek: KeyEncryptionKey;
  private readonly recheckMs: number;
  private readonly now: () => number;
  private seenVersion: unknown;
  private checkedAt = 0;
  /** Keys asked for in this turn of the event loop, created together (keyFor). */
  private readonly pendingKeys = new Map<string, PendingKey>();

  constructor(filename: string, options: SqliteKeyStoreOptions) {
    this.kek = options.kek;
    this.recheckMs = options.recheckMs ?? 50;
    this.now = options.now ?? Date.now;
    this.db = new Database(filename);
    // Rollback journal: a writer needs the file to itself for its commit. The API, the projector and an import share it.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('journal_mode = DELETE');
    this.db.pragma('secure_delete = ON');
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, key BLOB, created_at TEXT NOT NULL, erased_at TEXT, kek_id TEXT)');
    this.write('migration', () => this.wrapKeysInClear());
    this.verifyKek(filename);
    this.dataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.select = this.db.prepare('SELECT key, erased_at, kek_id FROM subject_keys WHERE subject = ?');
    this.selectMany = this.db.prepare('SELECT subject, key, erased_at, kek_id FROM subject_keys WHERE subject IN (SELECT value FROM json_each(?))');
    this.insertKey = this.db.prepare('INSERT OR IGNORE INTO subject_keys (subject, key, created_at, kek_id) VALUES (?, ?, ?, ?)');
    this.eraseKey = this.db.prepare(`INSERT INTO subject_keys (subject, key, created_at, erased_at) VALUES (?, NULL, ?, ?)
        ON CONFLICT (subject) DO UPDATE SET key = NULL, kek_id = NULL, erased_at = excluded.erased_at WHERE subject_keys.erased_at IS NULL`);
    this.seenVersion = this.dataVersion.get();
  }

  /** A file created before wrapping: adds the column, then wraps its keys in place (secure_delete zeroes the old bytes). */
  private wrapKeysInClear(): void {
    const columns = this.db.prepare('PRAGMA table_info(subject_keys)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'kek_id')) this.db.exec('ALTER TABLE subject_keys ADD COLUMN kek_id TEXT');
    const inClear = this.db.prepare('SELECT subject, key FROM subject_keys WHERE key IS NOT NULL AND kek_id IS NULL').all() as Array<{ subject: string; key: Buffer }>;
    const update = this.db.prepare('UPDATE subject_keys SET key = ?, kek_id = ? WHERE subject = ? AND kek_id IS NULL');
    for (const row of inClear) update.run(this.kek.wrap(row.subject, row.key), this.kek.id, row.subject);
  }

  /** One stored key must unwrap: a lost and regenerated KEK file, or another one, is refused at start. */
  private verifyKek(filename: string): void {
    const sample = this.db.prepare('SELECT subject, key, kek_id FROM subject_keys WHERE key IS NOT NULL AND kek_id IS NOT NULL LIMIT 1').get() as
      { subject: string; key: Buffer; kek_id: string } | undefined;
    if (!sample) return;
    try {
      this.kek.unwrap(sample.subject, sample.key);
    } catch (error) {
      if (!(error instanceof DataKeyUnwrapFailed)) throw error;
      this.db.close();
      throw wrongKekError(filename, sample.kek_id, this.kek);
    }
  }

  /**
   * A write in its own IMMEDIATE transaction: the write lock is waited for (busy_timeout) before anything is read, so
   * two processes queue instead of one failing. SQLite's errors (a full disk, a lock held too long) become
   * StoreUnavailable: the caller's request was fine, the store is not.
   */
  private write<T>(what: string, fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (cause) {
      const fault = storageFaultOf(cause);
      if (!fault) throw cause;
      throw new StoreUnavailable(`key store ${what} failed: ${describeStorageFault(fault)}`, { cause });
    }
  }

  /**
   * Async by the port; the work is synchronous (a local file), so a resolved promise costs one microtask per batch.
   * The keys not cached are read with one statement per 1,000 (a page of the log names thousands of customers the
   * first time a rebuild meets them: one point read each, every one taking and releasing the file's shared lock,
   * was 1.5 s of a loyalty rebuild over 1M events).
   */
  existingKeys(subjects: Iterable<string>): Promise<Map<string, SubjectKey>> {
    try {
      const found = new Map<string, SubjectKey>();
      const uncached = new Set<string>();
      this.read(() => this.recheck());
      for (const subject of subjects) {
        const cached = this.cache.get(subject);
        if (cached) found.set(subject, cached);
        else uncached.add(subject);
      }
      const missing = [...uncached];
      for (let i = 0; i < missing.length; i += KEYS_PER_READ) {
        const rows = this.read(() => this.selectMany.all(JSON.stringify(missing.slice(i, i + KEYS_PER_READ)))) as Array<KeyRow & { subject: string }>;
        for (const row of rows) found.set(row.subject, this.remember(row.subject, row));
      }
      return Promise.resolve(found);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A read of the file; a full disk or a lock held too long is StoreUnavailable. */
  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      const fault = storageFaultOf(cause);
      if (!fault) throw cause;
      throw new StoreUnavailable(`key store read failed: ${describeStorageFault(fault)}`, { cause });
    }
  }

  private existingKey(subject: string): SubjectKey | undefined {
    return this.read(() => {
      this.recheck();
      const cached = this.cache.get(subject);
      if (cached) return cached;
      const row = this.select.get(subject) as KeyRow | undefined;
      return row ? this.remember(subject, row) : undefined;
    });
  }

  /** Forgets the cached keys when another connection has committed to the file since (at most every `recheckMs`). */
  private recheck(): void {
    const now = this.now();
    if (now - this.checkedAt < this.recheckMs) return;
    this.checkedAt = now;
    const version = this.dataVersion.get();
    if (version !== this.seenVersion) {
      this.seenVersion = version;
      for (const [s, value] of this.cache) if (value !== 'erased') this.cache.delete(s);
    }
  }

  private remember(subject: string, row: KeyRow): SubjectKey {
    const value: SubjectKey = row.erased_at || !row.key ? 'erased' : row.kek_id === null ? row.key : this.kek.unwrap(subject, row.key);
    if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
    this.cache.set(subject, value);
    return value;
  }

  /**
   * A new key is written in one IMMEDIATE transaction with every other key first asked for in the same turn of the
   * event loop (group commit, as the event store does for appends): each commit of this rollback-journal file at
   * synchronous=FULL costs several fsyncs, and an import registering 4,372 customers 500 at a time spent 30 % of its
   * time committing their keys one by one. Every caller waits for that commit, so no event is sealed with a key that
   * is not yet durable.
   */
  keyFor(subject: string): Promise<SubjectKey> {
    try {
      const existing = this.existingKey(subject);
      if (existing) return Promise.resolve(existing);
    } catch (error) {
      return Promise.reject(error);
    }
    const pending = this.pendingKeys.get(subject);
    if (pending) return pending.promise;
    let settle!: { resolve: (key: SubjectKey) => void; reject: (error: unknown) => void };
    const promise = new Promise<SubjectKey>((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.pendingKeys.set(subject, { key: randomBytes(32), promise, ...settle });
    if (this.pendingKeys.size === 1) setImmediate(() => this.createPendingKeys());
    return promise;
  }

  private createPendingKeys(): void {
    if (this.pendingKeys.size === 0) return;
    const batch = [...this.pendingKeys];
    this.pendingKeys.clear();
    try {
      const createdAt = new Date(this.now()).toISOString();
      this.write('write', () => {
        for (const [subject, { key }] of batch) this.insertKey.run(subject, this.kek.wrap(subject, key), createdAt, this.kek.id);
      });
    } catch (error) {
      for (const [, p] of batch) p.reject(error);
      return;
    }
    for (const [subject, p] of batch) {
      try {
        // Another process may have created (or erased) the key first: INSERT OR IGNORE kept theirs, read it back.
        this.cache.delete(subject);
        p.resolve(this.existingKey(subject) ?? p.key);
      } catch (error) {
        p.reject(error);
      }
    }
  }

  erase(subject: string, at: Date): Promise<boolean> {
    try {
      const info = this.write('erasure', () => this.eraseKey.run(subject, at.toISOString(), at.toISOString()));
      this.cache.set(subject, 'erased');
      return Promise.resolve(info.changes > 0);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  erasedSubjects(): Promise<string[]> {
    try {
      return Promise.resolve(this.db.prepare('SELECT subject FROM subject_keys WHERE erased_at IS NOT NULL ORDER BY subject').pluck().all() as string[]);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    // Keys asked for just before closing are still written (their callers are waiting for them).
    if (this.db.open) this.createPendingKeys();
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

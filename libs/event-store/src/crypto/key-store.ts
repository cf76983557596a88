import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { StoreUnavailable } from '../errors';
import { BUSY_TIMEOUT_MS } from '../sqlite/sqlite-event-store';
import { describeStorageFault, storageFaultOf } from '../storage-faults';

/** Per-subject (customer) data keys. Deleting a key is the erasure: what it encrypted can never be read again. */
export interface KeyStore {
  /** The subject's key, created on first use; 'erased' once the subject was erased (never re-created). */
  keyFor(subject: string): Buffer | 'erased';
  /** The subject's key if it exists; 'erased' or undefined otherwise (reads never create keys). */
  existingKey(subject: string): Buffer | 'erased' | undefined;
  /** Destroys the key and keeps a tombstone; returns false when there was nothing left to erase. */
  erase(subject: string, at: Date): boolean;
  /** Every subject whose key was destroyed (tombstones): what a start checks for erasures a crash left unfinished. */
  erasedSubjects(): string[];
  close(): void;
}

const MAX_CACHED_KEYS = 200_000;

/** Keys in their own SQLite file (DATA_DIR/keys.db), with secure_delete so a destroyed key leaves no bytes behind. */
export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;
  /**
   * Keys as last read. Another process (API vs projector) may create or erase keys: SQLite's `data_version` changes
   * whenever another connection commits to the file, and then every cached key is read again (erased stays erased).
   * It is looked at every `recheckMs` at most, so an erasure elsewhere is seen within that time (this process's own
   * erasures at once), and a rebuild reading a million events does not query the file once per event.
   */
  private readonly cache = new Map<string, Buffer | 'erased'>();
  private readonly dataVersion: Database.Statement;
  private readonly select: Database.Statement;
  private seenVersion: unknown;

  private checkedAt = 0;

  /** `recheckMs`: how often at most another process's commits are looked for (the check is a file lock round trip). */
  private readonly insertKey: Database.Statement;
  private readonly eraseKey: Database.Statement;

  constructor(filename: string, private readonly recheckMs = 50) {
    this.db = new Database(filename);
    // Rollback journal: a writer needs the file to itself for its commit. The API, the projector and an import share it.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('journal_mode = DELETE');
    this.db.pragma('secure_delete = ON');
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, key BLOB, created_at TEXT NOT NULL, erased_at TEXT)');
    this.dataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.select = this.db.prepare('SELECT key, erased_at FROM subject_keys WHERE subject = ?');
    this.insertKey = this.db.prepare('INSERT OR IGNORE INTO subject_keys (subject, key, created_at) VALUES (?, ?, ?)');
    this.eraseKey = this.db.prepare(`INSERT INTO subject_keys (subject, key, created_at, erased_at) VALUES (?, NULL, ?, ?)
        ON CONFLICT (subject) DO UPDATE SET key = NULL, erased_at = excluded.erased_at WHERE subject_keys.erased_at IS NULL`);
    this.seenVersion = this.dataVersion.get();
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

  existingKey(subject: string): Buffer | 'erased' | undefined {
    try {
      return this.lookUp(subject);
    } catch (cause) {
      const fault = storageFaultOf(cause);
      if (!fault) throw cause;
      throw new StoreUnavailable(`key store read failed: ${describeStorageFault(fault)}`, { cause });
    }
  }

  private lookUp(subject: string): Buffer | 'erased' | undefined {
    const now = Date.now();
    if (now - this.checkedAt >= this.recheckMs) {
      this.checkedAt = now;
      const version = this.dataVersion.get();
      if (version !== this.seenVersion) {
        this.seenVersion = version;
        for (const [s, value] of this.cache) if (value !== 'erased') this.cache.delete(s);
      }
    }
    const cached = this.cache.get(subject);
    if (cached) return cached;
    const row = this.select.get(subject) as { key: Buffer | null; erased_at: string | null } | undefined;
    if (!row) return undefined;
    const value: Buffer | 'erased' = row.erased_at || !row.key ? 'erased' : row.key;
    if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
    this.cache.set(subject, value);
    return value;
  }

  keyFor(subject: string): Buffer | 'erased' {
    const existing = this.existingKey(subject);
    if (existing) return existing;
    const key = randomBytes(32);
    this.write('write', () => this.insertKey.run(subject, key, new Date().toISOString()));
    this.cache.delete(subject);
    return this.existingKey(subject) ?? key;
  }

  erase(subject: string, at: Date): boolean {
    const info = this.write('erasure', () => this.eraseKey.run(subject, at.toISOString(), at.toISOString()));
    this.cache.set(subject, 'erased');
    return info.changes > 0;
  }

  erasedSubjects(): string[] {
    return this.db.prepare('SELECT subject FROM subject_keys WHERE erased_at IS NOT NULL ORDER BY subject').pluck().all() as string[];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

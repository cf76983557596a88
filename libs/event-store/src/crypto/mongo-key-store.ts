import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { StoreUnavailable } from '../errors';
import { DataKeyUnwrapFailed, wrongKekError, type KeyEncryptionKey } from './key-encryption-key';
import type { KeyStore, SubjectKey } from './key-store';

/** The one place that names the collection (docs/privacy.md, "Envelope encryption"). */
export const DATA_KEYS_COLLECTION = 'data_keys';
/** How long an unwrapped key is used from memory before it is read again (and an erasure elsewhere seen). */
export const DEFAULT_KEY_CACHE_TTL_MS = 5_000;
const DUPLICATE_KEY = 11000;
/** Rounds of "tombstone the key, else insert a tombstone" before giving up: each lost round is another replica's write. */
const MAX_ERASE_ROUNDS = 4;
const MAX_CACHED_KEYS = 200_000;

/** A subject's record: its wrapped key, or once erased only the tombstone (`erasedAt`, no key). */
interface DataKeyRecord {
  _id: string;
  /** base64 of the KeyEncryptionKey's wrapped form; absent once erased. */
  wrappedKey?: string;
  /** Which KEK wrapped it (its fingerprint): what a rotation rewraps. */
  kekId?: string;
  createdAt: Date;
  erasedAt?: Date;
}

const UNAVAILABLE_ERRORS = new Set([
  'MongoNetworkError', 'MongoServerSelectionError', 'MongoNotConnectedError', 'MongoTopologyClosedError',
  'MongoOperationTimeoutError', 'MongoWriteConcernError',
]);

function codeOf(e: unknown): unknown {
  return typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
}

function isUnavailable(e: unknown): boolean {
  for (let proto: unknown = Object.getPrototypeOf(e); typeof proto === 'object' && proto !== null; proto = Object.getPrototypeOf(proto)) {
    const ctor: unknown = (proto as { constructor?: unknown }).constructor;
    if (typeof ctor === 'function' && UNAVAILABLE_ERRORS.has(ctor.name)) return true;
  }
  return false;
}

export interface MongoKeyStoreOptions {
  readonly kek: KeyEncryptionKey;
  /** DATA_KEY_CACHE_TTL_MS: an erasure on another replica is seen here within this time. */
  readonly cacheTtlMs?: number;
  /** Milliseconds since the epoch; tests move it by hand. */
  readonly now?: () => number;
}

/**
 * Data keys in MongoDB (production mode), shared by every API and projector replica. Each record holds the key
 * wrapped by the KEK (subject as AAD): a dump of the database alone opens no personal field.
 *
 * - Creation race: a key is created by `insertOne` on `_id` = subject; the replica that loses gets E11000 and reads
 *   the winner's key, so two replicas never seal one customer's fields with two keys.
 * - Erasure: the wrapped key is removed and `erasedAt` kept (a tombstone, never re-created). The erasing replica
 *   forgets the key at once; every other replica uses a key it unwrapped for at most `cacheTtlMs` before reading the
 *   record again, so it sees the erasure within that time.
 * - Nothing is cached for a subject without a key: a read that found none is asked again next time, and `keyFor`
 *   always asks the database before creating one.
 */
export class MongoKeyStore implements KeyStore {
  private readonly cache = new Map<string, { key: SubjectKey; readAt: number }>();
  private readonly kek: KeyEncryptionKey;
  private readonly ttlMs: number;
  private readonly now: () => number;

  /**
   * Ensures the tombstones' index, and unwraps one stored key: a replica given another KEK than the others refuses to
   * start rather than fail every read of personal data. `db` belongs to the caller (the read-model store's client):
   * `close` leaves it open.
   */
  static async open(db: Db, options: MongoKeyStoreOptions): Promise<MongoKeyStore> {
    const store = new MongoKeyStore(db.collection<DataKeyRecord>(DATA_KEYS_COLLECTION), options);
    await store.guard('index creation', () => store.keys.createIndex({ erasedAt: 1 }, { name: 'erasedAt', sparse: true }));
    const sample = await store.guard('read', () => store.keys.findOne({ wrappedKey: { $exists: true } }));
    if (sample) {
      try {
        store.keyOf(sample);
      } catch (error) {
        if (error instanceof DataKeyUnwrapFailed) throw wrongKekError(`MongoDB collection ${DATA_KEYS_COLLECTION}`, sample.kekId, options.kek);
        throw error;
      }
    }
    return store;
  }

  private constructor(private readonly keys: Collection<DataKeyRecord>, options: MongoKeyStoreOptions) {
    this.kek = options.kek;
    this.ttlMs = options.cacheTtlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  private async guard<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (cause) {
      if (!isUnavailable(cause)) throw cause;
      throw new StoreUnavailable(`key store ${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }

  /** The cached key while fresh; an erasure is final, so 'erased' stays cached. */
  private cached(subject: string, now: number): SubjectKey | undefined {
    const entry = this.cache.get(subject);
    if (!entry) return undefined;
    if (entry.key === 'erased' || now - entry.readAt < this.ttlMs) return entry.key;
    this.cache.delete(subject);
    return undefined;
  }

  private remember(subject: string, key: SubjectKey, readAt: number): void {
    if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
    this.cache.set(subject, { key, readAt });
  }

  private keyOf(record: DataKeyRecord): SubjectKey {
    if (record.erasedAt || record.wrappedKey === undefined) return 'erased';
    return this.kek.unwrap(record._id, Buffer.from(record.wrappedKey, 'base64'));
  }

  async existingKeys(subjects: Iterable<string>): Promise<Map<string, SubjectKey>> {
    const now = this.now();
    const found = new Map<string, SubjectKey>();
    const missing = new Set<string>();
    for (const subject of subjects) {
      const key = this.cached(subject, now);
      if (key) found.set(subject, key);
      else missing.add(subject);
    }
    if (missing.size === 0) return found;
    const records = await this.guard('read', () => this.keys.find({ _id: { $in: [...missing] } }).toArray());
    for (const record of records) {
      const key = this.keyOf(record);
      this.remember(record._id, key, now);
      found.set(record._id, key);
    }
    return found;
  }

  async keyFor(subject: string): Promise<SubjectKey> {
    const existing = (await this.existingKeys([subject])).get(subject);
    if (existing) return existing;
    const now = this.now();
    const key = randomBytes(32);
    try {
      await this.guard('write', () => this.keys.insertOne({
        _id: subject, wrappedKey: this.kek.wrap(subject, key).toString('base64'), kekId: this.kek.id, createdAt: new Date(now),
      }));
      this.remember(subject, key, now);
      return key;
    } catch (error) {
      if (codeOf(error) !== DUPLICATE_KEY) throw error;
    }
    // Another replica created it (or erased the subject) between our read and our insert: its record is the one.
    const winner = (await this.existingKeys([subject])).get(subject);
    if (!winner) throw new StoreUnavailable(`key store: the data key of ${subject} was reported as existing but cannot be read`);
    return winner;
  }

  async erase(subject: string, at: Date): Promise<boolean> {
    for (let round = 0; round < MAX_ERASE_ROUNDS; round++) {
      const tombstoned = await this.guard('erasure', () => this.keys.updateOne(
        { _id: subject, erasedAt: { $exists: false } },
        { $unset: { wrappedKey: '', kekId: '' }, $set: { erasedAt: at } },
      ));
      if (tombstoned.matchedCount > 0) {
        this.cache.set(subject, { key: 'erased', readAt: this.now() });
        return true;
      }
      try {
        // No key yet (or already erased): a tombstone of its own, so a key is never created for the subject later.
        await this.guard('erasure', () => this.keys.insertOne({ _id: subject, createdAt: at, erasedAt: at }));
        this.cache.set(subject, { key: 'erased', readAt: this.now() });
        return true;
      } catch (error) {
        if (codeOf(error) !== DUPLICATE_KEY) throw error;
      }
      const record = await this.guard('read', () => this.keys.findOne({ _id: subject }));
      if (record?.erasedAt) {
        this.cache.set(subject, { key: 'erased', readAt: this.now() });
        return false;
      }
      // A key was created between the update and the insert: tombstone it in the next round.
    }
    throw new StoreUnavailable(`key store erasure of ${subject} kept losing races with other writers`);
  }

  async erasedSubjects(): Promise<string[]> {
    const records = await this.guard('read', () => this.keys.find({ erasedAt: { $exists: true } }, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray());
    return records.map((r) => r._id);
  }

  /** The database client is the caller's. */
  close(): Promise<void> {
    this.cache.clear();
    return Promise.resolve();
  }
}

import type {
  AnyBulkWriteOperation, Collection, Db, Document, Filter, IndexDescription, MongoBulkWriteError, MongoClient,
} from 'mongodb';
import { FencedOff, ReadModelStoreUnavailable } from '../store/errors';
import type {
  Checkpoint, CheckpointWrite, Doc, DocumentWrite, FieldCondition, FindOptions, IndexSpec, Query, ReadModelStore, Scalar,
} from '../store/read-model-store.port';
import { indexKeys } from '../store/read-model-store.port';

/** Same names as the SQLite adapter accepts, so a projection runs unchanged on both; `checkpoints` is ours. */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const CHECKPOINTS = 'checkpoints';
const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$exists', '$contains']);

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;
/** Driver errors meaning "no server to talk to" (subclasses included, e.g. MongoNetworkTimeoutError). */
const UNAVAILABLE = new Set(['MongoServerSelectionError', 'MongoNetworkError']);

/** A read-model document as stored: `_id`, `_position` and the document's own fields. */
interface StoredDoc {
  _id: string;
  _position: number;
  /** Fencing token of the lease holder that wrote it last (absent: written unfenced). */
  _fence?: number;
  [field: string]: unknown;
}

interface CheckpointDoc {
  _id: string;
  position: number;
  updatedAt: string;
  fence?: number;
}

/** A write that found a stored document at an older position and a fence it may pass lost a race: tried again. */
const CONFLICT_RETRIES = 3;

/** Matches a document (or checkpoint) that the holder of `fence` may overwrite. */
function fenceFilter(field: '_fence' | 'fence', fence: number | undefined): Document {
  if (fence === undefined) return {};
  return { $or: [{ [field]: { $lte: fence } }, { [field]: { $exists: false } }] };
}

function collectionName(collection: string): string {
  if (!NAME.test(collection) || collection === CHECKPOINTS) throw new Error(`invalid collection name ${collection}`);
  return collection;
}

function fieldName(field: string): string {
  if (!FIELD.test(field)) throw new Error(`invalid field name ${field}`);
  return field;
}

/** Our Query is already a subset of MongoDB's; validated so nothing else (`$where`, `$expr`, …) gets through. */
function toFilter(query: Query): Filter<StoredDoc> {
  const filter: Document = {};
  for (const [field, condition] of Object.entries(query)) {
    filter[fieldName(field)] = toCondition(condition);
  }
  return filter;
}

function toCondition(condition: FieldCondition): Scalar | Document {
  if (typeof condition !== 'object' || condition === null) return condition;
  for (const [op, value] of Object.entries(condition)) {
    if (!OPERATORS.has(op)) throw new Error(`unsupported operator ${op}`);
    if (op === '$in' && !Array.isArray(value)) throw new Error('$in needs an array');
  }
  const { $contains: contains, ...rest } = condition;
  // Substring match: a regex of the escaped literal (a text index would serve large collections better).
  return contains === undefined ? { ...rest } : { ...rest, $regex: escapeRegex(contains) };
}

function toDoc(stored: Document): Doc {
  // The rest keeps `_id` and `_position` where they are: no spread that adds properties (see asDoc).
  const { _fence: _ignoredFence, ...doc } = stored;
  if (typeof doc._id !== 'string' || typeof doc._position !== 'number') throw new Error('malformed read-model document');
  return doc as Doc;
}

function errorCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
}

/** A duplicate key on `_id` means "already applied"; one on another unique index is a real error. */
function isIdDuplicate(e: { code?: unknown; errmsg?: unknown; keyPattern?: unknown }): boolean {
  if (e.code !== DUPLICATE_KEY) return false;
  if (typeof e.keyPattern === 'object' && e.keyPattern !== null) return Object.keys(e.keyPattern).join() === '_id';
  return typeof e.errmsg !== 'string' || / index: _id_ /.test(e.errmsg);
}

function isUnavailable(e: unknown): boolean {
  for (let proto: unknown = Object.getPrototypeOf(e); typeof proto === 'object' && proto !== null; proto = Object.getPrototypeOf(proto)) {
    const ctor: unknown = (proto as { constructor?: unknown }).constructor;
    if (typeof ctor === 'function' && UNAVAILABLE.has(ctor.name)) return true;
  }
  return false;
}

function isBulkWriteError(e: unknown): e is MongoBulkWriteError {
  return e instanceof Error && e.name === 'MongoBulkWriteError' && 'writeErrors' in e;
}

/**
 * The operations (by index) whose upsert collided on `_id`: the guard's filter missed a stored document. Whether that
 * is a replay (stored position at or past the write's) or something else is for the caller to find out by reading it.
 * Anything but `_id` duplicates, incl. a write-concern error, is thrown.
 */
function idDuplicatesOf(e: unknown): number[] {
  if (!isBulkWriteError(e) || e.result.getWriteConcernError()) throw e;
  const writeErrors = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
  if (writeErrors.length === 0 || !writeErrors.every((w) => isIdDuplicate({ code: w.code, errmsg: w.errmsg }))) throw e;
  return writeErrors.map((w) => w.index);
}

/** Database from the URI path (`mongodb://host/<db>?…`), if any. */
function dbNameFromUri(uri: string): string | undefined {
  const path = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(uri)?.[1];
  return path ? decodeURIComponent(path) : undefined;
}

/**
 * The MongoDB read-model store: one collection per read-model collection (documents `{ _id, _position, ...fields }`),
 * checkpoints in `checkpoints`. No transactions (DESIGN §6): every document write is guarded by `_position`
 * (`_position < new position`, upsert), so a stale or replayed write collides on `_id` (E11000) and is skipped; the
 * checkpoint is written last and only moves forward. Works on a standalone server.
 */
export class MongoReadModelStore implements ReadModelStore {
  /**
   * Connects to `uri`. Database: `dbName`, else the URI path, else `crm`. The driver is loaded here, lazily, so that
   * importing `@crm/read-models` does not load `mongodb` for SQLite-only deployments.
   */
  static async connect(uri: string, dbName?: string): Promise<MongoReadModelStore> {
    const { MongoClient: Client } = await import('mongodb');
    const client = new Client(uri);
    try {
      await client.connect();
    } catch (e: unknown) {
      await client.close().catch(() => undefined);
      throw MongoReadModelStore.mapError(e);
    }
    return new MongoReadModelStore(client, client.db(dbName ?? dbNameFromUri(uri) ?? 'crm'));
  }

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  /** The connected database, for this process's other collections in it (idempotency keys): one client per process. */
  get database(): Db {
    return this.db;
  }

  private static mapError(e: unknown): unknown {
    if (!isUnavailable(e)) return e;
    return new ReadModelStoreUnavailable(`read-model store unavailable: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (e: unknown) {
      throw MongoReadModelStore.mapError(e);
    }
  }

  private coll(collection: string): Collection<StoredDoc> {
    return this.db.collection<StoredDoc>(collectionName(collection));
  }

  private get checkpoints(): Collection<CheckpointDoc> {
    return this.db.collection<CheckpointDoc>(CHECKPOINTS);
  }

  async ensureCollection(collection: string, indexes: readonly IndexSpec[]): Promise<void> {
    const coll = this.coll(collection);
    if (indexes.length === 0) return; // MongoDB creates collections on first write
    const descriptions: IndexDescription[] = indexes.map((index) => {
      const fields = indexKeys(index);
      return {
        key: new Map(fields.map(([f, d]) => [fieldName(f), d] as const)),
        name: fields.map(([f, d]) => `${f}_${d}`).join('_'),
        ...(index.unique ? { unique: true } : {}),
      };
    });
    await this.guard(() => coll.createIndexes(descriptions));
  }

  async dropCollection(collection: string): Promise<void> {
    const name = collectionName(collection);
    await this.guard(async () => {
      try {
        await this.db.dropCollection(name);
      } catch (e: unknown) {
        if (errorCode(e) !== NAMESPACE_NOT_FOUND) throw e;
      }
    });
  }

  async listCollections(): Promise<string[]> {
    const found = await this.guard(() => this.db.listCollections({}, { nameOnly: true }).toArray());
    return found.map((c) => c.name).filter((name) => name !== CHECKPOINTS && NAME.test(name)).sort();
  }

  async rewrite(collection: string, query: Query, evolve: (doc: Doc) => Readonly<Record<string, unknown>> | null): Promise<number> {
    const coll = this.coll(collection);
    const stored = await this.guard(() => coll.find(toFilter(query)).toArray());
    let changed = 0;
    for (const raw of stored) {
      const doc = toDoc(raw);
      const fence = raw._fence === undefined ? {} : { _fence: raw._fence };
      const next = evolve(doc);
      const filter = { _id: doc._id, _position: doc._position };
      if (next === null) {
        changed += (await this.guard(() => coll.deleteOne(filter))).deletedCount;
        continue;
      }
      const { _id: _ignoredId, _position: _ignoredPosition, ...fields } = next;
      const { _id: _currentId, _position: _currentPosition, ...current } = doc;
      if (JSON.stringify(fields) === JSON.stringify(current)) continue; // masked already: nothing to write
      changed += (await this.guard(() => coll.replaceOne(filter, { ...fields, ...fence, _id: doc._id, _position: doc._position }))).matchedCount;
    }
    return changed;
  }

  async get(collection: string, id: string): Promise<Doc | null> {
    const coll = this.coll(collection);
    const found = await this.guard(() => coll.findOne({ _id: id }));
    return found ? toDoc(found) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, Doc>> {
    const coll = this.coll(collection);
    const result = new Map<string, Doc>();
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const found = await this.guard(() => coll.find({ _id: { $in: chunk } }).toArray());
      for (const stored of found) {
        const d = toDoc(stored);
        result.set(d._id, d);
      }
    }
    return result;
  }

  async find(collection: string, query: Query, options: FindOptions = {}): Promise<Doc[]> {
    const coll = this.coll(collection);
    const filter = toFilter(query);
    if (options.limit === 0) return []; // as SQL LIMIT 0 (MongoDB would read "no limit")
    const sort = new Map<string, 1 | -1>(options.sort?.map(([f, d]) => [fieldName(f), d] as const));
    if (!sort.has('_id')) sort.set('_id', 1);
    const found = await this.guard(() =>
      coll.find(filter, {
        sort,
        ...(options.skip ? { skip: options.skip } : {}),
        ...(options.limit !== undefined && options.limit > 0 ? { limit: options.limit } : {}),
      }).toArray(),
    );
    return found.map(toDoc);
  }

  async count(collection: string, query: Query): Promise<number> {
    const coll = this.coll(collection);
    const filter = toFilter(query);
    return this.guard(() => coll.countDocuments(filter));
  }

  async applyBatch(writes: readonly DocumentWrite[], checkpoint: CheckpointWrite): Promise<void> {
    const { fence } = checkpoint;
    // A fenced batch first raises the checkpoint's fence to its own (refused if a newer holder raised it higher): from
    // then on the previous holder's checkpoint writes are refused, and its document writes wherever this batch wrote.
    if (fence !== undefined) await this.claimFence(checkpoint.projection, fence);
    // One operation per document: its newest write (the earliest on equal positions), which is what applying the
    // writes one by one with the position guard leaves behind. Unordered bulk writes may then run in any order.
    const latest = new Map<string, Map<string, DocumentWrite>>();
    for (const w of writes) {
      const name = collectionName(w.collection);
      const byId = latest.get(name) ?? new Map<string, DocumentWrite>();
      latest.set(name, byId);
      const previous = byId.get(w.id);
      if (!previous || w.position > previous.position) byId.set(w.id, w);
    }
    const results = await Promise.allSettled(
      [...latest].map(([collection, byId]) => this.writeDocuments(collection, [...byId.values()], checkpoint)),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw MongoReadModelStore.mapError(failure.reason);

    await this.moveCheckpoint(checkpoint);
  }

  /**
   * Position-guarded (and fence-guarded) upserts. An E11000 on `_id` means the filter missed a stored document: a
   * replay when its position is at or past the write's (skipped); a newer lease holder's when its fence is higher
   * (FencedOff); otherwise the document changed between filter and insert (another writer): the write is tried again.
   */
  private async writeDocuments(collection: string, writes: readonly DocumentWrite[], checkpoint: CheckpointWrite): Promise<void> {
    const { fence } = checkpoint;
    const coll = this.db.collection<StoredDoc>(collection);
    let pending = writes;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      const operations = pending.map((w): AnyBulkWriteOperation<StoredDoc> => {
        const filter: Filter<StoredDoc> = { _id: w.id, _position: { $lt: w.position }, ...fenceFilter('_fence', fence) };
        if (w.doc === null) return { deleteOne: { filter } };
        const { _id: _ignoredId, _position: _ignoredPosition, _fence: _ignoredFence, ...fields } = w.doc;
        return {
          replaceOne: { filter, replacement: Object.assign({}, fields, { _id: w.id, _position: w.position }, fence === undefined ? {} : { _fence: fence }), upsert: true },
        };
      });
      let collided: DocumentWrite[];
      try {
        await coll.bulkWrite(operations, { ordered: false });
        return;
      } catch (e: unknown) {
        collided = idDuplicatesOf(e).map((i) => pending[i]).filter((w): w is DocumentWrite => w !== undefined);
      }
      const stored = await this.guard(() => coll.find({ _id: { $in: collided.map((w) => w.id) } }).toArray());
      const byId = new Map(stored.map((d) => [d._id, d]));
      const retry: DocumentWrite[] = [];
      for (const w of collided) {
        const current = byId.get(w.id);
        if (current === undefined) {
          retry.push(w); // deleted meanwhile
          continue;
        }
        if (current._position >= w.position) continue; // already applied
        if (fence !== undefined && typeof current._fence === 'number' && current._fence > fence) {
          throw new FencedOff([checkpoint.projection], fence);
        }
        retry.push(w);
      }
      if (retry.length > 0 && attempt >= CONFLICT_RETRIES) {
        throw new Error(`read-model write conflict on ${collection} ${retry.map((w) => w.id).join(', ')}: stored documents keep changing`);
      }
      pending = retry;
    }
  }

  async saveCheckpoints(checkpoints: ReadonlyArray<CheckpointWrite>): Promise<void> {
    const results = await Promise.allSettled(checkpoints.map((c) => this.moveCheckpoint(c)));
    const refused = checkpoints.filter((_c, i) => {
      const r = results[i];
      return r?.status === 'rejected' && r.reason instanceof FencedOff;
    });
    const other = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof FencedOff));
    if (other) throw other.reason;
    if (refused.length > 0) throw new FencedOff(refused.map((c) => c.projection), Math.min(...refused.map((c) => c.fence ?? 0)));
  }

  /** Raises the checkpoint's fence to `fence` unless a newer holder's is there (FencedOff). */
  private async claimFence(projection: string, fence: number): Promise<void> {
    await this.guard(async () => {
      try {
        await this.checkpoints.updateOne(
          { _id: projection, ...fenceFilter('fence', fence) },
          { $max: { fence }, $setOnInsert: { position: 0, updatedAt: new Date().toISOString() } },
          { upsert: true },
        );
      } catch (e: unknown) {
        const fields = typeof e === 'object' && e !== null ? (e as { code?: unknown; errmsg?: unknown; keyPattern?: unknown }) : {};
        if (!isIdDuplicate(fields)) throw e;
        throw new FencedOff([projection], fence); // the filter missed the checkpoint: its fence is higher
      }
    });
  }

  /** Only forward; with a fence, only while no newer holder raised the checkpoint's fence. */
  private moveCheckpoint(checkpoint: CheckpointWrite): Promise<void> {
    const { projection, position, fence } = checkpoint;
    return this.guard(async () => {
      try {
        await this.checkpoints.updateOne(
          { _id: projection, position: { $lt: position }, ...fenceFilter('fence', fence) },
          { $set: { position, updatedAt: new Date().toISOString() }, ...(fence === undefined ? {} : { $max: { fence } }) },
          { upsert: true },
        );
      } catch (e: unknown) {
        const fields = typeof e === 'object' && e !== null ? (e as { code?: unknown; errmsg?: unknown; keyPattern?: unknown }) : {};
        if (!isIdDuplicate(fields)) throw e;
        // Already at or past this position, or fenced: the stored checkpoint says which.
        if (fence === undefined) return;
        const stored = await this.checkpoints.findOne({ _id: projection });
        if (typeof stored?.fence === 'number' && stored.fence > fence) throw new FencedOff([projection], fence);
      }
    });
  }

  async getCheckpoint(projection: string): Promise<Checkpoint | null> {
    const found = await this.guard(() => this.checkpoints.findOne({ _id: projection }));
    return found ? { projection: found._id, position: found.position, updatedAt: found.updatedAt, fence: found.fence ?? 0 } : null;
  }

  async listCheckpoints(prefix: string): Promise<Checkpoint[]> {
    const found = await this.guard(() => this.checkpoints.find({ _id: { $regex: `^${escapeRegex(prefix)}` } }).sort({ _id: 1 }).toArray());
    return found.map((c) => ({ projection: c._id, position: c.position, updatedAt: c.updatedAt, fence: c.fence ?? 0 }));
  }

  async deleteCheckpoint(projection: string): Promise<void> {
    await this.guard(() => this.checkpoints.deleteOne({ _id: projection }));
  }

  /** MongoDB keeps no WAL we could truncate from here; journal and oplog retention are the server's (docs/privacy.md). */
  async compact(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

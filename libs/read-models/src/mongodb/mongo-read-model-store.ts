import type {
  AnyBulkWriteOperation, Collection, Db, Document, Filter, IndexDescription, MongoBulkWriteError, MongoClient,
} from 'mongodb';
import { ReadModelStoreUnavailable } from '../store/errors';
import type {
  Checkpoint, Doc, DocumentWrite, FieldCondition, FindOptions, IndexSpec, Query, ReadModelStore, Scalar,
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
  [field: string]: unknown;
}

interface CheckpointDoc {
  _id: string;
  position: number;
  updatedAt: string;
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
  const { _id: id, _position: position, ...fields } = stored;
  if (typeof id !== 'string' || typeof position !== 'number') throw new Error('malformed read-model document');
  return { ...fields, _id: id, _position: position };
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

/** Only `_id` duplicates (stale or replayed writes) are benign; anything else, incl. a write-concern error, is not. */
function rethrowUnlessReplays(e: unknown): void {
  if (!isBulkWriteError(e) || e.result.getWriteConcernError()) throw e;
  const writeErrors = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
  if (writeErrors.length === 0 || !writeErrors.every((w) => isIdDuplicate({ code: w.code, errmsg: w.errmsg }))) throw e;
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
    const docs = await this.find(collection, query);
    let changed = 0;
    for (const doc of docs) {
      const next = evolve(doc);
      const filter = { _id: doc._id, _position: doc._position };
      if (next === null) {
        changed += (await this.guard(() => coll.deleteOne(filter))).deletedCount;
        continue;
      }
      const { _id: _ignoredId, _position: _ignoredPosition, ...fields } = next;
      const { _id: _currentId, _position: _currentPosition, ...current } = doc;
      if (JSON.stringify(fields) === JSON.stringify(current)) continue; // masked already: nothing to write
      changed += (await this.guard(() => coll.replaceOne(filter, { ...fields, _id: doc._id, _position: doc._position }))).matchedCount;
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

  async applyBatch(writes: readonly DocumentWrite[], checkpoint: { projection: string; position: number }): Promise<void> {
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
      [...latest].map(async ([collection, byId]) => {
        const operations = [...byId.values()].map((w): AnyBulkWriteOperation<StoredDoc> => {
          const filter = { _id: w.id, _position: { $lt: w.position } };
          if (w.doc === null) return { deleteOne: { filter } };
          const { _id: _ignoredId, _position: _ignoredPosition, ...fields } = w.doc;
          return { replaceOne: { filter, replacement: { ...fields, _id: w.id, _position: w.position }, upsert: true } };
        });
        try {
          await this.db.collection<StoredDoc>(collection).bulkWrite(operations, { ordered: false });
        } catch (e: unknown) {
          rethrowUnlessReplays(e);
        }
      }),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw MongoReadModelStore.mapError(failure.reason);

    await this.moveCheckpoint(checkpoint.projection, checkpoint.position);
  }

  async saveCheckpoints(checkpoints: ReadonlyArray<{ projection: string; position: number }>): Promise<void> {
    await Promise.all(checkpoints.map((c) => this.moveCheckpoint(c.projection, c.position)));
  }

  private moveCheckpoint(projection: string, position: number): Promise<void> {
    return this.guard(async () => {
      try {
        await this.checkpoints.updateOne(
          { _id: projection, position: { $lt: position } },
          { $set: { position, updatedAt: new Date().toISOString() } },
          { upsert: true },
        );
      } catch (e: unknown) {
        const fields = typeof e === 'object' && e !== null ? (e as { code?: unknown; errmsg?: unknown; keyPattern?: unknown }) : {};
        if (!isIdDuplicate(fields)) throw e; // already at or past this position
      }
    });
  }

  async getCheckpoint(projection: string): Promise<Checkpoint | null> {
    const found = await this.guard(() => this.checkpoints.findOne({ _id: projection }));
    return found ? { projection: found._id, position: found.position, updatedAt: found.updatedAt } : null;
  }

  async listCheckpoints(prefix: string): Promise<Checkpoint[]> {
    const found = await this.guard(() => this.checkpoints.find({ _id: { $regex: `^${escapeRegex(prefix)}` } }).sort({ _id: 1 }).toArray());
    return found.map((c) => ({ projection: c._id, position: c.position, updatedAt: c.updatedAt }));
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

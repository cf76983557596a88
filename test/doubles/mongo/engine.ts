/** The double's state and commands (mingo evaluates queries and updates); see ../mongo-wire-double.ts for the scope. */
import { Aggregator, ProcessingMode, Query, update as applyUpdate } from 'mingo';
import { BSON, type Document } from 'mongodb';
import { CommandError } from './errors';
import { RetryableWrites } from './retryable-writes';

interface Index { readonly name: string; readonly key: Document; readonly unique: boolean; readonly expireAfterSeconds?: number }
interface Collection { docs: Document[]; readonly indexes: Index[] }
interface OpenCursor { readonly ns: string; readonly docs: Document[] }


const isObject = (v: unknown): v is Document =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
const asDoc = (v: unknown): Document => (isObject(v) ? v : {});
const asDocs = (v: unknown): Document[] => (Array.isArray(v) ? v.filter(isObject) : []);
const asNum = (v: unknown): number | undefined => (v instanceof BSON.Long ? v.toNumber() : typeof v === 'number' ? v : undefined);
const isOperatorDoc = (v: Document): boolean => Object.keys(v).some((k) => k.startsWith('$'));
const clone = (d: Document): Document => BSON.deserialize(BSON.serialize(d));
const sameBytes = (a: Document, b: Document): boolean => Buffer.from(BSON.serialize(a)).equals(BSON.serialize(b));
/** Value equality as BSON sees it (field order matters in embedded documents, as on the server). */
const isEqual = (a: unknown, b: unknown): boolean => sameBytes({ v: a }, { v: b });
const keyOrder = (key: Document): string => JSON.stringify(Object.entries(key));
/** A dotted path's value, missing as null (no traversal of arrays: multikey indexes are not modelled). */
const field = (d: Document, path: string): unknown =>
  path.split('.').reduce<unknown>((at, p) => (isObject(at) ? at[p] : undefined), d) ?? null;
const withId = (d: Document): Document => ('_id' in d ? d : { _id: new BSON.ObjectId(), ...d });

function setPath(d: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  const last = parts.pop() ?? path;
  let at = d;
  for (const p of parts) at = isObject(at[p]) ? at[p] : (at[p] = {});
  at[last] = value;
}

/** The document an upsert starts from: the filter's equality fields (`f: v`, `f: { $eq: v }`, inside `$and`). */
function equalityFields(q: Document, into: Document = {}): Document {
  for (const [k, v] of Object.entries(q)) {
    if (k === '$and') asDocs(v).forEach((sub) => equalityFields(sub, into));
    else if (k.startsWith('$')) continue;
    else if (!isObject(v) || !isOperatorDoc(v)) setPath(into, k, v);
    else if ('$eq' in v) setPath(into, k, v.$eq);
  }
  return into;
}

/** The filter is plain equality on exactly the fields of `keyPattern` (mongod's condition for retrying an upsert). */
function onlyEqualityOn(filter: Document, keyPattern: Document): boolean {
  const fields = Object.keys(filter);
  const keys = Object.keys(keyPattern);
  return fields.length === keys.length && keys.every((k) => k in filter && !(isObject(filter[k]) && isOperatorDoc(filter[k])));
}

/** Thrown after a write was applied when a test asked for its reply to be lost: the connection is closed instead. */
export class DropConnection extends Error {}

/** An upsert whose filter matched nothing, about to insert: the race window of two concurrent upserts on mongod. */
export interface PendingUpsert { readonly ns: string; readonly filter: Document; readonly connectionId: number }

export interface EngineOptions {
  /** Replica-set name to announce (a single-node primary), or undefined for a standalone. */
  readonly replicaSet?: string;
  /** Awaited between an upsert's (missed) match and its insert; other connections' commands run meanwhile. */
  readonly upsertGate?: (upsert: PendingUpsert) => Promise<void> | void;
}

const WRITES = new Set(['insert', 'update', 'delete']);

export class MongoDouble {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  private readonly cursors = new Map<number, OpenCursor>();
  private readonly retryable = new RetryableWrites();
  private readonly electionId = new BSON.ObjectId();
  private nextCursorId = 1;
  /** `host:port` as clients reach it (the replica set's only member); set once the server listens. */
  address = '';
  /** Write commands still to apply whose reply is then lost (connection closed): a test hook for retryable writes. */
  dropWriteReplies = 0;

  constructor(private readonly options: EngineOptions = {}) {}

  async run(cmd: Document, db: string, connectionId: number): Promise<Document> {
    const name = Object.keys(cmd)[0] ?? '';
    let reply: Document;
    try {
      reply = await this.runRetryable(name, cmd, db, connectionId);
    } catch (e: unknown) {
      if (e instanceof CommandError) return { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName, ...e.extra };
      return { ok: 0, errmsg: e instanceof Error ? e.message : String(e), code: 2, codeName: 'BadValue' };
    }
    if (WRITES.has(name) && this.dropWriteReplies > 0) {
      this.dropWriteReplies -= 1;
      throw new DropConnection(`reply to ${name} dropped by the test hook`);
    }
    return reply;
  }

  /** A write with `lsid` + `txnNumber` runs once per session and number; a retry gets the recorded reply (as mongod). */
  private async runRetryable(name: string, cmd: Document, db: string, connectionId: number): Promise<Document> {
    if (cmd.startTransaction !== undefined || cmd.autocommit !== undefined) {
      throw new CommandError(20, 'IllegalOperation', this.options.replicaSet === undefined
        ? 'Transaction numbers are only allowed on a replica set member or mongos'
        : 'multi-document transactions are not modelled by the double');
    }
    if (cmd.txnNumber === undefined) return { ...(await this.dispatch(name, cmd, db, connectionId)), ok: 1 };
    if (this.options.replicaSet === undefined) {
      throw new CommandError(20, 'IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    if (!WRITES.has(name)) throw new CommandError(50768, 'NotARetryableWriteCommand', `txnNumber may only be provided for multi-document transactions and retryable write commands. txnNumber was provided for ${name}`);
    const txn = this.retryable.begin(cmd.lsid, cmd.txnNumber);
    if (txn.recorded) return txn.recorded;
    const reply = { ...(await this.dispatch(name, cmd, db, connectionId)), ok: 1 };
    txn.record(reply);
    return reply;
  }

  private hello(connectionId: number): Document {
    const standalone = {
      helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000, maxWriteBatchSize: 100_000, localTime: new Date(),
      logicalSessionTimeoutMinutes: 30, connectionId, minWireVersion: 0, maxWireVersion: 21, readOnly: false,
    };
    const setName = this.options.replicaSet;
    if (setName === undefined) return standalone;
    // Single-node replica set: the driver's SDAM needs setName + isWritablePrimary (RSPrimary), `me` equal to the
    // address it dialled (else it drops the member), and electionId/setVersion stable across hellos.
    const now = new Date();
    const opTime = { ts: BSON.Timestamp.fromBits(0, Math.floor(now.getTime() / 1000)), t: BSON.Long.fromNumber(1) };
    return {
      ...standalone, setName, setVersion: 1, electionId: this.electionId, secondary: false,
      hosts: [this.address], me: this.address, primary: this.address,
      lastWrite: { opTime, lastWriteDate: now, majorityOpTime: opTime, majorityWriteDate: now },
    };
  }

  private async dispatch(name: string, cmd: Document, db: string, connectionId: number): Promise<Document> {
    const collName = String(cmd[name]);
    const ns = `${db}.${collName}`;
    switch (name) {
      case 'hello': case 'isMaster': case 'ismaster':
        return this.hello(connectionId);
      case 'ping': case 'endSessions':
        return {};
      case 'buildInfo': case 'buildinfo':
        return { version: '7.0.0', versionArray: [7, 0, 0, 0], gitVersion: 'mongo-wire-double', bits: 64, maxBsonObjectSize: 16 * 1024 * 1024 };
      case 'find': {
        let cursor = new Query(asDoc(cmd.filter)).find<Document>(this.coll(db, collName)?.docs ?? [], isObject(cmd.projection) ? cmd.projection : undefined);
        if (isObject(cmd.sort)) cursor = cursor.sort(cmd.sort);
        if (asNum(cmd.skip)) cursor = cursor.skip(asNum(cmd.skip) ?? 0);
        const limit = asNum(cmd.limit) ?? 0;
        if (limit) cursor = cursor.limit(Math.abs(limit));
        return this.cursorReply(ns, cursor.all(), asNum(cmd.batchSize), cmd.singleBatch === true || limit < 0);
      }
      case 'aggregate': {
        const pipeline = asDocs(cmd.pipeline);
        if (pipeline.some((s) => '$out' in s || '$merge' in s)) throw new CommandError(2, 'BadValue', '$out/$merge are not modelled by the double');
        const source = typeof cmd.aggregate === 'string' ? this.coll(db, collName)?.docs ?? [] : [];
        const docs = new Aggregator(pipeline, { processingMode: ProcessingMode.CLONE_INPUT }).run<Document>(source);
        return this.cursorReply(typeof cmd.aggregate === 'string' ? ns : `${db}.$cmd.aggregate`, docs, asNum(asDoc(cmd.cursor).batchSize));
      }
      case 'getMore': {
        const id = asNum(cmd.getMore) ?? 0;
        const cursor = this.cursors.get(id);
        if (!cursor) throw new CommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
        const batch = cursor.docs.splice(0, asNum(cmd.batchSize) || cursor.docs.length);
        if (cursor.docs.length === 0) this.cursors.delete(id);
        return { cursor: { id: BSON.Long.fromNumber(cursor.docs.length ? id : 0), ns: cursor.ns, nextBatch: batch } };
      }
      case 'killCursors': {
        const ids = (Array.isArray(cmd.cursors) ? cmd.cursors : []).map(asNum).filter((id): id is number => id !== undefined);
        const killed = ids.filter((id) => this.cursors.delete(id));
        const longs = (xs: number[]): BSON.Long[] => xs.map((id) => BSON.Long.fromNumber(id));
        return { cursorsKilled: longs(killed), cursorsNotFound: longs(ids.filter((id) => !killed.includes(id))), cursorsAlive: [], cursorsUnknown: [] };
      }
      case 'count': {
        const docs = this.filter(this.coll(db, collName), asDoc(cmd.query)).slice(asNum(cmd.skip) ?? 0);
        const limit = Math.abs(asNum(cmd.limit) ?? 0);
        return { n: limit ? Math.min(limit, docs.length) : docs.length };
      }
      case 'insert': {
        const c = this.coll(db, collName, true);
        return this.writeBatch(cmd, asDocs(cmd.documents), async (d) => {
          this.insertChecked(ns, c, withId(d));
          return { n: 1 };
        });
      }
      case 'update': {
        const c = this.coll(db, collName, true);
        return this.writeBatch(cmd, asDocs(cmd.updates), (u, index) => this.updateOp(ns, c, u, index, connectionId));
      }
      case 'delete': {
        const c = this.coll(db, collName);
        return this.writeBatch(cmd, asDocs(cmd.deletes), async (d) => {
          const matched = this.filter(c, asDoc(d.q));
          const gone = new Set(asNum(d.limit) === 1 ? matched.slice(0, 1) : matched);
          if (c) c.docs = c.docs.filter((x) => !gone.has(x));
          return { n: gone.size };
        });
      }
      case 'createIndexes':
        return this.createIndexes(ns, db, collName, asDocs(cmd.indexes));
      case 'listIndexes': {
        const c = this.coll(db, collName);
        if (!c) throw new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${ns}`);
        return this.cursorReply(ns, c.indexes.map((i) => ({
          v: 2, key: i.key, name: i.name, ...(i.unique && i.name !== '_id_' ? { unique: true } : {}),
          ...(i.expireAfterSeconds !== undefined ? { expireAfterSeconds: i.expireAfterSeconds } : {}),
        })));
      }
      case 'create':
        if (this.coll(db, collName)) throw new CommandError(48, 'NamespaceExists', `Collection ${ns} already exists.`);
        this.coll(db, collName, true);
        return {};
      case 'drop': {
        const c = this.coll(db, collName);
        this.dbs.get(db)?.delete(collName);
        return c ? { ns, nIndexesWas: c.indexes.length } : {};
      }
      case 'dropDatabase':
        this.dbs.delete(db);
        return { dropped: db };
      case 'listCollections': {
        const all = [...(this.dbs.get(db)?.keys() ?? [])].map((n) => ({
          name: n, type: 'collection', options: {}, info: { readOnly: false }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
        }));
        return this.cursorReply(`${db}.$cmd.listCollections`, new Query(asDoc(cmd.filter)).find<Document>(all).all(), asNum(asDoc(cmd.cursor).batchSize));
      }
      default:
        throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
    }
  }

  private coll(db: string, name: string): Collection | undefined;
  private coll(db: string, name: string, create: true): Collection;
  private coll(db: string, name: string, create = false): Collection | undefined {
    let colls = this.dbs.get(db);
    if (!colls && create) this.dbs.set(db, (colls = new Map()));
    let c = colls?.get(name);
    if (!c && create && colls) colls.set(name, (c = { docs: [], indexes: [{ name: '_id_', key: { _id: 1 }, unique: true }] }));
    return c;
  }

  private filter(c: Collection | undefined, q: Document): Document[] {
    return new Query(q).find<Document>(c?.docs ?? []).all();
  }

  private cursorReply(ns: string, docs: Document[], batchSize?: number, singleBatch = false): Document {
    const size = batchSize ?? 101;
    const firstBatch = docs.slice(0, size);
    let id = 0;
    if (docs.length > size && !singleBatch) this.cursors.set((id = this.nextCursorId++), { ns, docs: docs.slice(size) });
    return { cursor: { id: BSON.Long.fromNumber(id), ns, firstBatch } };
  }

  /** Runs the ops of one write command; write errors are collected, and an ordered batch stops at the first one. */
  private async writeBatch(cmd: Document, ops: Document[], apply: (op: Document, index: number) => Promise<Document>): Promise<Document> {
    let [n, nModified] = [0, 0];
    const upserted: Document[] = [];
    const writeErrors: Document[] = [];
    for (const [index, op] of ops.entries()) {
      try {
        const r = await apply(op, index);
        n += asNum(r.n) ?? 0;
        nModified += asNum(r.nModified) ?? 0;
        if (isObject(r.upserted)) upserted.push(r.upserted);
      } catch (e: unknown) {
        if (e instanceof CommandError) writeErrors.push({ index, code: e.code, codeName: e.codeName, errmsg: e.message, ...e.extra });
        else writeErrors.push({ index, code: 2, codeName: 'BadValue', errmsg: e instanceof Error ? e.message : String(e) });
        if (cmd.ordered !== false) break;
      }
    }
    return {
      n, ...('updates' in cmd ? { nModified } : {}), ...(upserted.length ? { upserted } : {}), ...(writeErrors.length ? { writeErrors } : {}),
    };
  }

  /** `_id` and every unique index: no other document (than `self`) may have the same key. */
  private checkUnique(ns: string, c: Collection, doc: Document, self?: Document): void {
    for (const index of c.indexes.filter((i) => i.unique)) {
      const fields = Object.keys(index.key);
      const clash = c.docs.find((other) => other !== self && fields.every((f) => isEqual(field(other, f), field(doc, f))));
      if (!clash) continue;
      const keyValue = Object.fromEntries(fields.map((f) => [f, field(doc, f)]));
      const shown = fields.map((f) => `${f}: ${BSON.EJSON.stringify(field(doc, f))}`).join(', ');
      throw new CommandError(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: { ${shown} }`,
        { keyPattern: index.key, keyValue });
    }
  }

  private insertChecked(ns: string, c: Collection, doc: Document): void {
    this.checkUnique(ns, c, doc);
    c.docs.push(doc);
  }

  private replaceChecked(ns: string, c: Collection, old: Document, next: Document): boolean {
    if (!isEqual(old._id, next._id)) {
      throw new CommandError(66, 'ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
    }
    this.checkUnique(ns, c, next, old);
    c.docs[c.docs.indexOf(old)] = next;
    return !sameBytes(old, next);
  }

  /** The new version of `old` (or, on upsert, of the base document) for an operator or replacement update. */
  private updated(base: Document, u: Document, arrayFilters: Document[] | undefined, inserting: boolean): Document {
    if (!isOperatorDoc(u)) return { _id: base._id, ...u };
    const { $setOnInsert, ...ops } = u;
    if (inserting && isObject($setOnInsert)) ops.$set = { ...asDoc(ops.$set), ...$setOnInsert };
    const next = clone(base);
    applyUpdate(next, ops, arrayFilters);
    return next;
  }

  private async updateOp(ns: string, c: Collection, op: Document, index: number, connectionId: number, gated = true): Promise<Document> {
    if (Array.isArray(op.u)) throw new CommandError(2, 'BadValue', 'pipeline updates are not modelled by the double');
    const u = asDoc(op.u);
    if (op.multi === true && !isOperatorDoc(u)) throw new CommandError(9, 'FailedToParse', 'multi update is not supported for replacement-style update');
    const matched = this.filter(c, asDoc(op.q));
    const targets = op.multi === true ? matched : matched.slice(0, 1);
    const arrayFilters = Array.isArray(op.arrayFilters) ? asDocs(op.arrayFilters) : undefined;
    if (targets.length === 0 && op.upsert === true) {
      const base = equalityFields(asDoc(op.q));
      const doc = withId(isOperatorDoc(u) ? this.updated(base, u, arrayFilters, true) : { ...u, ...('_id' in base ? { _id: base._id } : {}) });
      const gate = gated ? this.options.upsertGate : undefined;
      if (gate) await gate({ ns, filter: asDoc(op.q), connectionId });
      try {
        this.insertChecked(ns, c, doc);
      } catch (e: unknown) {
        // mongod (4.2+) retries an upsert that lost the insert race itself when its filter is nothing but equality
        // on the colliding unique index's fields; any other filter (a position guard) surfaces the E11000.
        const retriedByServer = gate && e instanceof CommandError && e.code === 11000 && onlyEqualityOn(asDoc(op.q), asDoc(e.extra.keyPattern));
        if (!retriedByServer) throw e;
        return this.updateOp(ns, c, op, index, connectionId, false);
      }
      return { n: 1, upserted: { index, _id: doc._id } };
    }
    let nModified = 0;
    for (const old of targets) if (this.replaceChecked(ns, c, old, this.updated(old, u, arrayFilters, false))) nModified += 1;
    return { n: targets.length, nModified };
  }

  private createIndexes(ns: string, db: string, collName: string, specs: Document[]): Document {
    const created = !this.coll(db, collName);
    const c = this.coll(db, collName, true);
    const numIndexesBefore = c.indexes.length;
    for (const spec of specs) {
      const key = asDoc(spec.key);
      const name = typeof spec.name === 'string' ? spec.name : Object.entries(key).map(([f, d]) => `${f}_${String(d)}`).join('_');
      const unique = spec.unique === true;
      const expireAfterSeconds = asNum(spec.expireAfterSeconds);
      const sameName = c.indexes.find((i) => i.name === name);
      if (sameName && (keyOrder(sameName.key) !== keyOrder(key) || sameName.unique !== unique)) {
        throw new CommandError(86, 'IndexKeySpecsConflict', `An existing index has the same name as the requested index: ${name}`);
      }
      if (sameName && sameName.expireAfterSeconds !== expireAfterSeconds) {
        throw new CommandError(85, 'IndexOptionsConflict', `An equivalent index already exists with the same name but different options: ${name}`);
      }
      if (sameName) continue;
      if (c.indexes.some((i) => keyOrder(i.key) === keyOrder(key))) {
        throw new CommandError(85, 'IndexOptionsConflict', `Index already exists with a different name: ${name}`);
      }
      const index: Index = { name, key, unique, ...(expireAfterSeconds !== undefined ? { expireAfterSeconds } : {}) };
      if (unique) {
        const probe: Collection = { docs: [], indexes: [index] };
        for (const d of c.docs) this.insertChecked(ns, probe, d);
      }
      c.indexes.push(index);
    }
    return { numIndexesBefore, numIndexesAfter: c.indexes.length, createdCollectionAutomatically: created };
  }
}


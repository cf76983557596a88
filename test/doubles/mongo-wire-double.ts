/**
 * In-process test double of a standalone MongoDB server (wire version 21, i.e. 7.0), speaking the real wire protocol
 * so the real `mongodb` driver (7.9) can be used against it: `mongodb://127.0.0.1:<port>/?directConnection=true`.
 * Queries, sorts, projections, update operators and aggregation pipelines are evaluated by `mingo`.
 *
 * Modelled:
 * - Framing: legacy OP_QUERY (the driver's first isMaster of each connection) answered with OP_REPLY; OP_MSG with
 *   kind-0 bodies and kind-1 document sequences (merged into the command), optional checksum, `moreToCome` (no reply).
 * - Commands: hello/isMaster/ismaster, ping, buildInfo, endSessions; find/getMore/killCursors (filter, sort, skip,
 *   limit, projection, batchSize, singleBatch; BSON Long cursor ids); insert; update (operators through mingo,
 *   replacement documents, multi, upsert built from the filter's equality fields, `$setOnInsert`); delete (limit 0/1);
 *   count; aggregate (mingo pipeline, returned as a cursor); createIndexes/listIndexes (recorded, with
 *   `expireAfterSeconds` of TTL indexes, added for the idempotency store; `_id` and `unique` indexes enforced with
 *   E11000 DuplicateKey write errors carrying keyPattern/keyValue, also when an upsert's filter misses a document
 *   whose `_id` exists: the idempotency store's "claim if absent or expired");
 *   create, drop (no error when missing, as 7.0), dropDatabase, listCollections. Ordered batches stop at the first
 *   write error, unordered ones go on. Unknown commands answer CommandNotFound (59); transaction and retryable-write
 *   fields (`txnNumber`, `startTransaction`) answer IllegalOperation (20), as a real standalone does.
 *
 * Not modelled: replica sets and sharding, transactions, change streams, retryable writes, read/write-concern
 * semantics, auth/TLS/compression, index-backed query plans (every query is a full scan; non-unique indexes are only
 * recorded), multikey/sparse/partial/text/geo indexes, TTL deletion (the index is recorded, nothing expires), collations, int32/int64/double distinctions (all numbers
 * are JS numbers), Decimal128 arithmetic, document/message size limits, cursor timeouts, `$out`/`$merge`, pipeline
 * updates, findAndModify (unused by the adapter), validators, explain, real concurrency (commands run one at a time),
 * durability (memory only), and any difference between mingo's and the server's evaluation of edge cases.
 */
import * as net from 'node:net';
import { Aggregator, ProcessingMode, Query, update as applyUpdate } from 'mingo';
import { BSON, type Document } from 'mongodb';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

interface Index { readonly name: string; readonly key: Document; readonly unique: boolean; readonly expireAfterSeconds?: number }
interface Collection { docs: Document[]; readonly indexes: Index[] }
interface OpenCursor { readonly ns: string; readonly docs: Document[] }

class CommandError extends Error {
  constructor(readonly code: number, readonly codeName: string, message: string, readonly extra: Document = {}) {
    super(message);
  }
}

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

class MongoDouble {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  private readonly cursors = new Map<number, OpenCursor>();
  private nextCursorId = 1;

  run(cmd: Document, db: string, connectionId: number): Document {
    try {
      if (cmd.txnNumber !== undefined || cmd.startTransaction !== undefined) {
        throw new CommandError(20, 'IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos');
      }
      return { ...this.dispatch(Object.keys(cmd)[0] ?? '', cmd, db, connectionId), ok: 1 };
    } catch (e: unknown) {
      if (e instanceof CommandError) return { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName, ...e.extra };
      return { ok: 0, errmsg: e instanceof Error ? e.message : String(e), code: 2, codeName: 'BadValue' };
    }
  }

  private dispatch(name: string, cmd: Document, db: string, connectionId: number): Document {
    const collName = String(cmd[name]);
    const ns = `${db}.${collName}`;
    switch (name) {
      case 'hello': case 'isMaster': case 'ismaster':
        return {
          helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: 16 * 1024 * 1024,
          maxMessageSizeBytes: 48_000_000, maxWriteBatchSize: 100_000, localTime: new Date(),
          logicalSessionTimeoutMinutes: 30, connectionId, minWireVersion: 0, maxWireVersion: 21, readOnly: false,
        };
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
        return this.writeBatch(cmd, asDocs(cmd.documents), (d) => {
          this.insertChecked(ns, c, withId(d));
          return { n: 1 };
        });
      }
      case 'update': {
        const c = this.coll(db, collName, true);
        return this.writeBatch(cmd, asDocs(cmd.updates), (u, index) => this.updateOp(ns, c, u, index));
      }
      case 'delete': {
        const c = this.coll(db, collName);
        return this.writeBatch(cmd, asDocs(cmd.deletes), (d) => {
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
  private writeBatch(cmd: Document, ops: Document[], apply: (op: Document, index: number) => Document): Document {
    let [n, nModified] = [0, 0];
    const upserted: Document[] = [];
    const writeErrors: Document[] = [];
    for (const [index, op] of ops.entries()) {
      try {
        const r = apply(op, index);
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

  private updateOp(ns: string, c: Collection, op: Document, index: number): Document {
    if (Array.isArray(op.u)) throw new CommandError(2, 'BadValue', 'pipeline updates are not modelled by the double');
    const u = asDoc(op.u);
    if (op.multi === true && !isOperatorDoc(u)) throw new CommandError(9, 'FailedToParse', 'multi update is not supported for replacement-style update');
    const matched = this.filter(c, asDoc(op.q));
    const targets = op.multi === true ? matched : matched.slice(0, 1);
    const arrayFilters = Array.isArray(op.arrayFilters) ? asDocs(op.arrayFilters) : undefined;
    if (targets.length === 0 && op.upsert === true) {
      const base = equalityFields(asDoc(op.q));
      const doc = withId(isOperatorDoc(u) ? this.updated(base, u, arrayFilters, true) : { ...u, ...('_id' in base ? { _id: base._id } : {}) });
      this.insertChecked(ns, c, doc);
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

function frame(requestId: number, responseTo: number, opCode: number, body: Buffer): Buffer {
  const header = Buffer.alloc(16);
  [16 + body.length, requestId, responseTo, opCode].forEach((v, i) => header.writeInt32LE(v, 4 * i));
  return Buffer.concat([header, body]);
}

function readDoc(buf: Buffer, at: number): { doc: Document; end: number } {
  const size = buf.readInt32LE(at);
  return { doc: BSON.deserialize(buf.subarray(at, at + size)), end: at + size };
}

/** Parses one complete message; returns the reply to send, or null (moreToCome, or nothing to answer). */
function handleMessage(server: MongoDouble, msg: Buffer, connectionId: number, nextId: () => number): Buffer | null {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  if (opCode === OP_QUERY) { // flags, fullCollectionName (`admin.$cmd`), numberToSkip, numberToReturn, query
    const nameEnd = msg.indexOf(0, 20);
    const reply = server.run(readDoc(msg, nameEnd + 1 + 8).doc, msg.toString('utf8', 20, nameEnd).split('.')[0] ?? 'admin', connectionId);
    const body = Buffer.alloc(20); // responseFlags, cursorID (int64 0), startingFrom, numberReturned
    body.writeInt32LE(1, 16);
    return frame(nextId(), requestId, OP_REPLY, Buffer.concat([body, BSON.serialize(reply)]));
  }
  if (opCode !== OP_MSG) throw new Error(`opCode ${opCode} is not modelled by the double`);
  const flags = msg.readUInt32LE(16);
  const end = flags & 1 ? msg.length - 4 : msg.length; // bit 0: checksumPresent
  let command: Document = {};
  const sequences: Document = {};
  for (let at = 20; at < end;) {
    if (msg.readUInt8(at) === 0) ({ doc: command, end: at } = readDoc(msg, at + 1));
    else { // kind 1: size, identifier, documents
      const sectionEnd = at + 1 + msg.readInt32LE(at + 1);
      const idEnd = msg.indexOf(0, at + 5);
      const docs: Document[] = [];
      for (let p = idEnd + 1; p < sectionEnd;) {
        const { doc, end: next } = readDoc(msg, p);
        docs.push(doc);
        p = next;
      }
      sequences[msg.toString('utf8', at + 5, idEnd)] = docs;
      at = sectionEnd;
    }
  }
  const reply = server.run({ ...command, ...sequences }, typeof command.$db === 'string' ? command.$db : 'admin', connectionId);
  if (flags & 2) return null; // moreToCome: the client expects no reply
  return frame(nextId(), requestId, OP_MSG, Buffer.concat([Buffer.alloc(5), BSON.serialize(reply)]));
}

export interface MongoDoubleHandle { readonly uri: string; stop(): Promise<void> }

export async function startMongoDouble(): Promise<MongoDoubleHandle> {
  const state = new MongoDouble();
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let requestIds = 0;
  const server = net.createServer((socket) => {
    const connectionId = ++connections;
    sockets.add(socket);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      try {
        while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
          const length = buffered.readInt32LE(0);
          const reply = handleMessage(state, buffered.subarray(0, length), connectionId, () => ++requestIds);
          buffered = buffered.subarray(length);
          if (reply) socket.write(reply);
        }
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected server address');
  return {
    uri: `mongodb://127.0.0.1:${address.port}/?directConnection=true`,
    stop: () => new Promise<void>((ok, fail) => {
      for (const s of sockets) s.destroy();
      server.close((e) => (e ? fail(e) : ok()));
    }),
  };
}

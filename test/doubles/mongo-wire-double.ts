/**
 * In-process test double of a MongoDB server (wire version 21, i.e. 7.0), speaking the real wire protocol so the
 * real `mongodb` driver (7.9) can be used against it. By default it answers as the primary of a single-node replica
 * set `rs0`: `uri` (`?directConnection=true`) and `replicaSetUri` (`?replicaSet=rs0`, ReplicaSetWithPrimary
 * discovery) both make the driver send `lsid` + `txnNumber` on retryable writes. `replicaSet: false`: a standalone.
 * Queries, sorts, projections, update operators and aggregation pipelines are evaluated by `mingo`.
 * Code: framing in mongo/wire.ts, commands in mongo/engine.ts, retryable-write records in mongo/retryable-writes.ts.
 *
 * Modelled:
 * - Framing: legacy OP_QUERY (the driver's first isMaster of each connection) answered with OP_REPLY; OP_MSG with
 *   kind-0 bodies and kind-1 document sequences (merged into the command), optional checksum, `moreToCome` (no reply).
 *   Commands of one connection run in order; other connections' commands may run while one waits in `upsertGate`.
 * - Handshake: hello/isMaster/ismaster as a standalone or as a single-node replica-set primary (`setName`, `hosts`,
 *   `me`, `primary`, `electionId`, `setVersion`, `lastWrite`).
 * - Retryable writes (replica set only): insert/update/delete with `lsid` + `txnNumber` are applied once; a retry
 *   with the same pair gets the recorded reply; an older txnNumber on the session answers TransactionTooOld (225).
 *   `dropWriteReplies(n)`: the next n write commands are applied and their connection closed instead of answered.
 * - Commands: ping, buildInfo, endSessions; find/getMore/killCursors (filter, sort, skip, limit, projection,
 *   batchSize, singleBatch; BSON Long cursor ids); insert; update (operators through mingo, replacement documents,
 *   multi, upsert built from the filter's equality fields, `$setOnInsert`); delete (limit 0/1); count; aggregate
 *   (mingo pipeline, as a cursor); createIndexes/listIndexes (recorded, with `expireAfterSeconds`; `_id` and `unique`
 *   indexes enforced with E11000 DuplicateKey write errors carrying keyPattern/keyValue, also when an upsert's filter
 *   misses a document whose `_id` exists); create, drop (no error when missing, as 7.0), dropDatabase,
 *   listCollections. Ordered batches stop at the first write error, unordered ones go on. Unknown commands answer
 *   CommandNotFound (59); `startTransaction`/`autocommit` answer IllegalOperation (20), and so does `txnNumber` on a
 *   standalone, as a real one does.
 * - Concurrent upserts of one `_id` (`upsertGate`): an upsert whose filter matched nothing awaits the gate before it
 *   inserts, so two upserts on two connections can both miss and then race; the loser gets E11000 on `_id`, as on
 *   mongod, unless its filter is plain equality on the index's fields only (mongod then retries the upsert itself).
 * - writeConcern is accepted (any `w`, incl. `majority`) and always satisfied: no writeConcernError is ever sent.
 *
 * Not modelled: more than one member (elections, secondaries, replication lag, rollback, stepdown, NotWritablePrimary),
 * sharding, multi-document transactions, change streams, `$clusterTime`/`operationTime` (no causal consistency),
 * retryable-write records across restarts or per statement (a retried batch replays the whole first reply),
 * session expiry (records are kept for the double's life), read concern, auth/TLS/compression, index-backed query
 * plans (every query is a full scan; non-unique indexes are only recorded), multikey/sparse/partial/text/geo
 * indexes, TTL deletion (nothing expires), collations, int32/int64/double distinctions (all numbers are JS numbers),
 * Decimal128 arithmetic, document/message size limits, cursor timeouts, `$out`/`$merge`, pipeline updates,
 * findAndModify, validators, explain, concurrency other than the upsert gate (commands otherwise run one at a time,
 * so no WriteConflict), durability (memory only), and any difference between mingo's and the server's evaluation of
 * edge cases.
 */
import * as net from 'node:net';
import { MongoDouble, type PendingUpsert } from './mongo/engine';
import { handleMessage } from './mongo/wire';

export type { PendingUpsert } from './mongo/engine';

export interface MongoDoubleOptions {
  /** Replica-set name to announce as its single-node primary (default `rs0`); false: a standalone server. */
  readonly replicaSet?: string | false;
  /** Awaited by every upsert between its missed match and its insert (see the header). */
  readonly upsertGate?: (upsert: PendingUpsert) => Promise<void> | void;
}

export interface MongoDoubleHandle {
  /** `mongodb://127.0.0.1:<port>/?directConnection=true` */
  readonly uri: string;
  /** `mongodb://127.0.0.1:<port>/?replicaSet=<name>` (replica-set mode only; else the same as `uri`). */
  readonly replicaSetUri: string;
  /** Applies the next `count` write commands but closes their connection instead of replying. */
  dropWriteReplies(count?: number): void;
  stop(): Promise<void>;
}

export async function startMongoDouble(options: MongoDoubleOptions = {}): Promise<MongoDoubleHandle> {
  const replicaSet = options.replicaSet === false ? undefined : options.replicaSet ?? 'rs0';
  const state = new MongoDouble({ ...(replicaSet === undefined ? {} : { replicaSet }), ...(options.upsertGate ? { upsertGate: options.upsertGate } : {}) });
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let requestIds = 0;
  const server = net.createServer((socket) => {
    const connectionId = ++connections;
    sockets.add(socket);
    let buffered = Buffer.alloc(0);
    // One command at a time per connection, in order (the driver does not pipeline); connections interleave only
    // where a command awaits (the upsert gate).
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
        const msg = buffered.subarray(0, buffered.readInt32LE(0));
        buffered = buffered.subarray(msg.length);
        queue = queue.then(async () => {
          if (socket.destroyed) return;
          const reply = await handleMessage((cmd, db) => state.run(cmd, db, connectionId), msg, () => ++requestIds);
          if (reply) socket.write(reply);
        }).catch(() => {
          // Malformed input, or a reply dropped on purpose (DropConnection): either way the connection ends.
          socket.destroy();
        });
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected server address');
  state.address = `127.0.0.1:${address.port}`;
  const uri = `mongodb://${state.address}/?directConnection=true`;
  return {
    uri,
    replicaSetUri: replicaSet === undefined ? uri : `mongodb://${state.address}/?replicaSet=${replicaSet}`,
    dropWriteReplies: (count = 1) => {
      state.dropWriteReplies += count;
    },
    stop: () => new Promise<void>((ok, fail) => {
      for (const s of sockets) s.destroy();
      server.close((e) => (e ? fail(e) : ok()));
    }),
  };
}

/**
 * In-process test double of an EventStoreDB server (single node, insecure), speaking the real gRPC protocol with the
 * service definitions shipped inside `@eventstore/db-client` (6.2.1), so the real client library can be used
 * against it: `esdb://127.0.0.1:<port>?tls=false`. The parts live in ./eventstoredb/ (log, append, read).
 *
 * Modelled:
 * - ServerFeatures: announces the methods the double serves, with the features a 25.1 server gives them
 *   (Streams.Read: position, events; Streams.BatchAppend: deadline_duration) and version 25.1.0. The client then
 *   appends with BatchAppend, as it does against the compose file's KurrentDB. `serverFeatures: false` answers
 *   UNIMPLEMENTED instead (an old server): the client falls back to the streaming Append.
 * - Append (client streaming: options, then proposed messages) and BatchAppend (one bidirectional call per client,
 *   appends told apart by correlation id, options then messages in one or more requests, the last `is_final`),
 *   with the same results: expected revision any / no_stream / stream_exists / exact; success with current
 *   revision and position; wrong expected version with the current revision or "no stream" (Append: a response
 *   message; BatchAppend: a google.rpc.Status ALREADY_EXISTS with WrongExpectedVersion details). Idempotent
 *   re-appends as ESDB does them: the same event ids re-appended to the same stream at the same place answer
 *   success without writing. The same id in another stream is written (ESDB does not refuse it).
 * - The server's maximum append size (1 MiB by default, `maxAppendSize`): the sum over the proposed events of data +
 *   custom metadata bytes + twice the type's length (the server's `Event.SizeOnDisk`). Append: INVALID_ARGUMENT
 *   "Maximum Append Size of N Exceeded." with the trailers `exception: maximum-append-size-exceeded` and
 *   `maximum-append-size: N` (checked at the end of the call; the server refuses as soon as the sum is over).
 *   BatchAppend: a Status INVALID_ARGUMENT with MaximumAppendSizeExceeded details, checked after every request as
 *   the server does. Both become the client's MaxAppendSizeExceededError.
 * - Other invalid appends (`refuseAppendsTo`): Append answers the plain INVALID_ARGUMENT status without trailers,
 *   BatchAppend a Status INVALID_ARGUMENT with BadRequest details (the message is the server's reason), as the
 *   server does for an event it cannot take.
 * - Read (server streaming): streams forwards/backwards from a revision with a count ("stream not found" answer for
 *   a missing stream); $all forwards (inclusive) / backwards (exclusive) from a position, with event-type or
 *   stream-name filters (prefixes or regex, evaluated with JS RegExp instead of .NET); subscriptions to $all and to a
 *   stream: confirmation first, then catch-up (exclusive of the start position/revision), caught-up, then live events
 *   until the call is cancelled.
 * - Subscriptions the server ends: `dropSubscriptions(reason)` ends every live subscription call, and
 *   `maxEventsPerSubscription` drops a subscription once it has sent that many events, with the status a server
 *   uses (see SubscriptionDropReason in ./eventstoredb/read.ts: ABORTED "consumer too slow" as servers before
 *   23.10 do, UNKNOWN for an unexpected drop, UNAVAILABLE for a node going away).
 * - Positions as in a transaction log: commit == prepare, strictly increasing with gaps (record sizes). Like a real
 *   server, reading or subscribing $all from a position that is not a record boundary (neither 0, the end of the log
 *   nor an event's position) fails with INVALID_ARGUMENT "Trying to read from an invalid position."
 * - A few system events ($-prefixed streams/types) at the start of the log, as a fresh server has.
 * - `calls`: how many Append / BatchAppend appends, reads, subscriptions and ServerFeatures calls it answered, so a
 *   test can tell which path the client took.
 *
 * Not modelled: clustering, gossip and leader election, ACLs/authentication/users, TLS, persistent subscriptions,
 * projections (no $ce-/$et- link events, no $by_category), stream metadata ($maxAge/$maxCount/$tb), deletes and
 * tombstones (Delete, Tombstone and the other services answer UNIMPLEMENTED, and ServerFeatures does not announce
 * them), scavenging, filtered-read checkpoint messages, fell-behind signals and the back-pressure of newer
 * servers (which switch a slow subscriber back to catch-up instead of dropping it; the adapter uses neither),
 * link resolution, structured UUIDs, deadlines (BatchAppend's deadline is ignored, no Timeout status), the
 * per-event size limit of newer servers, durability (memory only), periodic $stats events, and .NET regex
 * dialect differences.
 */
import type * as GrpcJs from '@grpc/grpc-js';
import { ServerFeaturesService } from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import { SupportedMethod, SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';
import { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb';
import type { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';
import { handleAppend, handleBatchAppend, type AppendPolicy } from './eventstoredb/append';
import { DEFAULT_MAX_APPEND_SIZE, grpc, Log, seed } from './eventstoredb/log';
import { handleRead, type SubscriptionDropReason, type SubscriptionPolicy } from './eventstoredb/read';

export { DEFAULT_MAX_APPEND_SIZE } from './eventstoredb/log';
export type { SubscriptionDropReason } from './eventstoredb/read';

export interface EventStoreDbDoubleCalls {
  /** Appends through the legacy Append RPC (one per call). */
  append: number;
  /** Appends through BatchAppend (one per correlation id, not per call: the client keeps one call open). */
  batchAppend: number;
  read: number;
  subscription: number;
  serverFeatures: number;
}

export interface EventStoreDbDouble {
  readonly connectionString: string;
  readonly port: number;
  readonly calls: Readonly<EventStoreDbDoubleCalls>;
  /** Ends every live subscription call from the server side; returns how many there were. */
  dropSubscriptions(reason?: SubscriptionDropReason): number;
  stop(): Promise<void>;
}

export interface EventStoreDbDoubleOptions {
  readonly maxAppendSize?: number;
  /** Streams whose appends are refused as invalid with this text (see the header for how each RPC says it). */
  readonly refuseAppendsTo?: { readonly streamPrefix: string; readonly details: string };
  /** False: ServerFeatures answers UNIMPLEMENTED, as an old server does, and the client uses Append (default true). */
  readonly serverFeatures?: boolean;
  /** Drops a subscription as a slow consumer once it has sent this many events (default: never). */
  readonly maxEventsPerSubscription?: number;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

const SERVER_VERSION = '25.1.0';

/** What a 25.1 server announces for the methods the double serves (ServerFeatures.cs: service and method lower-cased). */
function supportedMethods(): SupportedMethods {
  const method = (service: string, name: string, features: string[]): SupportedMethod => {
    const m = new SupportedMethod();
    m.setServiceName(service);
    m.setMethodName(name);
    m.setFeaturesList(features);
    return m;
  };
  const streams = 'event_store.client.streams.streams';
  const methods = new SupportedMethods();
  methods.setEventStoreServerVersion(SERVER_VERSION);
  methods.setMethodsList([
    method(streams, 'read', ['position', 'events']),
    method(streams, 'append', []),
    method(streams, 'batchappend', ['deadline_duration']),
    method('event_store.client.server_features.serverfeatures', 'getsupportedmethods', []),
  ]);
  return methods;
}

export async function startEventStoreDbDouble(options: EventStoreDbDoubleOptions = {}): Promise<EventStoreDbDouble> {
  const log = new Log();
  seed(log);
  const calls: EventStoreDbDoubleCalls = { append: 0, batchAppend: 0, read: 0, subscription: 0, serverFeatures: 0 };
  const appendPolicy: AppendPolicy = {
    maxAppendSize: options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE,
    refuseAppendsTo: options.refuseAppendsTo,
    count: (rpc) => (calls[rpc] += 1),
  };
  const live = new Set<(reason: SubscriptionDropReason) => void>();
  const readPolicy: SubscriptionPolicy = {
    maxEventsPerSubscription: options.maxEventsPerSubscription,
    live,
    count: (rpc) => (calls[rpc] += 1),
  };
  const server = new grpc.Server();
  server.addService(StreamsService, {
    read: (call: GrpcJs.ServerWritableStream<ReadReq, ReadResp>) => handleRead(log, readPolicy, call),
    append: (call: GrpcJs.ServerReadableStream<AppendReq, AppendResp>, callback: GrpcJs.sendUnaryData<AppendResp>) =>
      handleAppend(log, appendPolicy, call, callback),
    batchAppend: (call: GrpcJs.ServerDuplexStream<BatchAppendReq, BatchAppendResp>) => handleBatchAppend(log, appendPolicy, call),
  });
  if (options.serverFeatures ?? true) {
    const methods = supportedMethods();
    server.addService(ServerFeaturesService, {
      getSupportedMethods: (_call: unknown, callback: GrpcJs.sendUnaryData<SupportedMethods>) => {
        calls.serverFeatures += 1;
        callback(null, methods);
      },
    });
  }
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return {
    connectionString: `esdb://${host}:${port}?tls=false`,
    port,
    calls,
    dropSubscriptions: (reason = 'server-error') => {
      const current = [...live];
      for (const drop of current) drop(reason);
      return current.length;
    },
    stop: async () => {
      // Live subscriptions never end on their own: cancel them rather than wait for clients that are gone.
      server.forceShutdown();
    },
  };
}

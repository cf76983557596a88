/**
 * In-process test double of an EventStoreDB server (single node, insecure), speaking the real gRPC protocol with the
 * service definitions shipped inside `@eventstore/db-client` (6.2.1), so the real client library can be used
 * against it: `esdb://127.0.0.1:<port>?tls=false`.
 *
 * Modelled (Streams service only):
 * - Append (client streaming: options, then proposed messages): expected revision any / no_stream / stream_exists /
 *   exact; success with current revision and position; wrong-expected-version answers with the current revision or
 *   "no stream". Idempotent re-appends as ESDB does them: the same event ids re-appended to the same stream at the
 *   same place answer success without writing. The same id in another stream is written (ESDB does not refuse it).
 * - Read (server streaming): streams forwards/backwards from a revision with a count ("stream not found" answer for
 *   a missing stream); $all forwards (inclusive) / backwards (exclusive) from a position, with event-type or
 *   stream-name filters (prefixes or regex, evaluated with JS RegExp instead of .NET); subscriptions to $all and to a
 *   stream: confirmation first, then catch-up (exclusive of the start position/revision), caught-up, then live events
 *   until the call is cancelled.
 * - Positions as in a transaction log: commit == prepare, strictly increasing with gaps (record sizes). Like a real
 *   server, reading or subscribing $all from a position that is not a record boundary (neither 0, the end of the log
 *   nor an event's position) fails with INVALID_ARGUMENT "Trying to read from an invalid position."
 * - A few system events ($-prefixed streams/types) at the start of the log, as a fresh server has.
 * - The server's maximum append size (1 MiB by default, `maxAppendSize` to change it): the sum over the proposed
 *   events of data + custom metadata bytes + twice the type's length (the server's `Event.SizeOnDisk`), refused as
 *   the server does, INVALID_ARGUMENT "Maximum Append Size of N Exceeded." with the trailers `exception:
 *   maximum-append-size-exceeded` and `maximum-append-size: N`, which the client turns into
 *   MaxAppendSizeExceededError. The server refuses as soon as the sum is over; the double at the end of the call.
 * - Any INVALID_ARGUMENT on an append (`refuseAppendsTo`): the plain status without trailers, as the server sends for
 *   what this client has no error class for (e.g. the per-event size limit of newer servers).
 * - ServerFeatures, BatchAppend, Delete, Tombstone and every other service answer UNIMPLEMENTED (grpc-js default);
 *   the client then falls back to the streaming Append, as it does with an old server.
 *
 * Not modelled: clustering, gossip and leader election, ACLs/authentication/users, TLS, persistent subscriptions,
 * projections (no $ce-/$et- link events, no $by_category), stream metadata ($maxAge/$maxCount/$tb), deletes and
 * tombstones, scavenging, filtered-read checkpoint messages, fell-behind handling and back-pressure of slow
 * subscribers, link resolution, structured UUIDs, deadlines, the per-event size limit of newer servers, durability (memory only),
 * periodic $stats events, and .NET regex dialect differences.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as GrpcJs from '@grpc/grpc-js';
import { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb';
import { AppendReq, AppendResp, ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';
import { Empty, StreamIdentifier, UUID } from '@eventstore/db-client/generated/shared_pb';

// The very @grpc/grpc-js the client resolves (it is the client's dependency, not ours).
const grpc = createRequire(require.resolve('@eventstore/db-client'))('@grpc/grpc-js') as typeof GrpcJs;

interface StoredEvent {
  readonly id: string;
  readonly streamId: string;
  readonly revision: number;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
  readonly position: bigint;
  /** .NET ticks (100 ns) since the Unix epoch, as the server sends them. */
  readonly created: bigint;
}

type Proposed = AppendReq.ProposedMessage;
type Expected = { kind: 'any' | 'no_stream' | 'stream_exists' } | { kind: 'revision'; revision: number };

const INVALID_POSITION = { code: grpc.status.INVALID_ARGUMENT, details: 'Trying to read from an invalid position.' };

class Log {
  readonly all: StoredEvent[] = [];
  readonly streams = new Map<string, StoredEvent[]>();
  private readonly positions = new Set<bigint>();
  private readonly listeners = new Set<(e: StoredEvent) => void>();
  /** Writer checkpoint: where the next record starts (after the epoch record a log begins with). */
  end = 64n;

  revisionOf(streamId: string): number {
    return (this.streams.get(streamId)?.length ?? 0) - 1;
  }

  isBoundary(position: bigint): boolean {
    return position === 0n || position === this.end || this.positions.has(position);
  }

  write(streamId: string, proposed: readonly Proposed[]): StoredEvent[] {
    const stream = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, stream);
    const created = BigInt(Date.now()) * 10_000n;
    const written = proposed.map((p) => {
      const meta = p.getMetadataMap();
      const event: StoredEvent = {
        id: p.getId()?.getString() ?? randomUUID(),
        streamId,
        revision: stream.length,
        type: meta.get('type') ?? '',
        contentType: meta.get('content-type') ?? 'application/octet-stream',
        data: p.getData_asU8(),
        customMetadata: p.getCustomMetadata_asU8(),
        position: this.end,
        created,
      };
      // A record's size: a header plus its payload, so positions have gaps as in a real log.
      this.end += BigInt(96 + streamId.length + event.type.length + event.data.length + event.customMetadata.length);
      stream.push(event);
      this.all.push(event);
      this.positions.add(event.position);
      return event;
    });
    for (const e of written) for (const listener of [...this.listeners]) listener(e);
    return written;
  }

  listen(listener: (e: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function streamName(identifier: StreamIdentifier | undefined): string {
  return Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');
}

function expectedOf(options: AppendReq.Options): Expected {
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  if (options.hasRevision()) return { kind: 'revision', revision: Number(options.getRevision()) };
  return { kind: 'any' };
}

function expectationHolds(expected: Expected, current: number): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no_stream':
      return current === -1;
    case 'stream_exists':
      return current >= 0;
    case 'revision':
      return current === expected.revision;
  }
}

/** ESDB idempotency: the proposed ids are already the stream's events at the place this append targets. */
function alreadyWritten(
  stream: readonly StoredEvent[],
  expected: Expected,
  proposed: readonly Proposed[],
): StoredEvent | undefined {
  const firstId = proposed[0]?.getId()?.getString();
  if (firstId === undefined) return undefined;
  let start: number;
  if (expected.kind === 'revision') start = expected.revision + 1;
  else if (expected.kind === 'no_stream') start = 0;
  else start = stream.findIndex((e) => e.id === firstId);
  if (start < 0) return undefined;
  const same = proposed.every((p, i) => stream[start + i]?.id === p.getId()?.getString());
  return same ? stream[start + proposed.length - 1] : undefined;
}

function success(revision: number, last: StoredEvent | undefined): AppendResp {
  const ok = new AppendResp.Success();
  if (revision < 0) ok.setNoStream(new Empty());
  else ok.setCurrentRevision(String(revision));
  if (last) {
    const position = new AppendResp.Position();
    position.setCommitPosition(String(last.position));
    position.setPreparePosition(String(last.position));
    ok.setPosition(position);
  } else {
    ok.setNoPosition(new Empty());
  }
  const resp = new AppendResp();
  resp.setSuccess(ok);
  return resp;
}

function wrongExpectedVersion(expected: Expected, current: number): AppendResp {
  const wrong = new AppendResp.WrongExpectedVersion();
  if (current < 0) wrong.setCurrentNoStream(new Empty());
  else wrong.setCurrentRevision(String(current));
  if (expected.kind === 'revision') wrong.setExpectedRevision(String(expected.revision));
  else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new Empty());
  else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new Empty());
  else wrong.setExpectedAny(new Empty());
  const resp = new AppendResp();
  resp.setWrongExpectedVersion(wrong);
  return resp;
}

function append(log: Log, options: AppendReq.Options, proposed: readonly Proposed[]): AppendResp {
  const streamId = streamName(options.getStreamIdentifier());
  const expected = expectedOf(options);
  const stream = log.streams.get(streamId) ?? [];
  const current = stream.length - 1;
  const idempotent = alreadyWritten(stream, expected, proposed);
  if (idempotent) return success(idempotent.revision, idempotent);
  if (!expectationHolds(expected, current)) return wrongExpectedVersion(expected, current);
  if (proposed.length === 0) return success(current, undefined);
  const written = log.write(streamId, proposed);
  return success(log.revisionOf(streamId), written[written.length - 1]);
}

function eventResponse(e: StoredEvent): ReadResp {
  const record = new ReadResp.ReadEvent.RecordedEvent();
  const id = new UUID();
  id.setString(e.id);
  record.setId(id);
  const identifier = new StreamIdentifier();
  identifier.setStreamName(Buffer.from(e.streamId, 'utf8'));
  record.setStreamIdentifier(identifier);
  record.setStreamRevision(String(e.revision));
  record.setCommitPosition(String(e.position));
  record.setPreparePosition(String(e.position));
  const meta = record.getMetadataMap();
  meta.set('type', e.type);
  meta.set('content-type', e.contentType);
  meta.set('created', String(e.created));
  record.setCustomMetadata(e.customMetadata);
  record.setData(e.data);
  const read = new ReadResp.ReadEvent();
  read.setEvent(record);
  read.setCommitPosition(String(e.position));
  const resp = new ReadResp();
  resp.setEvent(read);
  return resp;
}

function filterOf(options: ReadReq.Options): (e: StoredEvent) => boolean {
  const filter = options.getFilter();
  if (!options.hasFilter() || !filter) return () => true;
  const onType = filter.hasEventType();
  const expression = onType ? filter.getEventType() : filter.getStreamIdentifier();
  const regex = expression?.getRegex() ? new RegExp(expression.getRegex()) : undefined;
  const prefixes = expression?.getPrefixList() ?? [];
  return (e) => {
    const subject = onType ? e.type : e.streamId;
    if (regex && !regex.test(subject)) return false;
    return prefixes.length === 0 || prefixes.some((p) => subject.startsWith(p));
  };
}

type Selection = { events: StoredEvent[] } | { notFound: string } | { invalidPosition: true };

/** The stored events a read (or a subscription's catch-up) returns, in order. */
function select(log: Log, options: ReadReq.Options, subscription: boolean): Selection {
  const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;
  const keep = filterOf(options);
  const streamOptions = options.getStream();
  if (options.hasStream() && streamOptions) {
    const name = streamName(streamOptions.getStreamIdentifier());
    const stream = log.streams.get(name);
    if (!stream) return subscription ? { events: [] } : { notFound: name };
    if (streamOptions.hasEnd() && (subscription || !backwards)) return { events: [] };
    if (streamOptions.hasRevision()) {
      const revision = Number(streamOptions.getRevision());
      if (subscription) return { events: stream.filter((e) => e.revision > revision) };
      if (backwards) return { events: stream.filter((e) => e.revision <= revision).reverse() };
      return { events: stream.filter((e) => e.revision >= revision) };
    }
    if (backwards && streamOptions.hasStart()) return { events: stream.slice(0, 1) };
    return { events: backwards ? [...stream].reverse() : [...stream] };
  }
  const all = options.getAll();
  let events = log.all.filter(keep);
  if (all?.hasEnd()) return { events: backwards && !subscription ? events.reverse() : [] };
  if (all?.hasPosition()) {
    const position = BigInt(all.getPosition()?.getCommitPosition() ?? '0');
    if (!log.isBoundary(position)) return { invalidPosition: true };
    if (subscription) events = events.filter((e) => e.position > position);
    else if (backwards) events = events.filter((e) => e.position < position);
    else events = events.filter((e) => e.position >= position);
  } else if (backwards) {
    return { events: [] }; // backwards from the start
  }
  return { events: backwards ? events.reverse() : events };
}

function read(log: Log, call: GrpcJs.ServerWritableStream<ReadReq, ReadResp>): void {
  const options = call.request.getOptions();
  if (!options) {
    call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'options are required' });
    return;
  }
  const subscription = options.hasSubscription();
  if (subscription) {
    const confirmation = new ReadResp.SubscriptionConfirmation();
    confirmation.setSubscriptionId(randomUUID());
    const resp = new ReadResp();
    resp.setConfirmation(confirmation);
    call.write(resp);
  }
  const selected = select(log, options, subscription);
  if ('invalidPosition' in selected) {
    call.emit('error', INVALID_POSITION);
    return;
  }
  if ('notFound' in selected) {
    const notFound = new ReadResp.StreamNotFound();
    const identifier = new StreamIdentifier();
    identifier.setStreamName(Buffer.from(selected.notFound, 'utf8'));
    notFound.setStreamIdentifier(identifier);
    const resp = new ReadResp();
    resp.setStreamNotFound(notFound);
    call.write(resp);
    call.end();
    return;
  }
  if (!subscription) {
    const count = Number(options.getCount());
    for (const e of selected.events.slice(0, count)) call.write(eventResponse(e));
    call.end();
    return;
  }
  // Catch-up and going live happen in the same tick: nothing can be appended in between, so no gap, no duplicate.
  for (const e of selected.events) call.write(eventResponse(e));
  const caughtUp = new ReadResp();
  caughtUp.setCaughtUp(new ReadResp.CaughtUp());
  call.write(caughtUp);
  const keep = filterOf(options);
  const streamOptions = options.getStream();
  const onlyStream = options.hasStream() && streamOptions ? streamName(streamOptions.getStreamIdentifier()) : undefined;
  const stop = log.listen((e) => {
    if ((onlyStream === undefined || e.streamId === onlyStream) && keep(e)) call.write(eventResponse(e));
  });
  call.on('cancelled', stop);
  call.on('close', stop);
  call.on('error', stop);
}

function seed(log: Log): void {
  const systemEvent = (type: string, data: object): Proposed => {
    const p = new AppendReq.ProposedMessage();
    const id = new UUID();
    id.setString(randomUUID());
    p.setId(id);
    p.getMetadataMap().set('type', type);
    p.getMetadataMap().set('content-type', 'application/json');
    p.setData(Buffer.from(JSON.stringify(data), 'utf8'));
    return p;
  };
  log.write('$user-admin', [systemEvent('$UserCreated', { loginName: 'admin' })]);
  log.write('$settings', [systemEvent('update-default-acl', { $userStreamAcl: {}, $systemStreamAcl: {} })]);
}

export interface EventStoreDbDouble {
  readonly connectionString: string;
  stop(): Promise<void>;
}

/** EventStoreDB's default `MaxAppendSize`. */
export const DEFAULT_MAX_APPEND_SIZE = 1024 * 1024;

/** The server's `Event.SizeOnDisk`: what counts towards the maximum append size. */
function sizeOnDisk(p: Proposed): number {
  return p.getData_asU8().length + p.getCustomMetadata_asU8().length + (p.getMetadataMap().get('type') ?? '').length * 2;
}

function maxAppendSizeExceeded(maxAppendSize: number): Partial<GrpcJs.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set('exception', 'maximum-append-size-exceeded');
  metadata.set('maximum-append-size', String(maxAppendSize));
  return { code: grpc.status.INVALID_ARGUMENT, details: `Maximum Append Size of ${maxAppendSize} Exceeded.`, metadata };
}

export async function startEventStoreDbDouble(
  options: {
    readonly maxAppendSize?: number;
    /** Streams whose appends answer a bare INVALID_ARGUMENT with this text. */
    readonly refuseAppendsTo?: { readonly streamPrefix: string; readonly details: string };
  } = {},
): Promise<EventStoreDbDouble> {
  const maxAppendSize = options.maxAppendSize ?? DEFAULT_MAX_APPEND_SIZE;
  const log = new Log();
  seed(log);
  const server = new grpc.Server();
  server.addService(StreamsService, {
    read: (call: GrpcJs.ServerWritableStream<ReadReq, ReadResp>) => read(log, call),
    append: (call: GrpcJs.ServerReadableStream<AppendReq, AppendResp>, callback: GrpcJs.sendUnaryData<AppendResp>) => {
      let appendOptions: AppendReq.Options | undefined;
      const proposed: Proposed[] = [];
      call.on('data', (req: AppendReq) => {
        const message = req.getProposedMessage();
        if (req.hasOptions()) appendOptions = req.getOptions();
        else if (message) proposed.push(message);
      });
      call.on('end', () => {
        const streamId = appendOptions ? streamName(appendOptions.getStreamIdentifier()) : '';
        const refuse = options.refuseAppendsTo;
        if (!appendOptions) callback({ code: grpc.status.INVALID_ARGUMENT, details: 'the first message must be the options' });
        else if (proposed.reduce((size, p) => size + sizeOnDisk(p), 0) > maxAppendSize) callback(maxAppendSizeExceeded(maxAppendSize));
        else if (refuse && streamId.startsWith(refuse.streamPrefix)) callback({ code: grpc.status.INVALID_ARGUMENT, details: refuse.details });
        else callback(null, append(log, appendOptions, proposed));
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    stop: async () => {
      // Live subscriptions never end on their own: cancel them rather than wait for clients that are gone.
      server.forceShutdown();
    },
  };
}

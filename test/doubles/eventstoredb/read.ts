/**
 * Read of the Streams service: stream and $all reads, and subscriptions (catch-up then live), which the double can
 * end from the server side the way a server does (see `SubscriptionDropReason`).
 */
import { randomUUID } from 'node:crypto';
import type * as GrpcJs from '@grpc/grpc-js';
import { ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';
import { StreamIdentifier, UUID } from '@eventstore/db-client/generated/shared_pb';
import { grpc, streamName, type Log, type StoredEvent } from './log';

const INVALID_POSITION = { code: grpc.status.INVALID_ARGUMENT, details: 'Trying to read from an invalid position.' };

/**
 * How the server ends a subscription call:
 * - `consumer-too-slow`: servers before 23.10 drop a live subscription whose client does not keep up, with ABORTED
 *   (their `RpcExceptions.Timeout`); newer servers fall behind and catch up instead (not modelled).
 * - `server-error`: a drop reason the enumerator does not expect ends the call with UNKNOWN ("Unexpected
 *   SubscriptionDropReason: …").
 * - `unavailable`: the node is shutting down or lost leadership (UNAVAILABLE).
 */
export type SubscriptionDropReason = 'consumer-too-slow' | 'server-error' | 'unavailable';

export function dropStatus(reason: SubscriptionDropReason): Partial<GrpcJs.StatusObject> {
  switch (reason) {
    case 'consumer-too-slow':
      return { code: grpc.status.ABORTED, details: 'Operation timed out: Consumer too slow to handle event while live. Client resubscription required.' };
    case 'server-error':
      return { code: grpc.status.UNKNOWN, details: 'Unexpected SubscriptionDropReason: NotFound' };
    case 'unavailable':
      return { code: grpc.status.UNAVAILABLE, details: 'Server Is Not Ready' };
  }
}

export interface SubscriptionPolicy {
  /** After this many events, the subscription is dropped as a slow consumer (undefined: never). */
  readonly maxEventsPerSubscription?: number;
  /** The double's live subscriptions, so a test can drop them. */
  readonly live: Set<(reason: SubscriptionDropReason) => void>;
  readonly count: (rpc: 'read' | 'subscription') => void;
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

export function handleRead(log: Log, policy: SubscriptionPolicy, call: GrpcJs.ServerWritableStream<ReadReq, ReadResp>): void {
  const options = call.request.getOptions();
  if (!options) {
    call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'options are required' });
    return;
  }
  const subscription = options.hasSubscription();
  policy.count(subscription ? 'subscription' : 'read');
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
  subscribe(log, policy, options, selected.events, call);
}

function subscribe(
  log: Log,
  policy: SubscriptionPolicy,
  options: ReadReq.Options,
  catchUp: readonly StoredEvent[],
  call: GrpcJs.ServerWritableStream<ReadReq, ReadResp>,
): void {
  let sent = 0;
  let ended = false;
  const drop = (reason: SubscriptionDropReason): void => {
    if (ended) return;
    end();
    call.emit('error', dropStatus(reason));
  };
  /** False once the subscription has been dropped for sending too much. */
  const send = (e: StoredEvent): boolean => {
    if (policy.maxEventsPerSubscription !== undefined && sent >= policy.maxEventsPerSubscription) {
      drop('consumer-too-slow');
      return false;
    }
    sent += 1;
    call.write(eventResponse(e));
    return true;
  };
  const keep = filterOf(options);
  const streamOptions = options.getStream();
  const onlyStream = options.hasStream() && streamOptions ? streamName(streamOptions.getStreamIdentifier()) : undefined;
  // Catch-up and going live happen in the same tick: nothing can be appended in between, so no gap, no duplicate.
  const stop = log.listen((e) => {
    if ((onlyStream === undefined || e.streamId === onlyStream) && keep(e)) send(e);
  });
  policy.live.add(drop);
  function end(): void {
    ended = true;
    stop();
    policy.live.delete(drop);
  }
  call.on('cancelled', end);
  call.on('close', end);
  call.on('error', end);
  for (const e of catchUp) if (!send(e)) return;
  const caughtUp = new ReadResp();
  caughtUp.setCaughtUp(new ReadResp.CaughtUp());
  call.write(caughtUp);
}

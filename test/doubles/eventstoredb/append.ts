/**
 * The two append RPCs of the Streams service over one log: the legacy client-streaming `Append` (one call per
 * append, errors as gRPC statuses with trailers) and the bidirectional `BatchAppend` (one long-lived call per
 * client, appends told apart by correlation id, errors as google.rpc.Status messages in the response), which
 * `@eventstore/db-client` uses whenever ServerFeatures announces it. Both go through `Log.append`, so they answer
 * the same; they differ where the server's two implementations differ (Streams.Append.cs, Streams.BatchAppend.cs).
 */
import type * as GrpcJs from '@grpc/grpc-js';
import { Any } from 'google-protobuf/google/protobuf/any_pb';
import { Empty } from 'google-protobuf/google/protobuf/empty_pb';
import { AllStreamPosition, BadRequest, MaximumAppendSizeExceeded, StreamIdentifier, WrongExpectedVersion } from '@eventstore/db-client/generated/shared_pb';
import { Code } from '@eventstore/db-client/generated/code_pb';
import { Status } from '@eventstore/db-client/generated/status_pb';
import { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp } from '@eventstore/db-client/generated/streams_pb';
import { grpc, sizeOnDisk, streamName, type AppendOutcome, type Expected, type Log, type Proposed } from './log';

export interface AppendPolicy {
  readonly maxAppendSize: number;
  /** Streams whose appends the server refuses as invalid, with this text. */
  readonly refuseAppendsTo?: { readonly streamPrefix: string; readonly details: string };
  /** Counts one completed append request per RPC kind. */
  readonly count: (rpc: 'append' | 'batchAppend') => void;
}

function refused(policy: AppendPolicy, streamId: string): string | undefined {
  const refuse = policy.refuseAppendsTo;
  return refuse && streamId.startsWith(refuse.streamPrefix) ? refuse.details : undefined;
}

// ---- Append (legacy) ----

function expectedOfAppend(options: AppendReq.Options): Expected {
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  if (options.hasRevision()) return { kind: 'revision', revision: Number(options.getRevision()) };
  return { kind: 'any' };
}

function appendResponse(outcome: AppendOutcome): AppendResp {
  const resp = new AppendResp();
  if (!outcome.ok) {
    const wrong = new AppendResp.WrongExpectedVersion();
    if (outcome.current < 0) wrong.setCurrentNoStream(new Empty());
    else wrong.setCurrentRevision(String(outcome.current));
    const expected = outcome.expected;
    if (expected.kind === 'revision') wrong.setExpectedRevision(String(expected.revision));
    else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new Empty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new Empty());
    else wrong.setExpectedAny(new Empty());
    resp.setWrongExpectedVersion(wrong);
    return resp;
  }
  const ok = new AppendResp.Success();
  if (outcome.revision < 0) ok.setNoStream(new Empty());
  else ok.setCurrentRevision(String(outcome.revision));
  if (outcome.last) {
    const position = new AppendResp.Position();
    position.setCommitPosition(String(outcome.last.position));
    position.setPreparePosition(String(outcome.last.position));
    ok.setPosition(position);
  } else {
    ok.setNoPosition(new Empty());
  }
  resp.setSuccess(ok);
  return resp;
}

function maxAppendSizeExceeded(maxAppendSize: number): Partial<GrpcJs.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set('exception', 'maximum-append-size-exceeded');
  metadata.set('maximum-append-size', String(maxAppendSize));
  return { code: grpc.status.INVALID_ARGUMENT, details: `Maximum Append Size of ${maxAppendSize} Exceeded.`, metadata };
}

export function handleAppend(
  log: Log,
  policy: AppendPolicy,
  call: GrpcJs.ServerReadableStream<AppendReq, AppendResp>,
  callback: GrpcJs.sendUnaryData<AppendResp>,
): void {
  let options: AppendReq.Options | undefined;
  const proposed: Proposed[] = [];
  call.on('data', (req: AppendReq) => {
    const message = req.getProposedMessage();
    if (req.hasOptions()) options = req.getOptions();
    else if (message) proposed.push(message);
  });
  call.on('end', () => {
    policy.count('append');
    const streamId = options ? streamName(options.getStreamIdentifier()) : '';
    const refusal = refused(policy, streamId);
    // The server refuses as soon as the sum is over the limit; the double at the end of the call.
    if (!options) callback({ code: grpc.status.INVALID_ARGUMENT, details: 'the first message must be the options' });
    else if (proposed.reduce((size, p) => size + sizeOnDisk(p), 0) > policy.maxAppendSize) callback(maxAppendSizeExceeded(policy.maxAppendSize));
    else if (refusal !== undefined) callback({ code: grpc.status.INVALID_ARGUMENT, details: refusal });
    else callback(null, appendResponse(log.append(streamId, expectedOfAppend(options), proposed)));
  });
}

// ---- BatchAppend ----

/** google.rpc.Status as the server's Status.cs builds them: a code, the detail's name, the detail packed in Any. */
function rpcStatus(code: Code, message: string, detail: { serializeBinary(): Uint8Array }, typeName: string): Status {
  const any = new Any();
  any.pack(detail.serializeBinary(), typeName);
  const status = new Status();
  status.setCode(code);
  status.setMessage(message);
  status.setDetails(any);
  return status;
}

function expectedOfBatch(options: BatchAppendReq.Options): Expected {
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  if (options.hasStreamPosition()) return { kind: 'revision', revision: Number(options.getStreamPosition()) };
  return { kind: 'any' };
}

function batchOutcome(outcome: AppendOutcome): (resp: BatchAppendResp) => void {
  return (resp) => {
    if (!outcome.ok) {
      const wrong = new WrongExpectedVersion();
      if (outcome.current < 0) wrong.setCurrentNoStream(new Empty());
      else wrong.setCurrentStreamRevision(String(outcome.current));
      const expected = outcome.expected;
      if (expected.kind === 'revision') wrong.setExpectedStreamPosition(String(expected.revision));
      else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new Empty());
      else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new Empty());
      else wrong.setExpectedAny(new Empty());
      resp.setError(rpcStatus(Code.ALREADY_EXISTS, 'WrongExpectedVersion', wrong, 'event_store.client.WrongExpectedVersion'));
      return;
    }
    const ok = new BatchAppendResp.Success();
    if (outcome.revision < 0) ok.setNoStream(new Empty());
    else ok.setCurrentRevision(String(outcome.revision));
    if (outcome.last) {
      const position = new AllStreamPosition();
      position.setCommitPosition(String(outcome.last.position));
      position.setPreparePosition(String(outcome.last.position));
      ok.setPosition(position);
    } else {
      ok.setNoPosition(new Empty());
    }
    resp.setSuccess(ok);
  };
}

interface PendingBatch {
  readonly streamId: string;
  readonly expected: Expected;
  readonly events: Proposed[];
  size: number;
}

/**
 * One call carries any number of appends, each a run of requests with the same correlation id: options first,
 * proposed messages in one or more requests, the last one `is_final`. Each append gets one response with its
 * correlation id; a refused one (too large, wrong expected version, bad request) does not end the call.
 */
export function handleBatchAppend(log: Log, policy: AppendPolicy, call: GrpcJs.ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void {
  const pending = new Map<string, PendingBatch>();
  const respond = (req: BatchAppendReq, streamId: string, fill: (resp: BatchAppendResp) => void): void => {
    const resp = new BatchAppendResp();
    resp.setCorrelationId(req.getCorrelationId());
    const identifier = new StreamIdentifier();
    identifier.setStreamName(Buffer.from(streamId, 'utf8'));
    resp.setStreamIdentifier(identifier);
    fill(resp);
    call.write(resp);
  };
  call.on('data', (req: BatchAppendReq) => {
    const correlationId = req.getCorrelationId()?.getString() ?? '';
    const options = req.getOptions();
    if (options) {
      if (!options.hasStreamIdentifier()) {
        const bad = new BadRequest();
        bad.setMessage('Required field StreamIdentifier not set.');
        respond(req, '', (resp) => resp.setError(rpcStatus(Code.INVALID_ARGUMENT, 'BadRequest', bad, 'event_store.client.BadRequest')));
        return;
      }
      if (!pending.has(correlationId)) {
        pending.set(correlationId, { streamId: streamName(options.getStreamIdentifier()), expected: expectedOfBatch(options), events: [], size: 0 });
      }
    }
    const batch = pending.get(correlationId);
    if (!batch) return; // already refused (too large): the server ignores the rest of that append
    for (const p of req.getProposedMessagesList()) {
      batch.events.push(p);
      batch.size += sizeOnDisk(p);
    }
    // As the server: the size is checked after every request, and an append over the limit is refused at once.
    if (batch.size > policy.maxAppendSize) {
      pending.delete(correlationId);
      policy.count('batchAppend');
      const max = new MaximumAppendSizeExceeded();
      max.setMaxappendsize(policy.maxAppendSize);
      respond(req, batch.streamId, (resp) => resp.setError(rpcStatus(Code.INVALID_ARGUMENT, 'MaximumAppendSizeExceeded', max, 'event_store.client.MaximumAppendSizeExceeded')));
      return;
    }
    if (!req.getIsFinal()) return;
    pending.delete(correlationId);
    policy.count('batchAppend');
    const refusal = refused(policy, batch.streamId);
    if (refusal !== undefined) {
      // What the server sends for an event it cannot take (e.g. a missing `type`): its exception's message.
      const bad = new BadRequest();
      bad.setMessage(refusal);
      respond(req, batch.streamId, (resp) => resp.setError(rpcStatus(Code.INVALID_ARGUMENT, 'BadRequest', bad, 'event_store.client.BadRequest')));
      return;
    }
    respond(req, batch.streamId, batchOutcome(log.append(batch.streamId, batch.expected, batch.events)));
  });
  call.on('end', () => call.end());
}

/**
 * The double's log: streams, $all positions, expected-revision checks and ESDB's idempotent re-append, shared by
 * Append and BatchAppend so that both answer the same (see ../eventstoredb-grpc-double.ts for what is modelled).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as GrpcJs from '@grpc/grpc-js';
import { AppendReq } from '@eventstore/db-client/generated/streams_pb';
import { StreamIdentifier, UUID } from '@eventstore/db-client/generated/shared_pb';

// The very @grpc/grpc-js the client resolves (it is the client's dependency, not ours).
export const grpc = createRequire(require.resolve('@eventstore/db-client'))('@grpc/grpc-js') as typeof GrpcJs;

export interface StoredEvent {
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

/** What Append's and BatchAppend's proposed messages have in common (two generated classes, one shape). */
export interface Proposed {
  getId(): UUID | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

export type Expected = { kind: 'any' | 'no_stream' | 'stream_exists' } | { kind: 'revision'; revision: number };

/** The outcome of an append, before either RPC puts it into its own response message. */
export type AppendOutcome =
  | { readonly ok: true; readonly revision: number; readonly last: StoredEvent | undefined }
  | { readonly ok: false; readonly expected: Expected; readonly current: number };

export class Log {
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

  /** Append with an expected revision, as the server's storage writer does it for both RPCs. */
  append(streamId: string, expected: Expected, proposed: readonly Proposed[]): AppendOutcome {
    const stream = this.streams.get(streamId) ?? [];
    const current = stream.length - 1;
    const idempotent = alreadyWritten(stream, expected, proposed);
    if (idempotent) return { ok: true, revision: idempotent.revision, last: idempotent };
    if (!expectationHolds(expected, current)) return { ok: false, expected, current };
    if (proposed.length === 0) return { ok: true, revision: current, last: undefined };
    const written = this.write(streamId, proposed);
    return { ok: true, revision: this.revisionOf(streamId), last: written[written.length - 1] };
  }
}

export function streamName(identifier: StreamIdentifier | undefined): string {
  return Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');
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

/** EventStoreDB's default `MaxAppendSize`. */
export const DEFAULT_MAX_APPEND_SIZE = 1024 * 1024;

/** The server's `Event.SizeOnDisk`: what counts towards the maximum append size. */
export function sizeOnDisk(p: Proposed): number {
  return p.getData_asU8().length + p.getCustomMetadata_asU8().length + (p.getMetadataMap().get('type') ?? '').length * 2;
}

/** A few system events at the start of the log, as a fresh server has. */
export function seed(log: Log): void {
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

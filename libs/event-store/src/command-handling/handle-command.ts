import { StreamVersionConflict } from '../errors';
import type { EventStore, EventToAppend, ExpectedRevision } from '../event-store.port';

/**
 * Load → fold → decide → append with the expected revision: the one write path, shared by the HTTP API, the SLA
 * watcher and the importer (Emmett's CommandHandler shape). It knows deciders only structurally, so this library
 * still knows nothing of the domain.
 */
export interface DeciderLike<C, S, E extends { type: string; data: unknown }> {
  decide(command: C, state: S, now: Date): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
}

export interface EventMetadata {
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: { readonly id: string; readonly role: string };
  /** Business time; now when absent. */
  readonly occurredAt?: string;
}

export interface HandleCommandOptions<C, S> {
  readonly streamId: string;
  readonly command: C | ((state: S) => C);
  readonly metadata: EventMetadata;
  readonly now: () => Date;
  readonly newEventId: (now: Date) => string;
  /** The revision the caller decided on (If-Match). A mismatch is refused, never retried. */
  readonly expectedRevision?: number;
  /** Attempts when the stream changed between read and append (re-deciding a pure decider is safe). */
  readonly maxAttempts?: number;
  /** Folded states to continue from (see AggregateCache). */
  readonly cache?: AggregateCache;
  /** Schema version each event type is written with (default 1). */
  readonly schemaVersionOf?: (type: string) => number;
}

export type HandleCommandResult =
  | { readonly kind: 'appended'; readonly streamRevision: number; readonly position: number; readonly appended: number }
  | { readonly kind: 'unchanged'; readonly streamRevision: number; readonly position: number; readonly appended: 0 };

/** The stream is not at the revision the caller expected (If-Match). Nothing was appended. */
export class ExpectedRevisionMismatch extends Error {
  override readonly name = 'ExpectedRevisionMismatch';
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`${streamId}: expected revision ${expected}, current revision ${actual}`);
  }
}

interface CachedAggregate {
  readonly decider: object;
  readonly state: unknown;
  readonly revision: number;
  readonly position: number;
}

/**
 * Folded states of recently used streams (LRU). `handleCommand` first decides on the cached state without reading the
 * stream and lets the append's expected revision prove it current; a load (`loadAggregate`) reads the events after
 * the cached revision, so it is exact whoever else appends (other processes included). Deciders' states are
 * immutable values, so sharing them is safe.
 */
export class AggregateCache {
  private readonly entries = new Map<string, CachedAggregate>();
  constructor(private readonly maxEntries = 20_000) {}

  get(streamId: string, decider: object): CachedAggregate | undefined {
    const entry = this.entries.get(streamId);
    if (!entry || entry.decider !== decider) return undefined;
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    return entry;
  }

  set(streamId: string, entry: CachedAggregate): void {
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(streamId: string): void {
    this.entries.delete(streamId);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Events read per query when loading a stream. A long stream (a customer with years of contacts: the busiest of a
 * 1M-event store has ~900 events) is read, decrypted and folded in pages with a turn of the event loop between them:
 * read at once it blocked the process for ~25 ms, and every request that arrived meanwhile waited.
 */
export const STREAM_PAGE_SIZE = 100;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function loadAggregate<S, E extends { type: string; data: unknown }>(
  store: EventStore,
  streamId: string,
  decider: Pick<DeciderLike<never, S, E>, 'evolve' | 'initialState'>,
  cache?: AggregateCache,
  pageSize = STREAM_PAGE_SIZE,
): Promise<{ state: S; revision: number; position: number }> {
  const cached = cache?.get(streamId, decider);
  let state = cached ? (cached.state as S) : decider.initialState();
  let revision = cached?.revision ?? -1;
  let position = cached?.position ?? 0;
  for (;;) {
    const events = await store.readStream(streamId, { fromRevision: revision + 1, maxCount: pageSize });
    for (const e of events) state = decider.evolve(state, { type: e.type, data: e.data } as E);
    const last = events.at(-1);
    if (last) {
      revision = last.revision;
      position = last.position;
    }
    if (events.length < pageSize) break;
    await nextTurn();
  }
  const result = { state, revision, position };
  if (cache && result.revision >= 0) cache.set(streamId, { decider, ...result });
  return result;
}

export async function handleCommand<C, S, E extends { type: string; data: unknown }>(
  store: EventStore,
  decider: DeciderLike<C, S, E>,
  options: HandleCommandOptions<C, S>,
): Promise<HandleCommandResult> {
  const maxAttempts = options.maxAttempts ?? 4;
  const commandFor = (state: S): C => (typeof options.command === 'function' ? (options.command as (s: S) => C)(state) : options.command);
  const append = async (state: S, revision: number, events: E[], now: Date): Promise<HandleCommandResult> => {
    const toAppend = events.map((e): EventToAppend => {
      const eventId = options.newEventId(now);
      return {
        eventId,
        type: e.type,
        data: e.data,
        metadata: {
          eventId,
          correlationId: options.metadata.correlationId,
          causationId: options.metadata.causationId,
          actor: options.metadata.actor,
          occurredAt: options.metadata.occurredAt ?? now.toISOString(),
          recordedAt: now.toISOString(),
          schemaVersion: options.schemaVersionOf?.(e.type) ?? 1,
        },
      };
    });
    const expected: ExpectedRevision = revision === -1 ? 'no-stream' : revision;
    try {
      const result = await store.appendToStream(options.streamId, toAppend, { expectedRevision: expected });
      if (options.cache) {
        let next = state;
        for (const e of events) next = decider.evolve(next, e);
        options.cache.set(options.streamId, { decider, state: next, revision: result.nextExpectedRevision, position: result.position });
      }
      return { kind: 'appended', streamRevision: result.nextExpectedRevision, position: result.position, appended: events.length };
    } catch (error) {
      options.cache?.delete(options.streamId);
      throw error;
    }
  };

  // First, optimistically, on the cached state without reading the stream: the append's expected revision proves the
  // state was current (another writer's event makes it fail, and the command is decided again on a read stream). Only
  // an append is answered this way: a refusal, "nothing to do" or an If-Match mismatch is answered from a state that
  // was read, never from a cached one that may lack another process's events.
  const cached = options.cache?.get(options.streamId, decider);
  if (cached && (options.expectedRevision === undefined || options.expectedRevision === cached.revision)) {
    const state = cached.state as S;
    const now = options.now();
    let events: E[] = [];
    try {
      events = decider.decide(commandFor(state), state, now);
    } catch {
      events = []; // decided again below on a read state, which throws for real if it still refuses
    }
    if (events.length > 0) {
      try {
        return await append(state, cached.revision, events, now);
      } catch (error) {
        if (!(error instanceof StreamVersionConflict)) throw error;
      }
    }
  }

  for (let attempt = 1; ; attempt++) {
    const { state, revision, position } = await loadAggregate(store, options.streamId, decider, options.cache);
    if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
      throw new ExpectedRevisionMismatch(options.streamId, options.expectedRevision, revision);
    }
    const now = options.now();
    const events = decider.decide(commandFor(state), state, now);
    if (events.length === 0) return { kind: 'unchanged', streamRevision: revision, position, appended: 0 };
    try {
      return await append(state, revision, events, now);
    } catch (error) {
      if (!(error instanceof StreamVersionConflict)) throw error;
      if (options.expectedRevision !== undefined) {
        throw new ExpectedRevisionMismatch(options.streamId, options.expectedRevision, error.actual ?? revision + 1);
      }
      if (attempt >= maxAttempts) throw error;
    }
  }
}

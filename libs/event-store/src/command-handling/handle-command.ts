import { StreamVersionConflict } from '../errors';
import type { EventStore, EventToAppend, ExpectedRevision } from '../event-store.port';
import type { CommandMetadata, EventMetadataFactory } from './event-metadata';
import { failed, inSpan, tracer, tracingOn } from '../tracing/trace-context';

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

export interface HandleCommandOptions<C, S> {
  readonly streamId: string;
  readonly command: C | ((state: S) => C);
  readonly metadata: CommandMetadata;
  readonly now: () => Date;
  /** Makes each event's id and metadata (one factory for every writer: eventMetadataFactory). */
  readonly eventMetadata: EventMetadataFactory;
  /** The revision the caller decided on (If-Match). A mismatch is refused, never retried. */
  readonly expectedRevision?: number;
  /** Attempts when the stream changed between read and append (re-deciding a pure decider is safe). */
  readonly maxAttempts?: number;
  /** Waits between those attempts (jittered exponential backoff); injectable so tests need not wait. */
  readonly backoff?: Partial<ConflictBackoff>;
  /** Folded states to continue from (see AggregateCache). */
  readonly cache?: AggregateCache;
  /**
   * The request behind `metadata.idempotencyKey` may already have appended (its process died before it answered):
   * read the stream for events carrying that key first, and if there are any answer with them and append nothing.
   */
  readonly recoverIdempotencyKey?: boolean;
}

/**
 * Backoff between attempts after a StreamVersionConflict (another process appended between our read and our append):
 * "full jitter" (a random wait up to base·2^(attempt-1), capped), so writers that collided do not collide again in
 * lockstep. With the defaults, 8 attempts wait at most 5+10+20+40+80+160+250 ms ≈ 0.57 s in all.
 */
export interface ConflictBackoff {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** In [0, 1). */
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_MAX_ATTEMPTS = 8;

const DEFAULT_BACKOFF: ConflictBackoff = {
  baseDelayMs: 5,
  maxDelayMs: 250,
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function backoffDelayMs(attempt: number, backoff: Pick<ConflictBackoff, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(backoff.random() * ceiling);
}

export type HandleCommandResult =
  | { readonly kind: 'appended'; readonly streamRevision: number; readonly position: number; readonly appended: number }
  | { readonly kind: 'unchanged'; readonly streamRevision: number; readonly position: number; readonly appended: 0 }
  /** An earlier attempt of the same keyed request had appended: its outcome (its last event), nothing appended now. */
  | { readonly kind: 'recovered'; readonly streamRevision: number; readonly position: number; readonly appended: 0 };

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

/**
 * The last event of `streamId` whose metadata carries `idempotencyKey`, read from the store (never from a cache: the
 * events may come from a process that died). Read backwards: a keyed request's events are usually the newest.
 */
export async function findIdempotentOutcome(
  store: EventStore,
  streamId: string,
  idempotencyKey: string,
  pageSize = STREAM_PAGE_SIZE,
): Promise<{ streamRevision: number; position: number } | undefined> {
  let fromRevision: number | undefined;
  for (;;) {
    const events = await store.readStream(streamId, { direction: 'backwards', fromRevision, maxCount: pageSize });
    for (const e of events) {
      if (e.metadata['idempotencyKey'] === idempotencyKey) return { streamRevision: e.revision, position: e.position };
    }
    const oldest = events.at(-1);
    if (events.length < pageSize || !oldest || oldest.revision === 0) return undefined;
    fromRevision = oldest.revision - 1;
    await nextTurn();
  }
}

export async function handleCommand<C, S, E extends { type: string; data: unknown }>(
  store: EventStore,
  decider: DeciderLike<C, S, E>,
  options: HandleCommandOptions<C, S>,
): Promise<HandleCommandResult> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const commandFor = (state: S): C => (typeof options.command === 'function' ? (options.command as (s: S) => C)(state) : options.command);
  // Spans of the decision and of the append (children of the request's span when traced): the two costs of a command
  // that a trace should tell apart. The decision is synchronous and pure, so its span is never the active one.
  const traced = tracingOn();
  const decide = (state: S, now: Date): E[] => {
    if (!traced) return decider.decide(commandFor(state), state, now);
    const span = tracer.startSpan('decide', { attributes: { 'crm.stream.id': options.streamId } });
    try {
      const events = decider.decide(commandFor(state), state, now);
      if (span.isRecording()) span.setAttribute('crm.event.count', events.length);
      return events;
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  };
  const append = (state: S, revision: number, events: E[], now: Date): Promise<HandleCommandResult> => !traced
    ? appendNow(state, revision, events, now)
    : inSpan('append', { 'crm.stream.id': options.streamId, 'crm.event.count': events.length, 'crm.stream.expected_revision': revision }, async (span) => {
      const result = await appendNow(state, revision, events, now);
      if (span.isRecording()) span.setAttributes({ 'crm.log.position': result.position, 'crm.stream.revision': result.streamRevision });
      return result;
    });
  const appendNow = async (state: S, revision: number, events: E[], now: Date): Promise<HandleCommandResult> => {
    const toAppend = events.map((e): EventToAppend => {
      const metadata = options.eventMetadata(e.type, options.metadata, now);
      return { eventId: metadata.eventId, type: e.type, data: e.data, metadata };
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

  // Only a recovered key pays for this read: an ordinary keyed or unkeyed command goes straight to deciding.
  const key = options.metadata.idempotencyKey;
  if (options.recoverIdempotencyKey && key !== undefined) {
    const earlier = await findIdempotentOutcome(store, options.streamId, key);
    if (earlier) return { kind: 'recovered', ...earlier, appended: 0 };
  }

  // First, optimistically, on the cached state without reading the stream: the append's expected revision proves the
  // state was current (another writer's event makes it fail, and the command is decided again on a read stream). Only
  // an append is answered this way: a refusal, "nothing to do" or an If-Match mismatch is answered from a state that
  // was read, never from a cached one that may lack another process's events.
  let conflictedOnCache = false;
  const cached = options.cache?.get(options.streamId, decider);
  if (cached && (options.expectedRevision === undefined || options.expectedRevision === cached.revision)) {
    const state = cached.state as S;
    const now = options.now();
    let events: E[] = [];
    try {
      events = decide(state, now);
    } catch {
      events = []; // decided again below on a read state, which throws for real if it still refuses
    }
    if (events.length > 0) {
      try {
        return await append(state, cached.revision, events, now);
      } catch (error) {
        if (!(error instanceof StreamVersionConflict)) throw error;
        conflictedOnCache = true;
      }
    }
  }

  const backoff: ConflictBackoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  for (let attempt = 1; ; attempt++) {
    // After a conflict, a keyed command looks for its key first: the other writer may have been another attempt of
    // this very request (a retry that took over the reservation once its lease ran out), whose outcome is then ours.
    if (key !== undefined && (attempt > 1 || conflictedOnCache)) {
      const earlier = await findIdempotentOutcome(store, options.streamId, key);
      if (earlier) return { kind: 'recovered', ...earlier, appended: 0 };
    }
    const { state, revision, position } = await loadAggregate(store, options.streamId, decider, options.cache);
    if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
      throw new ExpectedRevisionMismatch(options.streamId, options.expectedRevision, revision);
    }
    const now = options.now();
    const events = decide(state, now);
    if (events.length === 0) return { kind: 'unchanged', streamRevision: revision, position, appended: 0 };
    try {
      return await append(state, revision, events, now);
    } catch (error) {
      if (!(error instanceof StreamVersionConflict)) throw error;
      if (options.expectedRevision !== undefined) {
        throw new ExpectedRevisionMismatch(options.streamId, options.expectedRevision, error.actual ?? revision + 1);
      }
      if (attempt >= maxAttempts) throw error;
      await backoff.sleep(backoffDelayMs(attempt, backoff));
    }
  }
}

import { customerStream, DomainError, type CustomerCommand, type DomainErrorCode, type SlaPolicy } from '@crm/domain';
import { AggregateCache, handleCommand, type DeciderLike, type EventMetadataFactory, type EventStore } from '@crm/event-store';
import type { ComplaintDecider, CustomerDecider, OrderDecider } from '@crm/runtime';
import type { ProgressSink } from './progress';
import type { RejectsFile } from './rejects';
import { Tally } from './summary';

/** Everything an import of one file shares: the store, the deciders, the ids that tie its events together, tallies. */
export interface ImportContext {
  readonly store: EventStore;
  readonly deciders: { readonly customer: CustomerDecider; readonly complaint: ComplaintDecider; readonly order: OrderDecider };
  /** The SLA policy the complaint decider applies (the importer dates breaches at their deadlines, as the watcher). */
  readonly slaPolicy: SlaPolicy;
  /** Correlation id of every event of this import run. */
  readonly correlationId: string;
  readonly now: () => Date;
  /** The writers' one metadata factory (domainEventMetadata): ids and the current schema version of each type. */
  readonly eventMetadata: EventMetadataFactory;
  readonly progress: ProgressSink;
  readonly rejects: RejectsFile;
  /** Commands in flight at once: appends issued in the same tick share one SQLite transaction (group commit). */
  readonly concurrency: number;
  readonly counts: Tally;
  readonly skipped: Tally;
  readonly notes: Record<string, unknown>;
  eventsAppended: number;
  /**
   * Whether a run's first command on a stream is decided on an empty state without reading the stream (see
   * `execute`'s `firstOnStream`). True until a stream so assumed turns out to exist (a repeated or resumed import):
   * from then on every such command reads its stream first, as any other.
   */
  assumeNewStreams: boolean;
}

export const IMPORTER_ACTOR = { id: 'importer', role: 'system' } as const;

export type Outcome =
  | { readonly kind: 'appended'; readonly appended: number }
  /** The decider had nothing to append: the fact is already in the stream (a repeated import). */
  | { readonly kind: 'unchanged' }
  /** A business rule refused the command; nothing was appended. */
  | { readonly kind: 'refused'; readonly code: DomainErrorCode; readonly message: string };

/**
 * The decider, except that a command whose fact the stream already holds decides nothing. This is what makes a
 * repeated import append nothing while every first-time command still goes through the real decider (and all its
 * rules). The test is the importer's knowledge of its own deterministic ids, not a business rule.
 */
export function skippingDecider<C, S, E extends { type: string; data: unknown }>(
  decider: DeciderLike<C, S, E>,
  alreadyDone: (command: C, state: S) => boolean,
): DeciderLike<C, S, E> {
  return {
    decide: (command, state, now) => (alreadyDone(command, state) ? [] : decider.decide(command, state, now)),
    evolve: decider.evolve,
    initialState: decider.initialState,
  };
}

/** handleCommand with the importer's metadata; domain refusals come back as an outcome, store failures throw. */
export async function execute<C, S, E extends { type: string; data: unknown }>(
  ctx: ImportContext,
  args: {
    decider: DeciderLike<C, S, E>;
    streamId: string;
    command: C | ((state: S) => C);
    /** Business time of the fact. */
    occurredAt: string;
    /** The source record that caused it, e.g. `online-retail:536365`. */
    causationId: string;
    /** Folded states to continue from, for streams that take several commands in a row (same decider object). */
    cache?: AggregateCache;
    /**
     * This run has not written to the stream before (the importer's ids are its own). While `ctx.assumeNewStreams`,
     * the command is decided on the decider's initial state without an (empty) stream read: handleCommand appends it
     * with expected revision "no stream", which proves the assumption, and if the stream exists after all the append
     * is refused and the command decided again on the stream as read, exactly as without the assumption. Only
     * appends are ever answered from the assumed state. The full online-retail import skips 23k empty reads so.
     */
    firstOnStream?: boolean;
  },
): Promise<Outcome> {
  let cache = args.cache;
  const assumed = args.firstOnStream === true && ctx.assumeNewStreams && cache?.get(args.streamId, args.decider) === undefined;
  if (assumed) {
    cache ??= new AggregateCache(1);
    cache.set(args.streamId, { decider: args.decider, state: args.decider.initialState(), revision: -1, position: 0 });
  }
  try {
    const result = await handleCommand(ctx.store, args.decider, {
      streamId: args.streamId,
      command: args.command,
      cache,
      now: ctx.now,
      eventMetadata: ctx.eventMetadata,
      metadata: { correlationId: ctx.correlationId, causationId: args.causationId, actor: IMPORTER_ACTOR, occurredAt: args.occurredAt },
    });
    // The stream was there before this command: a repeated import, most likely; stop assuming.
    if (assumed && (result.kind !== 'appended' || result.streamRevision !== result.appended - 1)) ctx.assumeNewStreams = false;
    if (result.kind !== 'appended') return { kind: 'unchanged' };
    ctx.eventsAppended += result.appended;
    return { kind: 'appended', appended: result.appended };
  } catch (error) {
    if (error instanceof DomainError) {
      if (assumed) ctx.assumeNewStreams = false; // decided again on the stream as read: it may well have existed
      return { kind: 'refused', code: error.code, message: error.message };
    }
    throw error;
  }
}

/**
 * Runs `fn` over `items`, `size` at a time concurrently (one group commit per chunk, roughly). With `window` > 1, that
 * many chunks are in flight at once: the next chunk is decided while the previous one is sealed (sealing threads) and
 * committed; only for items on distinct streams, since chunks then overlap. Chunks start in order and `onChunk`
 * reports them in order.
 */
export async function inChunks<T>(
  items: readonly T[], size: number, fn: (item: T) => Promise<void>, onChunk?: (done: number) => void, window = 1,
): Promise<void> {
  const inFlight: Array<Promise<number>> = [];
  for (let i = 0; i < items.length; i += size) {
    const done = Math.min(items.length, i + size);
    const chunk = Promise.all(items.slice(i, i + size).map(fn)).then(() => done);
    chunk.catch(() => undefined); // awaited below, in order; this only keeps an early failure from being "unhandled"
    inFlight.push(chunk);
    if (inFlight.length >= window) onChunk?.(await inFlight.shift()!);
  }
  while (inFlight.length > 0) onChunk?.(await inFlight.shift()!);
}

export interface ImportedCustomer {
  readonly customerId: string;
  readonly name: string;
  readonly externalRef: string;
  readonly occurredAt: string;
  readonly causationId: string;
}

/**
 * RegisterCustomer through the customer decider, once per source id: an existing stream counts as `existing`
 * (a repeated import, or a customer registered before), not as an error.
 */
export async function registerCustomer(ctx: ImportContext, customer: ImportedCustomer): Promise<'registered' | 'existing' | Outcome & { kind: 'refused' }> {
  const command: CustomerCommand = {
    type: 'RegisterCustomer',
    data: { customerId: customer.customerId, kind: 'customer', name: customer.name, externalRef: customer.externalRef },
  };
  const outcome = await execute(ctx, {
    firstOnStream: true,
    decider: skippingDecider(ctx.deciders.customer, (_c, state) => state.exists),
    streamId: customerStream(customer.customerId),
    command,
    occurredAt: customer.occurredAt,
    causationId: customer.causationId,
  });
  if (outcome.kind === 'refused') return outcome;
  return outcome.kind === 'appended' ? 'registered' : 'existing';
}

export function newTallies(): { counts: Tally; skipped: Tally } {
  return { counts: new Tally(), skipped: new Tally() };
}

/**
 * EventStoreDB adapter of the EventStore port, over `@eventstore/db-client` 6.x (gRPC). Needs a server that returns
 * event positions on stream reads (22.6 or later) and, on a secure server, a user allowed to read $all (by default
 * only $admins may).
 *
 * Mapping:
 * - Events are JSON events: our `eventId` is the ESDB event id, `type` the event type, `data` the JSON body and our
 *   `metadata` the ESDB custom metadata. `position` is the event's commit position (`Number(commit)`; for events
 *   appended over gRPC commit == prepare, one per event), `recordedAt` the server's `created` time (ms precision).
 * - Expected revisions go through `toEsdbExpectedRevision` only (the successor client calls this `streamState`).
 * - `WrongExpectedVersionError` → `StreamVersionConflict` (actual revision, -1 for no stream); unreachable server,
 *   deadlines, leader changes, access denied and unknown server errors → `StoreUnavailable`; a missing stream reads
 *   as []. An append over the server's maximum append size → `AppendTooLarge`; any other append the server answers
 *   with INVALID_ARGUMENT → `InvalidAppend` (the 6.x client reports those it has no class for, e.g. the per-event
 *   size limit of newer servers, as "unknown", which read as unavailable and were retried forever). On BatchAppend
 *   (the client's path when the server announces it, as every current server does) the client keeps no reason for
 *   an invalid event: `InvalidAppend` then says "BadRequest". Other client errors (stream deleted, ...) pass through
 *   unchanged.
 * - `readAll`, `subscribeToAll` and `headPosition` hide system events (streams or types starting with `$`) and the
 *   adapter's own event-id reservation streams (below). `fromPosition` is exclusive, as the port says.
 *
 * What differs from the port or from the SQLite adapter, and why:
 * - Unique event ids. ESDB does not refuse an id that is already in the log: re-appending the same ids to the same
 *   stream is acknowledged idempotently and the same id in another stream is simply written again. Our ids are
 *   UUIDv7 made per append, so by default the adapter relies on that (no cost). With `reserveEventIds: true` it
 *   reserves every id before appending, by writing an `EventIdReserved` event to the stream
 *   `eventid-<id>` with expected revision no-stream (all ids of a batch in parallel), and refuses with
 *   `DuplicateEventId` when that stream is already taken. An append the server refuses (version conflict, invalid)
 *   releases its reservations (`EventIdReleased`), so the ids can be used again. This costs one extra round trip per
 *   append and one small stream per event, and it is not atomic with the append. An append that fails with
 *   `StoreUnavailable` keeps its ids reserved, because it may have been written: retrying it with the same ids is
 *   refused with `DuplicateEventId` even if it was not (read the stream to tell). The same happens when the process
 *   dies, or a release fails, between a reservation and a refused append. Of two concurrent appends carrying the
 *   same id, the loser is refused even if the winner's append then fails. Streams named `eventid-…` are the
 *   adapter's: do not use that prefix for your own.
 * - Positions that are not an event's position. ESDB can only read $all from a record boundary (otherwise it
 *   answers "Trying to read from an invalid position"). A checkpoint taken from an event is read from directly; any
 *   other `fromPosition` (e.g. `p - 1`, `head + 1`) costs a backward scan of $all from the end to the first event at
 *   or before it, so it grows with its distance from the head.
 * - Subscriptions are served by the server (catch-up, then live, in one call), filtered server-side by event type
 *   or, without `eventTypes`, by stream name (system and reservation streams excluded). If the server drops the
 *   subscription (e.g. it restarts, or an older server cuts off a slow consumer), the iteration fails with
 *   `StoreUnavailable` after the events it had received; the consumer resubscribes from the last position it saw
 *   (the projection runner does, see libs/read-models/src/runner/resilient-subscription.ts). The adapter does not
 *   resubscribe by itself: only the consumer knows what it has seen, and an outage stays visible to it.
 * - Bounded calls. The 6.x client gives reads no deadline at all and BatchAppend (its path on every current server)
 *   only a deadline the server enforces, so a server that stops answering without closing the connection (a silent
 *   network drop) holds an append or a read until gRPC keep-alive gives up (~20 s by default). With
 *   `operationTimeoutMs` each append and each read page that takes longer fails with `StoreUnavailable` (the read is
 *   cancelled; the append may still be written, as with any StoreUnavailable). Subscriptions are not bounded: they
 *   are meant to wait; keep-alive ends a dead one and the consumer resubscribes.
 */
import type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  AppendExpectedRevision,
  CurrentRevision,
  Direction,
  EventStoreDBClient,
  Filter,
  JSONType,
  Position,
  ReadPosition,
  ResolvedEvent,
} from '@eventstore/db-client';
import { AppendTooLarge, DuplicateEventId, InvalidAppend, StoreUnavailable, StreamVersionConflict } from '../errors';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store.port';

/** Prefix of the streams in which the adapter reserves event ids. */
/**
 * The client (and gRPC under it) is loaded when an EventStoreDB store is first used, not when this module is: every
 * process imports this adapter through @crm/event-store, and loading the client took ~0.1–0.25 s of each embedded
 * `npm start` that never talks to EventStoreDB (bench cold-start).
 */
type EsdbClientModule = typeof import('@eventstore/db-client');
let esdbModule: EsdbClientModule | undefined;
const esdb = (): EsdbClientModule => (esdbModule ??= require('@eventstore/db-client') as EsdbClientModule);

export const EVENT_ID_RESERVATION_PREFIX = 'eventid-';
const RESERVED = 'EventIdReserved';
const RELEASED = 'EventIdReleased';
const PAGE_SIZE = 500;
/** A subscription stops reading from the server while this many events wait for the consumer. */
const SUBSCRIPTION_HIGH_WATER = 1000;

/** `work` if it settles within `ms`, else StoreUnavailable (after `onTimeout`, which cancels what can be cancelled). */
async function within<T>(ms: number | undefined, what: string, work: Promise<T>, onTimeout?: () => void): Promise<T> {
  if (ms === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new StoreUnavailable(`EventStoreDB: ${what} took longer than ${ms} ms`));
    }, ms);
  });
  // The abandoned call's eventual failure is ours to swallow (it is reported as the timeout).
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The one place where our expected revision becomes the client's (`streamState` in @kurrent/kurrentdb-client). */
export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return esdb().ANY;
    case 'no-stream':
      return esdb().NO_STREAM;
    case 'stream-exists':
      return esdb().STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
}

function toActualRevision(current: CurrentRevision): number | undefined {
  if (typeof current === 'bigint') return Number(current);
  return current === esdb().NO_STREAM ? -1 : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Whether readAll/subscribeToAll/headPosition leave this event out. */
function isHidden(streamId: string, type: string): boolean {
  return streamId.startsWith('$') || type.startsWith('$') || streamId.startsWith(EVENT_ID_RESERVATION_PREFIX);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function toJson(data: unknown): JSONType {
  if (typeof data === 'string' || Array.isArray(data) || isRecord(data)) return data;
  // Numbers, booleans and null are JSON too; the client JSON.stringifies `data` whatever its declared type.
  return data as JSONType;
}

function toEventData(event: EventToAppend) {
  return esdb().jsonEvent({ id: event.eventId, type: event.type, data: toJson(event.data), metadata: { ...event.metadata } });
}

/** The server could not be reached or could not serve us (as opposed to refusing the request itself). */
function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error) || !esdb().isCommandError(error)) return false;
  switch (error.type) {
    case esdb().ErrorType.UNAVAILABLE:
    case esdb().ErrorType.DEADLINE_EXCEEDED:
    case esdb().ErrorType.TIMEOUT:
    case esdb().ErrorType.CANCELLED:
    case esdb().ErrorType.NOT_LEADER:
    case esdb().ErrorType.ACCESS_DENIED:
      return true;
    default:
      return false;
  }
}

/** gRPC's INVALID_ARGUMENT status code. */
const GRPC_INVALID_ARGUMENT = 3;

interface RawServiceError {
  readonly code?: number;
  readonly details?: string;
  readonly metadata?: { getMap(): Record<string, unknown> };
}

/** An append the server refused as too large or invalid, as our error; undefined for any other failure. */
function appendRefusal(streamId: string, error: unknown): AppendTooLarge | InvalidAppend | undefined {
  if (!(error instanceof Error) || !esdb().isCommandError(error)) return undefined;
  if (error.type === esdb().ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED) {
    const max = (error as { maxAppendSize?: number }).maxAppendSize;
    return new AppendTooLarge(streamId, Number.isFinite(max) ? max : undefined, { cause: error });
  }
  // BatchAppend (the client's path whenever the server announces it) reports refusals as google.rpc.Status messages;
  // the 6.x client keeps only the status message of details it has no class for: "Could not recognize BadRequest"
  // (an event the server cannot take; its reason is lost) or "... MaximumAppendEventSizeExceeded" (newer servers).
  const unrecognised = error.type === esdb().ErrorType.UNKNOWN ? /^Could not recognize (\w+)$/.exec(error.message)?.[1] : undefined;
  if (unrecognised === 'MaximumAppendEventSizeExceeded') return new AppendTooLarge(streamId, undefined, { cause: error });
  if (unrecognised === 'BadRequest') return new InvalidAppend(streamId, 'BadRequest', { cause: error });
  const raw = (error as { _raw?: RawServiceError })._raw;
  const code = (error as { code?: unknown }).code ?? raw?.code;
  if (error.type !== esdb().ErrorType.INVALID_ARGUMENT && code !== GRPC_INVALID_ARGUMENT) return undefined;
  const exception = String(raw?.metadata?.getMap()['exception'] ?? '');
  // Newer servers also limit each event ("maximum-append-event-size-exceeded"), which this client does not know.
  if (exception.includes('size-exceeded')) return new AppendTooLarge(streamId, undefined, { cause: error });
  return new InvalidAppend(streamId, raw?.details ?? error.message, { cause: error });
}

/** Errors of the store rather than of the caller become StoreUnavailable; the rest pass through. */
function mapError(error: unknown): unknown {
  if ([StoreUnavailable, StreamVersionConflict, DuplicateEventId].some((ours) => error instanceof ours)) return error;
  const refused = error instanceof Error && esdb().isCommandError(error) && error.type !== esdb().ErrorType.UNKNOWN;
  // The request itself was refused (invalid argument, stream deleted, append too large, ...): pass it on.
  if (refused && !isConnectionFailure(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailable(`EventStoreDB: ${message}`, { cause: error });
}

/** The event's position as the client reports it ($all reads always carry one; stream reads from 22.6 on). */
function positionOf(resolved: ResolvedEvent | AllStreamResolvedEvent): Position | undefined {
  const position = resolved.event?.position;
  if (position) return position;
  const commit = resolved.commitPosition;
  return commit === undefined ? undefined : { commit, prepare: commit };
}

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event) return undefined;
  const position = positionOf(resolved);
  if (!position) throw new StoreUnavailable('EventStoreDB sent an event without its position (server before 22.6?)');
  return {
    eventId: event.id,
    type: event.type,
    data: event.data,
    metadata: isRecord(event.metadata) ? event.metadata : {},
    streamId: event.streamId,
    revision: Number(event.revision),
    position: Number(position.commit),
    recordedAt: event.created.toISOString(),
  };
}

interface LogEntry {
  /** The raw position, to continue reading from exactly here. */
  readonly at: Position;
  /** Undefined for events the adapter hides. */
  readonly event: RecordedEvent | undefined;
}

interface Reservation {
  readonly stream: string;
  readonly revision: bigint;
}

export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly ownsClient: boolean;
  private readonly subscriptions = new Set<EsdbSubscription>();
  private closed = false;

  private readonly reserveIds: boolean;
  private readonly operationTimeoutMs: number | undefined;

  /**
   * From a connection string (the store owns and closes the client) or an existing client (the caller closes it).
   * `operationTimeoutMs`: the bound of each append and read page (see "Bounded calls" above; default none).
   */
  constructor(connection: string | EventStoreDBClient, options: { reserveEventIds?: boolean; operationTimeoutMs?: number } = {}) {
    this.reserveIds = options.reserveEventIds ?? false;
    this.operationTimeoutMs = options.operationTimeoutMs;
    this.ownsClient = typeof connection === 'string';
    this.client = typeof connection === 'string' ? esdb().EventStoreDBClient.connectionString(connection) : connection;
  }

  async appendToStream(
    streamId: string,
    events: readonly EventToAppend[],
    options: { readonly expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    this.assertOpen();
    const expected = options.expectedRevision ?? 'any';
    const reservations = this.reserveIds ? await this.reserveEventIds(streamId, events) : [];
    const appended = this.client.appendToStream(streamId, events.map(toEventData), { expectedRevision: toEsdbExpectedRevision(expected) });
    const result = await within(this.operationTimeoutMs, `append to ${streamId}`, appended)
      .catch(async (error: unknown) => {
        const refusal =
          error instanceof esdb().WrongExpectedVersionError
            ? new StreamVersionConflict(streamId, expected, toActualRevision(error.actualVersion))
            : appendRefusal(streamId, error) ?? mapError(error);
        // After a failure of the store the append may still have been written: its ids stay reserved.
        if (!(refusal instanceof StoreUnavailable)) await this.release(reservations);
        throw refusal;
      });
    if (events.length === 0) {
      // Nothing written: the server reports no position, and revision 0 for a missing stream.
      const [last] = await this.readStream(streamId, { direction: 'backwards', maxCount: 1 });
      return { nextExpectedRevision: last?.revision ?? -1, position: await this.headPosition() };
    }
    const position = result.position ? Number(result.position.commit) : await this.headPosition();
    return { nextExpectedRevision: Number(result.nextExpectedRevision), position };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const backwards = options.direction === 'backwards';
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    let from = options.fromRevision;
    if (maxCount <= 0 || (backwards && from !== undefined && from < 0)) return [];
    if (from !== undefined && from < 0) from = 0;
    const events: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: backwards ? esdb().BACKWARDS : esdb().FORWARDS,
        fromRevision: from === undefined ? (backwards ? esdb().END : esdb().START) : BigInt(from),
        maxCount,
      });
      const collect = async (): Promise<void> => {
        for await (const resolved of read) {
          const event = toRecorded(resolved);
          if (event) events.push(event);
        }
      };
      await within(this.operationTimeoutMs, `read of ${streamId}`, collect(), () => void read.cancel().catch(() => undefined));
    } catch (error) {
      if (error instanceof esdb().StreamNotFoundError) return [];
      throw mapError(error);
    }
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const backwards = options.direction === 'backwards';
    const wanted = options.maxCount ?? Number.POSITIVE_INFINITY;
    const types = options.eventTypes ? new Set(options.eventTypes) : undefined;
    let bound = options.fromPosition;
    if (wanted <= 0 || (backwards && bound !== undefined && bound <= 0)) return [];
    let cursor: ReadPosition = backwards ? esdb().END : esdb().START;
    // Positions up to 0 need no lookup (the log starts with a non-event record), anything else may.
    if (bound !== undefined && bound > 0) {
      const around = await this.locate(bound);
      cursor = backwards ? around.ceil : around.floor;
    }
    const events: RecordedEvent[] = [];
    for (;;) {
      const page = await this.readLog(cursor, backwards ? esdb().BACKWARDS : esdb().FORWARDS, PAGE_SIZE);
      for (const { at, event } of page) {
        const position = Number(at.commit);
        // `bound` is exclusive; it also skips the event a page starts on, which the previous page ended with.
        const beyond = bound === undefined || (backwards ? position < bound : position > bound);
        if (!beyond) continue;
        bound = position;
        if (!event || (types && !types.has(event.type))) continue;
        events.push(event);
        if (events.length >= wanted) return events;
      }
      const last = page[page.length - 1];
      if (page.length < PAGE_SIZE || !last) return events;
      cursor = last.at;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    const from = options.fromPosition;
    const types = options.eventTypes;
    const filter: Filter = types
      ? esdb().eventTypeFilter({ regex: types.length ? `^(?:${types.map(escapeRegex).join('|')})$` : '(?!)' })
      : esdb().streamNameFilter({ regex: `^(?!\\$|${escapeRegex(EVENT_ID_RESERVATION_PREFIX)})` });
    const open = async (): Promise<AllStreamSubscription> => {
      let fromPosition: ReadPosition = esdb().START;
      if (from !== undefined && from > 0) {
        const { floor } = await this.locate(from);
        fromPosition = floor; // the server delivers events after this position
      }
      return this.client.subscribeToAll({ fromPosition, filter });
    };
    const subscription = new EsdbSubscription(open, from ?? -1, types ? new Set(types) : undefined, (s) =>
      this.subscriptions.delete(s),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    let cursor: ReadPosition = esdb().END;
    for (;;) {
      const page = await this.readLog(cursor, esdb().BACKWARDS, 100);
      const visible = page.find((entry) => entry.event);
      if (visible?.event) return visible.event.position;
      const last = page[page.length - 1];
      if (page.length < 100 || !last) return 0;
      cursor = last.at;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    if (this.ownsClient) await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailable('event store is closed');
  }

  /** One page of $all, hidden events included (so that paging and locating see every position). */
  private async readLog(from: ReadPosition, direction: Direction, maxCount: number): Promise<LogEntry[]> {
    try {
      return await this.readLogUnmapped(from, direction, maxCount);
    } catch (error) {
      throw mapError(error);
    }
  }

  private async readLogUnmapped(from: ReadPosition, direction: Direction, maxCount: number): Promise<LogEntry[]> {
    const entries: LogEntry[] = [];
    const read = this.client.readAll({ fromPosition: from, direction, maxCount });
    const collect = async (): Promise<void> => {
      for await (const resolved of read) {
        const at = positionOf(resolved);
        const event = resolved.event;
        if (!at || !event) continue;
        entries.push({ at, event: isHidden(event.streamId, event.type) ? undefined : toRecorded(resolved) });
      }
    };
    await within(this.operationTimeoutMs, 'read of $all', collect(), () => void read.cancel().catch(() => undefined));
    return entries;
  }

  /**
   * Valid ESDB read positions around `position`: `floor`, the last event at or before it (reading forwards from it,
   * inclusively, sees every event after `position`), and `ceil`, the first event at or after it (reading backwards
   * from it, exclusively, sees every event before `position`).
   */
  private async locate(position: number): Promise<{ floor: ReadPosition; ceil: ReadPosition }> {
    const exact: Position = { commit: BigInt(position), prepare: BigInt(position) };
    try {
      const [first] = await this.readLogUnmapped(exact, esdb().FORWARDS, 1);
      if (first && first.at.commit === exact.commit) return { floor: first.at, ceil: first.at };
    } catch (error) {
      // A real failure surfaces now; "invalid position" (an INVALID_ARGUMENT the client reports as unknown)
      // means `position` is not a record boundary, so find its neighbours from the end of the log instead.
      if (isConnectionFailure(error)) throw mapError(error);
    }
    let ceil: ReadPosition = esdb().END;
    let cursor: ReadPosition = esdb().END;
    for (;;) {
      const page = await this.readLog(cursor, esdb().BACKWARDS, PAGE_SIZE);
      for (const { at } of page) {
        if (at.commit === exact.commit) return { floor: at, ceil: at };
        if (at.commit < exact.commit) return { floor: at, ceil };
        ceil = at;
      }
      const last = page[page.length - 1];
      if (page.length < PAGE_SIZE || !last) return { floor: esdb().START, ceil };
      cursor = last.at;
    }
  }

  private async reserveEventIds(streamId: string, events: readonly EventToAppend[]): Promise<Reservation[]> {
    const outcomes = await Promise.allSettled(events.map((e) => this.reserve(e.eventId, streamId)));
    const reserved = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (refused) {
      await this.release(reserved);
      throw refused.reason;
    }
    return reserved;
  }

  private async reserve(eventId: string, streamId: string): Promise<Reservation> {
    const stream = `${EVENT_ID_RESERVATION_PREFIX}${eventId}`;
    const reservation = esdb().jsonEvent({ type: RESERVED, data: { streamId } });
    try {
      const result = await this.client.appendToStream(stream, reservation, { expectedRevision: esdb().NO_STREAM });
      return { stream, revision: result.nextExpectedRevision };
    } catch (error) {
      if (!(error instanceof esdb().WrongExpectedVersionError)) throw mapError(error);
    }
    // Reserved before: free again only if that reservation was released (its append was refused).
    const [last] = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
    if (last?.type !== RELEASED) throw new DuplicateEventId(eventId);
    try {
      const result = await this.client.appendToStream(stream, reservation, { expectedRevision: BigInt(last.revision) });
      return { stream, revision: result.nextExpectedRevision };
    } catch (error) {
      if (error instanceof esdb().WrongExpectedVersionError) throw new DuplicateEventId(eventId);
      throw mapError(error);
    }
  }

  /** Best effort: a reservation that cannot be released keeps its id unusable (see the header). */
  private async release(reservations: readonly Reservation[]): Promise<void> {
    await Promise.allSettled(
      reservations.map((r) =>
        this.client.appendToStream(r.stream, esdb().jsonEvent({ type: RELEASED, data: {} }), { expectedRevision: r.revision }),
      ),
    );
  }
}

/** Bridges the client's subscription stream to our Subscription: filtered, exclusive of `after`, with back-pressure. */
class EsdbSubscription implements Subscription {
  private readonly buffer: RecordedEvent[] = [];
  private source: AllStreamSubscription | undefined;
  private wake: (() => void) | undefined;
  private failure: unknown;
  private ended = false;
  private closed = false;

  constructor(
    open: () => Promise<AllStreamSubscription>,
    /** Exclusive: only events after this position; moves with every delivery so nothing comes twice. */
    private after: number,
    private readonly types: ReadonlySet<string> | undefined,
    private readonly onClose: (s: EsdbSubscription) => void,
  ) {
    open().then(
      (source) => (this.closed ? void source.unsubscribe() : this.attach(source)),
      (error: unknown) => this.fail(error),
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notify();
    this.onClose(this);
    await this.source?.unsubscribe();
  }

  private attach(source: AllStreamSubscription): void {
    this.source = source;
    source.on('data', (resolved: AllStreamResolvedEvent) => {
      try {
        this.accept(resolved);
      } catch (error) {
        this.fail(error);
      }
    });
    source.on('error', (error: unknown) => this.fail(error));
    source.on('end', () => {
      this.ended = true;
      this.notify();
    });
  }

  private accept(resolved: AllStreamResolvedEvent): void {
    const event = resolved.event;
    if (!event || isHidden(event.streamId, event.type)) return;
    if (this.types && !this.types.has(event.type)) return;
    const recorded = toRecorded(resolved);
    if (!recorded || recorded.position <= this.after) return;
    this.after = recorded.position;
    this.buffer.push(recorded);
    if (this.buffer.length >= SUBSCRIPTION_HIGH_WATER) this.source?.pause();
    this.notify();
  }

  private fail(error: unknown): void {
    if (this.closed || this.failure !== undefined) return;
    this.failure = mapError(error);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async next(): Promise<IteratorResult<RecordedEvent>> {
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const event = this.buffer.shift();
      if (event) {
        if (this.buffer.length < SUBSCRIPTION_HIGH_WATER / 2 && this.source?.isPaused()) this.source.resume();
        return { done: false, value: event };
      }
      if (this.failure !== undefined) {
        const failure = this.failure;
        await this.close();
        throw failure;
      }
      if (this.ended) {
        await this.close();
        throw new StoreUnavailable('EventStoreDB ended the subscription');
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

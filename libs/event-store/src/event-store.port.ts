/**
 * The event store port. It knows streams, revisions and a global order; it knows nothing of the domain.
 *
 * Revisions are 0-based (the first event of a stream has revision 0), as in EventStoreDB.
 * Positions are the global order of the log: strictly increasing, not necessarily contiguous
 * (EventStoreDB commit positions have gaps). `fromPosition` is always exclusive: "events after this checkpoint".
 */
export type ExpectedRevision = 'any' | 'no-stream' | 'stream-exists' | number;

export interface EventToAppend {
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface RecordedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
  /** Store time (ISO-8601, UTC) at which the append was committed. */
  readonly recordedAt: string;
  /**
   * The log's own JSON text of `data`, when a `readAll` asked for it (`dataJson`) and the store keeps JSON text: a
   * reader that stores the data as it is (the timeline) writes these bytes instead of serialising the parsed value
   * again. Only while `data` is what it parses to: whatever hands on an event with other data (an upcaster, the
   * opening of sealed fields) sets it to undefined.
   */
  readonly dataJson?: string;
}

/**
 * The personal fields to open, per event type (paths as the store's policy names them: PERSONAL_FIELDS); a type not
 * listed is left as stored. What a reader that needs only some of them asks for: the others stay sealed.
 */
export type PersonalFieldSelection = Readonly<Record<string, readonly string[]>>;

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  readonly nextExpectedRevision: number;
  /** Global position of the last appended event. */
  readonly position: number;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive. Defaults to the start (forwards) or the end (backwards). */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Exclusive; forwards: events with position > fromPosition; backwards: position < fromPosition. */
  readonly fromPosition?: number;
  readonly maxCount?: number;
  /** Only these event types (all when absent). */
  readonly eventTypes?: readonly string[];
  /**
   * Personal fields as stored (sealed, `enc:v1:…` under the subject's key), not opened: for readers that copy them
   * into read models as they are (see `openSealed`). A store that does not seal ignores it.
   */
  readonly sealed?: boolean;
  /** Also the stored JSON text of each event's data (`RecordedEvent.dataJson`); a store without it ignores this. */
  readonly dataJson?: boolean;
}

export interface SubscribeOptions {
  /** Exclusive checkpoint: the subscription delivers events with position > fromPosition. Default: from the start. */
  readonly fromPosition?: number;
  readonly eventTypes?: readonly string[];
}

/**
 * A catch-up subscription: first the stored events after the checkpoint, then live ones, in global order,
 * never one twice. Iterate it with `for await`; `close()` ends the iteration.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

export interface EventStore {
  appendToStream(
    streamId: string,
    events: readonly EventToAppend[],
    options?: { readonly expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult>;
  /** Empty array when the stream does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Events of a `sealed` read with their personal fields opened, as `readAll` would have returned them (one key
   * lookup for all of them), or only the fields `only` names. Only a store that seals has it; without it, reads are
   * never sealed.
   */
  openSealed?(events: readonly RecordedEvent[], only?: PersonalFieldSelection): Promise<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeOptions): Subscription;
  /** Position of the last event in the log, or 0 when it is empty. */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

export const EVENT_STORE = Symbol('EventStore');

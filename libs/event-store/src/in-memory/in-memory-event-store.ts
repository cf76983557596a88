import { AppendNotifier, catchUpSubscription } from '../catch-up-subscription';
import { checkExpectedRevision, DuplicateEventId } from '../errors';
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

/** For unit tests and benchmarks' baselines: the whole log in an array. */
export class InMemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly eventIds = new Set<string>();
  private readonly notifier = new AppendNotifier();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async appendToStream(
    streamId: string,
    events: readonly EventToAppend[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    const stream = this.streams.get(streamId) ?? [];
    checkExpectedRevision(streamId, options.expectedRevision ?? 'any', stream.length - 1);
    const seen = new Set<string>();
    for (const e of events) {
      if (this.eventIds.has(e.eventId) || seen.has(e.eventId)) throw new DuplicateEventId(e.eventId);
      seen.add(e.eventId);
    }
    const recordedAt = this.now().toISOString();
    for (const e of events) {
      const recorded: RecordedEvent = {
        eventId: e.eventId,
        type: e.type,
        data: structuredClone(e.data),
        metadata: structuredClone(e.metadata),
        streamId,
        revision: stream.length,
        position: this.log.length + 1,
        recordedAt,
      };
      stream.push(recorded);
      this.log.push(recorded);
      this.eventIds.add(e.eventId);
    }
    this.streams.set(streamId, stream);
    if (events.length > 0) this.notifier.notify();
    return { nextExpectedRevision: stream.length - 1, position: stream.at(-1)?.position ?? 0 };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const stream = this.streams.get(streamId) ?? [];
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (options.direction === 'backwards') {
      const from = options.fromRevision ?? stream.length - 1;
      return stream.filter((e) => e.revision <= from).reverse().slice(0, max);
    }
    const from = options.fromRevision ?? 0;
    return stream.filter((e) => e.revision >= from).slice(0, max);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const types = options.eventTypes ? new Set(options.eventTypes) : undefined;
    const matches = (e: RecordedEvent): boolean => !types || types.has(e.type);
    if (options.direction === 'backwards') {
      const before = options.fromPosition ?? Number.MAX_SAFE_INTEGER;
      return this.log.filter((e) => e.position < before && matches(e)).reverse().slice(0, max);
    }
    const after = options.fromPosition ?? 0;
    const result: RecordedEvent[] = [];
    for (let i = after; i < this.log.length && result.length < max; i++) {
      const e = this.log[i];
      if (e && matches(e)) result.push(e);
    }
    return result;
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    return catchUpSubscription((o) => this.readAll(o), this.notifier, options);
  }

  async headPosition(): Promise<number> {
    return this.log.length;
  }

  async close(): Promise<void> {
    this.notifier.notify();
  }
}

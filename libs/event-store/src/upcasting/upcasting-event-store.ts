import type {
  AppendResult, EventStore, EventToAppend, ExpectedRevision, ReadAllOptions, ReadStreamOptions, RecordedEvent, SubscribeOptions,
  Subscription,
} from '../event-store.port';

/**
 * Turns a stored event of (type, schemaVersion) into the next version. Stored events are never rewritten: every read
 * path sees the current shape instead (DESIGN §3).
 */
export interface Upcaster {
  readonly type: string;
  readonly fromVersion: number;
  upcast(data: unknown): unknown;
}

export class UpcasterRegistry {
  private readonly byKey = new Map<string, Upcaster>();

  constructor(upcasters: readonly Upcaster[]) {
    for (const u of upcasters) {
      const key = `${u.type}@${u.fromVersion}`;
      if (this.byKey.has(key)) throw new Error(`two upcasters for ${key}`);
      this.byKey.set(key, u);
    }
  }

  /** Applies upcasters until none matches; events written without a schemaVersion count as version 1. */
  apply(event: RecordedEvent): RecordedEvent {
    let version = typeof event.metadata['schemaVersion'] === 'number' ? event.metadata['schemaVersion'] : 1;
    let data = event.data;
    let upcaster = this.byKey.get(`${event.type}@${version}`);
    if (!upcaster) return event;
    while (upcaster) {
      data = upcaster.upcast(data);
      version += 1;
      upcaster = this.byKey.get(`${event.type}@${version}`);
    }
    // The stored text is of the old version's data (no dataJson). Object.assign, not spreads: both add properties,
    // the slow path of a spread on Node 20 (encrypting-event-store.ts).
    const metadata = Object.assign({}, event.metadata, { schemaVersion: version, storedSchemaVersion: event.metadata['schemaVersion'] ?? 1 });
    return Object.assign({}, event, { data, dataJson: undefined, metadata });
  }
}

/** An EventStore whose every read (streams, the global log, subscriptions) returns upcast events. */
export class UpcastingEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly registry: UpcasterRegistry,
  ) {}

  appendToStream(streamId: string, events: readonly EventToAppend[], options?: { readonly expectedRevision?: ExpectedRevision }): Promise<AppendResult> {
    return this.inner.appendToStream(streamId, events, options);
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return (await this.inner.readStream(streamId, options)).map((e) => this.registry.apply(e));
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return (await this.inner.readAll(options)).map((e) => this.registry.apply(e));
  }

  /**
   * Upcasters run on sealed events before they are opened: they may rename or reshape fields, but must not read a
   * personal field's value (it is ciphertext until opened). None does (EVENT_UPCASTERS).
   */
  get openSealed(): EventStore['openSealed'] {
    return this.inner.openSealed?.bind(this.inner);
  }

  subscribeToAll(options?: SubscribeOptions): Subscription {
    const inner = this.inner.subscribeToAll(options);
    const registry = this.registry;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const e of inner) yield registry.apply(e);
      },
      close: () => inner.close(),
    };
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

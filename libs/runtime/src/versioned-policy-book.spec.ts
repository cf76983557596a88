import { describe, expect, it, jest } from '@jest/globals';
import { DEFAULT_SLA_POLICY, SLA_POLICIES_STREAM, type SlaPolicy } from '@crm/domain';
import { InMemoryEventStore, type EventStore, type ReadStreamOptions, type RecordedEvent } from '@crm/event-store';
import { slaPolicyBook } from './policies';

const policy = (version: string): SlaPolicy => ({ ...DEFAULT_SLA_POLICY, version });

async function publish(store: EventStore, version: string): Promise<void> {
  await store.appendToStream(SLA_POLICIES_STREAM, [{
    eventId: `e-${version}`, type: 'SlaPolicyPublished', metadata: {},
    data: { policy: policy(version), publishedAt: '2027-01-04T08:00:00.000Z', publishedBy: 'admin-ada' },
  }]);
}

/** Records each read of the policies stream. */
function counting(store: EventStore): { events: Pick<EventStore, 'readStream'>; reads: ReadStreamOptions[] } {
  const reads: ReadStreamOptions[] = [];
  return {
    reads,
    events: {
      readStream: (streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> => {
        reads.push(options ?? {});
        return store.readStream(streamId, options);
      },
    },
  };
}

describe('StreamPolicyBook (SLA policies)', () => {
  it('is the configured policy while nothing is published', async () => {
    const book = slaPolicyBook(DEFAULT_SLA_POLICY, new InMemoryEventStore());
    await book.refresh();
    expect(book.current()).toBe(DEFAULT_SLA_POLICY);
    expect(book.byVersion('sla-2026-01')).toBe(DEFAULT_SLA_POLICY);
    expect(book.revision).toBe(-1);
    expect(book.versions()).toEqual([{ ...DEFAULT_SLA_POLICY, source: 'configuration', publishedAt: null, publishedBy: null }]);
  });

  it('follows what any process published, reading only from the first revision it has not seen', async () => {
    const store = new InMemoryEventStore();
    const { events, reads } = counting(store);
    const book = slaPolicyBook(DEFAULT_SLA_POLICY, events);
    await publish(store, 'sla-2027-01');
    await book.refresh();
    await publish(store, 'sla-2027-02');
    await book.refresh();
    await book.refresh();

    expect(reads.map((r) => r.fromRevision)).toEqual([0, 1, 2]);
    expect(book.current()).toEqual(policy('sla-2027-02'));
    expect(book.byVersion('sla-2027-01')).toEqual(policy('sla-2027-01'));
    expect(book.byVersion('sla-2026-01')).toBe(DEFAULT_SLA_POLICY);
    expect(book.byVersion('sla-1999')).toBeUndefined();
    expect(book.versions().map((v) => [v.version, v.source])).toEqual([
      ['sla-2027-02', 'published'], ['sla-2027-01', 'published'], ['sla-2026-01', 'configuration'],
    ]);
  });

  it('steps over an event of another type in the stream instead of reading it again for ever', async () => {
    const store = new InMemoryEventStore();
    const { events, reads } = counting(store);
    await store.appendToStream(SLA_POLICIES_STREAM, [{ eventId: 'e-note', type: 'SlaPolicyNoted', data: {}, metadata: {} }]);
    const book = slaPolicyBook(DEFAULT_SLA_POLICY, events);
    await book.refresh();
    await publish(store, 'sla-2027-01');
    await book.refresh();
    expect(reads.map((r) => r.fromRevision)).toEqual([0, 1]);
    expect(book.current().version).toBe('sla-2027-01');
    expect(book.revision).toBe(1);
  });

  it('applies each version once when refreshes overlap', async () => {
    const store = new InMemoryEventStore();
    await publish(store, 'sla-2027-01');
    await publish(store, 'sla-2027-02');
    const book = slaPolicyBook(DEFAULT_SLA_POLICY, store);
    await Promise.all([book.refresh(), book.refresh(), book.refresh()]);
    expect(book.revision).toBe(1);
    expect(book.versions()).toHaveLength(3);
  });

  it('polls the log while polling is on (the projector, whose watcher only needs earlier versions), and stops', async () => {
    jest.useFakeTimers();
    try {
      const store = new InMemoryEventStore();
      const book = slaPolicyBook(DEFAULT_SLA_POLICY, store);
      const errors: unknown[] = [];
      book.startPolling(1_000, (error) => errors.push(error));
      await publish(store, 'sla-2027-01');
      await jest.advanceTimersByTimeAsync(1_000);
      expect(book.current().version).toBe('sla-2027-01');

      book.stopPolling();
      await publish(store, 'sla-2027-02');
      await jest.advanceTimersByTimeAsync(5_000);
      expect(book.current().version).toBe('sla-2027-01');
      expect(errors).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });
});

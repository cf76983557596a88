import { describe, expect, it } from '@jest/globals';
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../event-store.port';
import { InMemoryEventStore } from '../in-memory/in-memory-event-store';
import { AggregateCache, loadAggregate } from './handle-command';

type Counted = { type: 'Counted'; data: { n: number } };
type Tally = { count: number; sum: number };

const tally = {
  initialState: (): Tally => ({ count: 0, sum: 0 }),
  evolve: (state: Tally, event: Counted): Tally => ({ count: state.count + 1, sum: state.sum + event.data.n }),
};

const STREAM = 'tally-1';

async function storeWith(events: number): Promise<InMemoryEventStore> {
  const store = new InMemoryEventStore(() => new Date('2026-03-01T00:00:00.000Z'));
  for (let i = 1; i <= events; i += 1) {
    await store.appendToStream(STREAM, [{ eventId: `e-${i}`, type: 'Counted', data: { n: i }, metadata: {} }]);
  }
  return store;
}

/** Records every stream read, and whether a turn of the event loop (a setImmediate) ran before it. */
function recording(store: EventStore): { store: EventStore; reads: Array<ReadStreamOptions & { afterTurns: number }> } {
  const reads: Array<ReadStreamOptions & { afterTurns: number }> = [];
  let turns = 0;
  const tick = (): void => {
    turns += 1;
    if (turns < 1_000) setImmediate(tick);
  };
  setImmediate(tick);
  const wrapped = Object.create(store) as EventStore;
  wrapped.readStream = (streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> => {
    reads.push({ ...options, afterTurns: turns });
    return store.readStream(streamId, options);
  };
  return { store: wrapped, reads };
}

describe('loadAggregate', () => {
  it('folds a long stream in pages, letting the event loop run between them', async () => {
    const { store, reads } = recording(await storeWith(25));

    const loaded = await loadAggregate(store, STREAM, tally, undefined, 10);

    expect(loaded).toEqual({ state: { count: 25, sum: 325 }, revision: 24, position: 25 });
    expect(reads.map((r) => [r.fromRevision, r.maxCount])).toEqual([[0, 10], [10, 10], [20, 10]]);
    const turns = reads.map((r) => r.afterTurns);
    expect(turns[1]).toBeGreaterThan(turns[0]!);
    expect(turns[2]).toBeGreaterThan(turns[1]!);
  });

  it('reads a stream whose length is a multiple of the page once more, and finds nothing', async () => {
    const { store, reads } = recording(await storeWith(20));

    const loaded = await loadAggregate(store, STREAM, tally, undefined, 10);

    expect(loaded.state).toEqual({ count: 20, sum: 210 });
    expect(reads.map((r) => r.fromRevision)).toEqual([0, 10, 20]);
  });

  it('continues a cached state with the events appended since, by anyone', async () => {
    const log = await storeWith(12);
    const cache = new AggregateCache();
    await loadAggregate(log, STREAM, tally, cache, 10);
    await log.appendToStream(STREAM, [{ eventId: 'e-13', type: 'Counted', data: { n: 13 }, metadata: {} }]);
    const { store, reads } = recording(log);

    const loaded = await loadAggregate(store, STREAM, tally, cache, 10);

    expect(loaded).toEqual({ state: { count: 13, sum: 91 }, revision: 12, position: 13 });
    expect(reads.map((r) => [r.fromRevision, r.maxCount])).toEqual([[12, 10]]);
  });

  it('gives the initial state at revision -1 for a stream that does not exist', async () => {
    const loaded = await loadAggregate(await storeWith(0), STREAM, tally);

    expect(loaded).toEqual({ state: { count: 0, sum: 0 }, revision: -1, position: 0 });
  });
});

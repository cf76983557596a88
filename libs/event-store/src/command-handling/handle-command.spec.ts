import { describe, expect, it } from '@jest/globals';
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../event-store.port';
import { InMemoryEventStore } from '../in-memory/in-memory-event-store';
import { eventMetadataFactory } from './event-metadata';
import { AggregateCache, ExpectedRevisionMismatch, handleCommand, loadAggregate } from './handle-command';

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

// A stream that counts while it is open: Count is refused when closed, Close does nothing when already closed.
type GateEvent = { type: 'Opened'; data: object } | { type: 'Closed'; data: object } | { type: 'Counted'; data: object };
type GateCommand = { type: 'Count' } | { type: 'Close' };
type Gate = { open: boolean; count: number };
class GateClosed extends Error {}

const gate = {
  initialState: (): Gate => ({ open: false, count: 0 }),
  evolve: (state: Gate, event: GateEvent): Gate => {
    if (event.type === 'Opened') return { ...state, open: true };
    if (event.type === 'Closed') return { ...state, open: false };
    return { ...state, count: state.count + 1 };
  },
  decide: (command: GateCommand, state: Gate): GateEvent[] => {
    if (command.type === 'Close') return state.open ? [{ type: 'Closed', data: {} }] : [];
    if (!state.open) throw new GateClosed('closed');
    return [{ type: 'Counted', data: {} }];
  },
};

const GATE = 'gate-1';
let ids = 0;

function run(store: EventStore, cache: AggregateCache, command: GateCommand, expectedRevision?: number) {
  return handleCommand(store, gate, {
    streamId: GATE,
    command,
    expectedRevision,
    cache,
    now: () => new Date('2026-03-01T00:00:00.000Z'),
    eventMetadata: eventMetadataFactory({ newEventId: () => `g-${(ids += 1)}`, schemaVersionOf: () => 1 }),
    metadata: { correlationId: 'c', causationId: 'c', actor: { id: 'tester', role: 'system' } },
  });
}

/** Another process's append: straight to the log, past this process's cache. */
async function foreign(store: EventStore, type: GateEvent['type']): Promise<void> {
  await store.appendToStream(GATE, [{ eventId: `f-${(ids += 1)}`, type, data: {}, metadata: {} }]);
}

async function gateWithCache(): Promise<{ log: InMemoryEventStore; cache: AggregateCache }> {
  const log = await storeWith(0);
  await log.appendToStream(GATE, [{ eventId: 'open', type: 'Opened', data: {}, metadata: {} }]);
  const cache = new AggregateCache();
  await loadAggregate(log, GATE, gate, cache);
  return { log, cache };
}

/** Closed through this process (its cache says closed), then reopened by another writer. */
async function reopenedBehindTheCache(): Promise<{ log: InMemoryEventStore; cache: AggregateCache }> {
  const { log, cache } = await gateWithCache();
  await run(log, cache, { type: 'Close' });
  await foreign(log, 'Opened');
  return { log, cache };
}

describe('handleCommand with a cached state', () => {
  it('appends on the cached state without reading the stream', async () => {
    const { log, cache } = await gateWithCache();
    const { store, reads } = recording(log);

    const result = await run(store, cache, { type: 'Count' });

    expect(result).toMatchObject({ kind: 'appended', streamRevision: 1 });
    expect(reads).toEqual([]);
    expect(cache.get(GATE, gate)).toMatchObject({ revision: 1, state: { open: true, count: 1 } });
  });

  it('decides again on the read stream when another writer appended since: nothing lost, nothing decided on stale state', async () => {
    const { log, cache } = await gateWithCache();
    await foreign(log, 'Counted');
    const { store, reads } = recording(log);

    const result = await run(store, cache, { type: 'Count' });

    expect(result).toMatchObject({ kind: 'appended', streamRevision: 2 });
    expect(reads.map((r) => r.fromRevision)).toEqual([0]);
    expect((await log.readStream(GATE)).map((e) => e.type)).toEqual(['Opened', 'Counted', 'Counted']);
  });

  it('never refuses from the cache: a stream reopened by another writer accepts the command', async () => {
    const { log, cache } = await reopenedBehindTheCache();

    const result = await run(log, cache, { type: 'Count' });

    expect(result).toMatchObject({ kind: 'appended', streamRevision: 3 });
  });

  it('never answers "nothing to do" from the cache: a stream reopened by another writer is closed again', async () => {
    const { log, cache } = await reopenedBehindTheCache();

    const result = await run(log, cache, { type: 'Close' });

    expect(result).toMatchObject({ kind: 'appended', streamRevision: 3 });
    expect((await log.readStream(GATE)).map((e) => e.type)).toEqual(['Opened', 'Closed', 'Opened', 'Closed']);
  });

  it('checks If-Match against the read stream, not against a stale cache', async () => {
    const { log, cache } = await gateWithCache();
    await foreign(log, 'Counted');

    await expect(run(log, cache, { type: 'Count' }, 1)).resolves.toMatchObject({ kind: 'appended', streamRevision: 2 });
    await expect(run(log, cache, { type: 'Count' }, 1)).rejects.toThrow(ExpectedRevisionMismatch);
  });

  it('still refuses what the current state refuses', async () => {
    const { log, cache } = await gateWithCache();
    await run(log, cache, { type: 'Close' });

    await expect(run(log, cache, { type: 'Count' })).rejects.toThrow(GateClosed);
    expect(await log.readStream(GATE)).toHaveLength(2);
  });
});

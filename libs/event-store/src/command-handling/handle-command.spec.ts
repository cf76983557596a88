import { describe, expect, it } from '@jest/globals';
import type { EventStore, ReadStreamOptions, RecordedEvent } from '../event-store.port';
import { InMemoryEventStore } from '../in-memory/in-memory-event-store';
import { eventMetadataFactory } from './event-metadata';
import { StreamVersionConflict } from '../errors';
import { AggregateCache, ExpectedRevisionMismatch, handleCommand, loadAggregate, type HandleCommandOptions } from './handle-command';

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

function run(
  store: EventStore, cache: AggregateCache | undefined, command: GateCommand, expectedRevision?: number,
  more: Partial<HandleCommandOptions<GateCommand, Gate>> & { idempotencyKey?: string } = {},
) {
  const { idempotencyKey, ...options } = more;
  return handleCommand(store, gate, {
    streamId: GATE,
    command,
    expectedRevision,
    cache,
    now: () => new Date('2026-03-01T00:00:00.000Z'),
    eventMetadata: eventMetadataFactory({ newEventId: () => `g-${(ids += 1)}`, schemaVersionOf: () => 1 }),
    metadata: { correlationId: 'c', causationId: 'c', actor: { id: 'tester', role: 'system' }, idempotencyKey },
    ...options,
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

describe('handleCommand with a recovered Idempotency-Key', () => {
  const KEY = 'a3f09c1d5e7b42c8a3f09c1d5e7b42c8';

  it('answers the outcome of the earlier attempt from the stream and appends nothing, even below newer events', async () => {
    const { log, cache } = await gateWithCache();
    const first = await run(log, cache, { type: 'Count' }, undefined, { idempotencyKey: KEY });
    await foreign(log, 'Counted');
    const { store, reads } = recording(log);

    const retry = await run(store, cache, { type: 'Count' }, undefined, { idempotencyKey: KEY, recoverIdempotencyKey: true });

    expect(first).toMatchObject({ kind: 'appended', streamRevision: 1 });
    expect(retry).toEqual({ kind: 'recovered', streamRevision: 1, position: first.position, appended: 0 });
    expect((await log.readStream(GATE)).map((e) => e.type)).toEqual(['Opened', 'Counted', 'Counted']);
    expect(reads.map((r) => r.direction)).toEqual(['backwards']);
  });

  it('finds the key in a stream longer than one page', async () => {
    const { log } = await gateWithCache();
    const first = await run(log, undefined, { type: 'Count' }, undefined, { idempotencyKey: KEY });
    for (let i = 0; i < 250; i += 1) await foreign(log, 'Counted');

    const retry = await run(log, undefined, { type: 'Count' }, undefined, { idempotencyKey: KEY, recoverIdempotencyKey: true });

    expect(retry).toEqual({ kind: 'recovered', streamRevision: first.streamRevision, position: first.position, appended: 0 });
  });

  it('decides as usual when the earlier attempt appended nothing, and marks its events with the key', async () => {
    const { log, cache } = await gateWithCache();

    const retry = await run(log, cache, { type: 'Count' }, undefined, { idempotencyKey: KEY, recoverIdempotencyKey: true });

    expect(retry).toMatchObject({ kind: 'appended', streamRevision: 1, appended: 1 });
    expect((await log.readStream(GATE)).at(-1)?.metadata).toMatchObject({ idempotencyKey: KEY, schemaVersion: 1, actor: { id: 'tester' } });
  });

  it('answers, not appends again, when its conflict was another attempt of the same key (a takeover after a lapsed lease)', async () => {
    const { log, cache } = await gateWithCache();
    // Between this attempt's decision and its append, a retry of the same key on another replica (which took the
    // reservation over once the lease ran out) appends the same command.
    let takenOver = false;
    const racing = Object.create(log) as EventStore;
    racing.appendToStream = async (streamId, events, options) => {
      if (!takenOver) {
        takenOver = true;
        await log.appendToStream(GATE, [{ eventId: 'retry-1', type: 'Counted', data: {}, metadata: { idempotencyKey: KEY } }]);
      }
      return log.appendToStream(streamId, events, options);
    };

    const outcome = await run(racing, cache, { type: 'Count' }, undefined, { idempotencyKey: KEY, backoff: { sleep: async () => undefined } });

    expect(outcome).toMatchObject({ kind: 'recovered', streamRevision: 1, appended: 0 });
    expect((await log.readStream(GATE)).map((e) => e.type)).toEqual(['Opened', 'Counted']);
  });

  it('costs a keyed command that is not recovered no read at all', async () => {
    const { log, cache } = await gateWithCache();
    const { store, reads } = recording(log);

    await run(store, cache, { type: 'Count' }, undefined, { idempotencyKey: KEY });

    expect(reads).toEqual([]);
  });
});

describe('handleCommand when other processes keep appending', () => {
  /** Every append is refused as if another process had just appended, `conflicts` times, then they go through. */
  function contended(log: EventStore, conflicts: number): EventStore {
    let left = conflicts;
    const wrapped = Object.create(log) as EventStore;
    wrapped.appendToStream = (streamId, events, options) => {
      if (left > 0) {
        left -= 1;
        return Promise.reject(new StreamVersionConflict(streamId, options?.expectedRevision ?? 'any', undefined));
      }
      return log.appendToStream(streamId, events, options);
    };
    return wrapped;
  }

  it('retries with jittered exponential backoff, bounded in attempts and in total wait', async () => {
    const { log } = await gateWithCache();
    const waits: number[] = [];
    const backoff = { random: () => 0.999, sleep: async (ms: number) => void waits.push(ms) };

    await expect(run(contended(log, 100), undefined, { type: 'Count' }, undefined, { backoff })).rejects.toThrow(StreamVersionConflict);

    expect(waits).toEqual([4, 9, 19, 39, 79, 159, 249]);
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThan(1_000);
    expect(await log.readStream(GATE)).toHaveLength(1);
  });

  it('draws each wait at random below its ceiling, and succeeds once the stream is quiet', async () => {
    const { log } = await gateWithCache();
    const waits: number[] = [];
    const backoff = { random: () => 0.5, sleep: async (ms: number) => void waits.push(ms) };

    const result = await run(contended(log, 6), undefined, { type: 'Count' }, undefined, { backoff });

    expect(result).toMatchObject({ kind: 'appended', streamRevision: 1 });
    expect(waits).toEqual([2, 5, 10, 20, 40, 80]);
  });

  it('never retries a command with If-Match: the client decided on that revision', async () => {
    const { log } = await gateWithCache();
    const waits: number[] = [];

    await expect(run(contended(log, 1), undefined, { type: 'Count' }, 0, { backoff: { sleep: async (ms) => void waits.push(ms) } }))
      .rejects.toThrow(ExpectedRevisionMismatch);
    expect(waits).toEqual([]);
  });
});

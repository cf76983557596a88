import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryEventStore, type EventStore } from '@crm/event-store';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { checkpointName, physicalCollection, readyMarkerName, type Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { ServingReadModelStore } from '../serving/serving-registry';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import type { EventFeed } from './event-feed';
import { ProjectionRunner } from './projection-runner';

/** Counts events into one document; `label` tells which build wrote it. */
function counting(version: number, label: string): Projection {
  return {
    name: 'counting',
    version,
    eventTypes: ['Tick'],
    collections: [{ name: 'counters', indexes: [] }],
    changes: () => [{ collection: 'counters', id: 'all', evolve: (doc: Doc | null) => ({ count: ((doc?.['count'] as number | undefined) ?? 0) + 1, label }) }],
  };
}

/** A feed whose reads from the very start of the log wait for `release()`: a rebuild stays mid-way. */
function gatedFeed(store: EventStore): EventFeed & { release(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    readAll: async (o) => {
      if ((o.fromPosition ?? 0) === 0) await gate;
      return store.readAll(o);
    },
    headPosition: () => store.headPosition(),
    subscribeToAll: (o) => store.subscribeToAll(o),
    release: () => open(),
  };
}

describe('blue/green builds', () => {
  let dir: string;
  let log: InMemoryEventStore;
  let store: SqliteReadModelStore;
  const tick = (n: number): Promise<unknown> =>
    log.appendToStream('ticks', Array.from({ length: n }, (_, i) => ({ eventId: `t-${Math.random()}-${i}`, type: 'Tick', data: {}, metadata: {} })));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-bluegreen-'));
    log = new InMemoryEventStore();
    store = new SqliteReadModelStore(join(dir, 'rm.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rebuilds generation 1 beside generation 0, which serves until the switch, then drops generation 0', async () => {
    await tick(5);
    const first = new ProjectionRunner(log, store, [counting(1, 'g0')], { idlePollMs: 20 });
    await first.start();
    expect(await first.waitFor('counting', 5, 5000)).toBe(true);
    await first.stop();

    const feed = gatedFeed(log);
    const runner = new ProjectionRunner(feed, store, [counting(1, 'g1')], { idlePollMs: 20, batchSize: 2, dropDelayMs: 0 });
    const queries = new ServingReadModelStore(store, runner.registry);
    await runner.start();
    expect(await runner.rebuild('counting')).toEqual({ generation: 1, alreadyRunning: false });
    expect(await runner.rebuild('counting')).toEqual({ generation: 1, alreadyRunning: true });
    await tick(1);
    expect(await runner.waitFor('counting', 6, 5000)).toBe(true);
    // Mid-rebuild: generation 0 serves, and keeps applying live events; generation 1 has nothing yet.
    expect(runner.status()[0]).toMatchObject({ serving: { version: 1, generation: 0 }, checkpoint: 6, rebuild: { generation: 1, status: 'catching-up' } });
    expect(await queries.get('counters_v1', 'all')).toMatchObject({ count: 6 });
    expect(await store.get('counters_v1_g1', 'all')).toBeNull();

    feed.release();
    await until(async () => runner.status()[0]?.serving?.generation === 1);
    expect(await queries.get('counters_v1', 'all')).toMatchObject({ count: 6, label: 'g1' });
    expect(runner.status()[0]).toMatchObject({ checkpoint: 6, rebuild: null });
    await tick(1);
    expect(await runner.waitFor('counting', 7, 5000)).toBe(true);
    expect(await queries.get('counters_v1', 'all')).toMatchObject({ count: 7 });
    await until(async () => (await store.getCheckpoint(checkpointName(counting(1, ''), 0))) === null);
    expect(await store.getCheckpoint(readyMarkerName(counting(1, ''), 1))).not.toBeNull();
    await until(() => store.count(physicalCollection(counting(1, ''), 'counters'), {}).then(() => false, (e: Error) => e.message.includes('no such table')));
    await runner.stop();
  });

  it('drops at the next start a build replaced before a restart (its delayed drop never ran)', async () => {
    await tick(3);
    const runner = new ProjectionRunner(log, store, [counting(1, 'g')], { idlePollMs: 20, dropDelayMs: 60_000 });
    await runner.start();
    expect(await runner.waitFor('counting', 3, 5000)).toBe(true);
    await runner.rebuild('counting');
    await until(async () => runner.status()[0]?.serving?.generation === 1);
    await runner.stop();
    // Stopped within the drop delay: generation 0 is retired, serves nothing, and nothing would ever advance it.
    expect(await store.listCollections()).toEqual(['counters_v1', 'counters_v1_g1']);

    const restarted = new ProjectionRunner(log, store, [counting(1, 'g')], { idlePollMs: 20 });
    await restarted.start();
    expect(restarted.registry.servingOf(counting(1, ''))).toEqual({ version: 1, generation: 1 });
    expect(await store.listCollections()).toEqual(['counters_v1_g1']);
    expect((await store.listCheckpoints('')).map((c) => c.projection)).toEqual(['counting@v1#g1', 'ready:counting@v1#g1']);
    await tick(1);
    expect(await restarted.waitFor('counting', 4, 5000)).toBe(true);
    expect(await store.get('counters_v1_g1', 'all')).toMatchObject({ count: 4 });
    await restarted.stop();
  });

  it('leaves generation 0 serving after a crash mid-rebuild, and resumes the rebuild at the next start', async () => {
    await tick(6);
    const first = new ProjectionRunner(log, store, [counting(1, 'g0')], { idlePollMs: 20 });
    await first.start();
    expect(await first.waitFor('counting', 6, 5000)).toBe(true);
    await first.stop();
    // The rebuild gets its first page, then its next read never returns: it dies mid-way (a crash before the switch).
    let crash!: () => void;
    const crashed = new Promise<void>((_, reject) => (crash = () => reject(new Error('process killed'))));
    crashed.catch(() => undefined);
    const feed: EventFeed = {
      readAll: async (o) => {
        const from = o.fromPosition ?? 0;
        if (from > 0 && from < 6) await crashed;
        return log.readAll(o);
      },
      headPosition: () => log.headPosition(),
      subscribeToAll: (o) => log.subscribeToAll(o),
    };
    // Each page committed (no documents carried across pages), so that the crash comes after a commit.
    const crashing = new ProjectionRunner(feed, store, [counting(1, 'g1')], { idlePollMs: 20, batchSize: 2, carry: { maxDocuments: 0, maxMs: 0 } });
    await crashing.start();
    await crashing.rebuild('counting');
    await until(async () => (await store.getCheckpoint(checkpointName(counting(1, ''), 1)))?.position === 2);
    crash();
    await crashing.stop();
    expect(await store.getCheckpoint(readyMarkerName(counting(1, ''), 1))).toBeNull();

    const restarted = new ProjectionRunner(log, store, [counting(1, 'g1')], { idlePollMs: 20, dropDelayMs: 0 });
    const queries = new ServingReadModelStore(store, restarted.registry);
    await restarted.start();
    expect(restarted.registry.servingOf(counting(1, ''))).toEqual({ version: 1, generation: 0 });
    await until(async () => restarted.status()[0]?.serving?.generation === 1);
    expect(await queries.get('counters_v1', 'all')).toMatchObject({ count: 6, label: 'g1' });
    await restarted.stop();
  });

  it('applies a build beside the serving one in smaller batches, so the live projections wait less for their turn', async () => {
    await tick(25);
    const batches: number[] = [];
    const runner = new ProjectionRunner(log, store, [counting(1, 'g')], {
      idlePollMs: 20, batchSize: 10, rebuildBatchSize: 4, dropDelayMs: 0,
      onBatch: (_name, events) => batches.push(events),
    });
    await runner.start();
    expect(await runner.waitFor('counting', 25, 5000)).toBe(true);
    // First start: generation 0 serves and catches up with the full batch size.
    expect(batches).toEqual([10, 10, 5]);
    batches.length = 0;
    await runner.rebuild('counting');
    await until(async () => runner.status()[0]?.serving?.generation === 1);
    expect(batches).toEqual([4, 4, 4, 4, 4, 4, 1]);
    expect(await store.get('counters_v1_g1', 'all')).toMatchObject({ count: 25 });
    await runner.stop();
  });

  it('builds a new code version beside the old one, which serves frozen until the new version is ready', async () => {
    await tick(4);
    const v1 = new ProjectionRunner(log, store, [counting(1, 'v1')], { idlePollMs: 20 });
    await v1.start();
    expect(await v1.waitFor('counting', 4, 5000)).toBe(true);
    await v1.stop();

    const feed = gatedFeed(log);
    const v2 = new ProjectionRunner(feed, store, [counting(2, 'v2')], { idlePollMs: 20, dropDelayMs: 0 });
    const queries = new ServingReadModelStore(store, v2.registry);
    await v2.start();
    expect(v2.registry.servingOf(counting(2, ''))).toEqual({ version: 1, generation: 0 });
    expect(await queries.get('counters_v2', 'all')).toMatchObject({ count: 4, label: 'v1' });
    expect(v2.checkpointOf('counting')).toBe(4);
    feed.release();
    await until(async () => v2.registry.servingOf(counting(2, '')).version === 2);
    expect(await queries.get('counters_v2', 'all')).toMatchObject({ count: 4, label: 'v2' });
    await until(async () => (await store.getCheckpoint(checkpointName(counting(1, '')))) === null);
    await v2.stop();
  });
});

async function until(predicate: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

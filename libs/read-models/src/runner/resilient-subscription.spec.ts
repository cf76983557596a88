import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryEventStore, StoreUnavailable } from '@crm/event-store';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ProjectedEvent, Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import type { EventFeed } from './event-feed';
import { ProjectionRunner } from './projection-runner';
import { ResilientSubscription, reasonOf } from './resilient-subscription';

type Source = AsyncIterable<ProjectedEvent> & { close(): Promise<void> };

const event = (position: number): ProjectedEvent => ({
  eventId: `e-${position}`, type: 'Tested', data: {}, metadata: {}, streamId: 's', revision: position, position, recordedAt: '2026-03-01T00:00:00.000Z',
});

/** Yields `events`, then throws `error` (or ends when there is none). */
function source(events: readonly ProjectedEvent[], error?: unknown): Source & { closed: boolean } {
  return {
    closed: false,
    async *[Symbol.asyncIterator]() {
      for (const e of events) yield e;
      if (error !== undefined) throw error;
    },
    async close() {
      this.closed = true;
    },
  };
}

/** A source that never yields until closed (a healthy live subscription with nothing new). */
function idle(): Source {
  let release: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (release = resolve));
  return {
    async *[Symbol.asyncIterator]() {
      await closed;
    },
    async close() {
      release();
    },
  };
}

/** The ESDB adapter's failure for a subscription the server cut off as a slow consumer (client TimeoutError inside). */
const tooSlow = (): StoreUnavailable =>
  new StoreUnavailable('EventStoreDB: Operation timed out: Consumer too slow', { cause: Object.assign(new Error('too slow'), { type: 'timeout' }) });

describe('ResilientSubscription', () => {
  it('re-opens a failed subscription from the last position seen, with a doubling pause capped, reset once events flow', async () => {
    const opened: number[] = [];
    const pauses: number[] = [];
    const reasons: string[] = [];
    const logged: unknown[] = [];
    const seen: number[] = [];
    // Opens: 1 delivers 10, 20 then fails; 2..6 fail at once; 7 delivers 30 then fails; then idles.
    const script: Array<() => Source> = [
      () => source([event(10), event(20)], tooSlow()),
      ...Array.from({ length: 5 }, () => () => source([], new StoreUnavailable('EventStoreDB: connect ECONNREFUSED'))),
      () => source([event(30)]),
    ];
    let wake: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (wake = resolve));
    const subscription = new ResilientSubscription(
      (from) => {
        opened.push(from);
        const next = script.shift();
        if (next) return next();
        wake();
        return idle();
      },
      5,
      (e) => seen.push(e.position),
      {
        initialDelayMs: 100, maxDelayMs: 1000,
        sleep: async (ms) => void pauses.push(ms),
        onRestart: (reason) => reasons.push(reason),
        logger: { error: (m) => logged.push(m) },
      },
    );
    subscription.start();
    await settled;
    await subscription.close();
    expect(seen).toEqual([10, 20, 30]);
    expect(opened).toEqual([5, 20, 20, 20, 20, 20, 20, 30]);
    expect(pauses).toEqual([100, 200, 400, 800, 1000, 1000, 100]);
    expect(reasons).toEqual(['timeout', 'store-unavailable', 'store-unavailable', 'store-unavailable', 'store-unavailable', 'store-unavailable', 'ended']);
    expect(subscription.restarts).toBe(7);
    expect(logged[0]).toMatchObject({ msg: 'subscription dropped, resubscribing', reason: 'timeout', fromPosition: 20, retryInMs: 100 });
  });

  it('a subscription that cannot even be opened is retried the same way', async () => {
    let attempts = 0;
    let wake: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (wake = resolve));
    const reasons: string[] = [];
    const subscription = new ResilientSubscription(
      () => {
        attempts += 1;
        if (attempts < 3) throw new StoreUnavailable('event store is closed');
        wake();
        return idle();
      },
      0, () => undefined, { sleep: async () => undefined, onRestart: (r) => reasons.push(r) },
    );
    subscription.start();
    await settled;
    await subscription.close();
    expect(reasons).toEqual(['store-unavailable', 'store-unavailable']);
  });

  it('close during a pause ends it without another open', async () => {
    let opens = 0;
    let paused: () => void = () => undefined;
    const inPause = new Promise<void>((resolve) => (paused = resolve));
    const subscription = new ResilientSubscription(
      () => {
        opens += 1;
        return source([], new Error('dropped'));
      },
      0, () => undefined,
      // A pause that never ends by itself: only close can end it.
      { sleep: () => { paused(); return new Promise<void>(() => undefined); } },
    );
    subscription.start();
    await inPause;
    await subscription.close();
    expect(opens).toBe(1);
  });

  it('labels reasons by the innermost cause', () => {
    expect(reasonOf(tooSlow())).toBe('timeout');
    expect(reasonOf(new StoreUnavailable('x'))).toBe('store-unavailable');
    expect(reasonOf('a string')).toBe('error');
  });
});

describe('ProjectionRunner: the live subscription survives the store', () => {
  const dirs: string[] = [];
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('re-opens a dropped subscription, so appends after the drop are applied at once, not at the next poll', async () => {
    const log = new InMemoryEventStore();
    let subscriptions = 0;
    // The store drops the first subscription right away (as a server restart would).
    const feed: EventFeed = {
      readAll: (o) => log.readAll(o),
      headPosition: () => log.headPosition(),
      subscribeToAll: (o) => {
        subscriptions += 1;
        return subscriptions === 1 ? source([], new StoreUnavailable('EventStoreDB: Server Is Not Ready')) : log.subscribeToAll(o);
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'resubscribe-'));
    dirs.push(dir);
    const store = new SqliteReadModelStore(join(dir, 'read-models.db'));
    cleanup.push(() => store.close());
    const counting: Projection = {
      name: 'counting', version: 1, eventTypes: ['Tested'], collections: [{ name: 'counters', indexes: [] }],
      changes: () => [{ collection: 'counters', id: 'all', evolve: (doc: Doc | null) => ({ count: Number(doc?.['count'] ?? 0) + 1 }) }],
    };
    const restarts: string[] = [];
    let restarted: () => void = () => undefined;
    const resubscribed = new Promise<void>((resolve) => (restarted = resolve));
    // A poll of a minute: only the (re-opened) subscription can wake the projection within the test's wait.
    const runner = new ProjectionRunner(feed, store, [counting], {
      idlePollMs: 60_000,
      resubscribe: { initialDelayMs: 1 },
      onSubscriptionRestart: (reason) => {
        restarts.push(reason);
        restarted();
      },
    });
    cleanup.push(() => runner.stop());
    await runner.start();
    await resubscribed;
    await expect(runner.waitFor('counting', 0, 5_000)).resolves.toBe(true);
    const { position } = await log.appendToStream('s-1', [{ eventId: 'e-1', type: 'Tested', data: {}, metadata: {} }]);
    await expect(runner.waitFor('counting', position, 5_000)).resolves.toBe(true);
    expect(restarts).toEqual(['store-unavailable']);
    expect(subscriptions).toBe(2);
  });
});

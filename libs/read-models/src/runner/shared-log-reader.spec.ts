import { describe, expect, it } from '@jest/globals';
import type { ProjectedEvent } from '../projection/projection';
import type { EventFeed } from './event-feed';
import { SharedLogReader } from './shared-log-reader';

/** A log of `n` events at positions 1..n (types alternate A, B) behind a feed that counts its reads. */
function logOf(n: number): { feed: EventFeed; reads: () => number } {
  const events: ProjectedEvent[] = Array.from({ length: n }, (_, i) => ({
    eventId: `e-${i + 1}`, type: i % 2 === 0 ? 'A' : 'B', data: {}, streamId: 's', revision: i, position: i + 1, recordedAt: '2026-03-01T00:00:00.000Z', metadata: {},
  }));
  let reads = 0;
  const feed: EventFeed = {
    readAll: async ({ fromPosition = 0, maxCount = Infinity, eventTypes }) => {
      reads += 1;
      return events.filter((e) => e.position > fromPosition && (!eventTypes || eventTypes.includes(e.type))).slice(0, maxCount);
    },
    headPosition: async () => n,
    subscribeToAll: () => { throw new Error('not used'); },
  };
  return { feed, reads: () => reads };
}

describe('SharedLogReader', () => {
  it('answers every reader from the one window, from wherever it stands in it', async () => {
    const { feed, reads } = logOf(10);
    const reader = new SharedLogReader(feed, 10, 100);
    expect((await reader.read(0, 100, undefined, 10)).events.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const after of [0, 1, 4, 5, 9]) {
      const slice = await reader.read(after, 100, undefined, 10);
      expect(slice.events.map((e) => e.position)).toEqual(Array.from({ length: 10 - after }, (_, i) => after + i + 1));
      expect(slice.scannedTo).toBe(10);
    }
    expect((await reader.read(10, 100, undefined, 10)).events).toEqual([]);
    expect(reads()).toBe(1);
  });

  it('gives each reader its types, at most maxCount, and says how far it looked', async () => {
    const { feed } = logOf(10);
    const reader = new SharedLogReader(feed, 10, 100);
    const slice = await reader.read(2, 2, new Set(['B']), 10);
    expect(slice.events.map((e) => e.position)).toEqual([4, 6]);
    expect(slice.scannedTo).toBe(6);
    const rest = await reader.read(6, 10, new Set(['B']), 10);
    expect(rest.events.map((e) => e.position)).toEqual([8, 10]);
    expect(rest.scannedTo).toBe(10);
  });

  it('reads no more of the log than a reader of all its types asks for, and a chunk for a reader of fewer', async () => {
    // A projection alone in batches smaller than the chunk held up to a chunk of events across its batches (they
    // outlived V8's young generation); a reader of some types needs the chunk to find maxCount of its own.
    const { feed } = logOf(10);
    const asked: number[] = [];
    const counting: EventFeed = { ...feed, readAll: (o) => { asked.push(o.maxCount ?? -1); return feed.readAll(o); } };
    const reader = new SharedLogReader(counting, 8, 100, new Set(['A', 'B']));
    expect((await reader.read(0, 3, new Set(['A', 'B']), 10)).events.map((e) => e.position)).toEqual([1, 2, 3]);
    reader.release(3);
    expect((await reader.read(3, 3, undefined, 10)).events.map((e) => e.position)).toEqual([4, 5, 6]);
    reader.release(6);
    expect((await reader.read(6, 1, new Set(['B']), 10)).events.map((e) => e.position)).toEqual([8]);
    expect(asked).toEqual([3, 3, 8]);
  });

  it('never checkpoints a reader past events it did not get when a second reader starts further on during the first read', async () => {
    // Projector replicas: a replica that takes two leases starts two projections on a fresh runner; the second one's
    // checkpoint (written by the other replica) can lie beyond the head the first one's window read saw.
    const events: ProjectedEvent[] = [];
    const append = (type: string): void => {
      const position = events.length + 1;
      events.push({ eventId: `e-${position}`, type, data: {}, streamId: 's', revision: position - 1, position, recordedAt: '2026-03-01T00:00:00.000Z', metadata: {} });
    };
    for (let i = 0; i < 5; i++) append(i < 2 ? 'A' : 'Other'); // 3..5: of no projection's types
    let releaseRead!: () => void;
    const readHeld = new Promise<void>((resolve) => (releaseRead = resolve));
    let hold = true;
    const feed: EventFeed = {
      readAll: async ({ fromPosition = 0, maxCount = Infinity, eventTypes }) => {
        const page = events.filter((e) => e.position > fromPosition && (!eventTypes || eventTypes.includes(e.type))).slice(0, maxCount);
        if (hold) {
          hold = false;
          await readHeld; // the window's read answers with what the log held when it began: nothing of interest after 2
        }
        return page;
      },
      headPosition: async () => events.length,
      subscribeToAll: () => { throw new Error('not used'); },
    };
    const reader = new SharedLogReader(feed, 100, 1000, new Set(['A']));
    const first = reader.read(2, 100, new Set(['A']), 5);
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 4; i++) append('A'); // 6..9, then the second projection starts at 9
    const second = reader.read(9, 100, new Set(['A']), 9);
    releaseRead();
    const slice = await first;
    const got = slice.events.map((e) => e.position);
    // Whatever it got, it must not have been told it looked at positions whose events it was not given.
    const expected = events.filter((e) => e.type === 'A' && e.position > 2 && e.position <= slice.scannedTo).map((e) => e.position);
    expect(got).toEqual(expected);
    expect((await second).events.map((e) => e.position).every((p) => p > 9)).toBe(true);
  });

  it('forgets what every reader has passed, and still answers a reader that asks for less from the log', async () => {
    const { feed, reads } = logOf(10);
    const reader = new SharedLogReader(feed, 10, 100);
    expect((await reader.read(0, 100, undefined, 10)).events).toHaveLength(10);
    reader.release(6);
    expect((await reader.read(6, 100, undefined, 10)).events.map((e) => e.position)).toEqual([7, 8, 9, 10]);
    expect(reads()).toBe(1);
    const behind = await reader.read(3, 2, undefined, 10);
    expect(behind.events.map((e) => e.position)).toEqual([4, 5]);
    expect(behind.scannedTo).toBe(5);
    expect(reads()).toBe(2);
    reader.release(10);
    expect((await reader.read(10, 100, undefined, 10)).events).toEqual([]);
    expect((await reader.read(4, 100, undefined, 10)).events.map((e) => e.position)).toEqual([5, 6, 7, 8, 9, 10]);
  });
});

describe('SharedLogReader keeping its readers in step', () => {
  it('holds a reader at the end of a full window until the slowest reader in it moves on, so that one is never pushed out', async () => {
    const { feed, reads } = logOf(100);
    const positions = { fast: 0, slow: 0 };
    const reader = new SharedLogReader(feed, 10, 30, undefined, false, () => Object.values(positions));
    const readFast = async (): Promise<void> => {
      const slice = await reader.read(positions.fast, 10, undefined, 100);
      positions.fast = slice.scannedTo;
      reader.release();
    };
    for (let i = 0; i < 3; i++) await readFast();
    expect(positions.fast).toBe(30);
    let fastDone = false;
    const held = readFast().then(() => (fastDone = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(fastDone).toBe(false);
    // The slow reader reads everything it needs from the window, not from the log; its step frees the held one.
    const slow = await reader.read(positions.slow, 10, undefined, 100);
    expect(slow.events.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    positions.slow = slow.scannedTo;
    reader.release();
    await held;
    expect(positions.fast).toBe(40);
    expect(reads()).toBe(4);
  });

  it('lets a reader that stopped (failed, backing off: no longer among the readers) hold no one back', async () => {
    const { feed } = logOf(100);
    const positions = new Map([['fast', 0], ['failed', 0]]);
    const reader = new SharedLogReader(feed, 10, 30, undefined, false, () => positions.values());
    for (let i = 0; i < 3; i++) positions.set('fast', (await reader.read(positions.get('fast')!, 10, undefined, 100)).scannedTo);
    positions.delete('failed');
    positions.set('fast', (await reader.read(positions.get('fast')!, 10, undefined, 100)).scannedTo);
    expect(positions.get('fast')).toBe(40);
  });
});

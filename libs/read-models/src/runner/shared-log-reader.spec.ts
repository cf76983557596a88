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

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
});

import { describe, expect, it } from '@jest/globals';
import type { ProjectedEvent } from '../projection/projection';
import type { EventFeed } from './event-feed';
import { SharedLogReader } from './shared-log-reader';

/** Deterministic per seed (a failure is replayed by its seed). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

/**
 * Readers of different types and batch sizes, at different speeds, on a log that grows while they read, through one
 * window that keeps them in step (it is smaller than the log, so readers wait for the slowest and fall behind it):
 * each must see every event of its types once, in order, and all must reach the head (none held for good).
 */
describe('SharedLogReader under concurrency (stress)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: every reader sees each of its events once, in order, and reaches the head`, async () => {
      const random = rng(seed);
      const typeNames = ['A', 'B', 'C', 'D'];
      const log: ProjectedEvent[] = [];
      const append = (n: number): void => {
        for (let i = 0; i < n; i++) {
          const p = log.length + 1;
          log.push({ eventId: `e${p}`, type: typeNames[Math.floor(random() * 4)]!, data: {}, streamId: 's', revision: p, position: p, recordedAt: '', metadata: {} });
        }
      };
      const delay = (): Promise<void> => new Promise((r) => (random() < 0.5 ? setImmediate(r) : setTimeout(r, Math.floor(random() * 3))));
      const feed: EventFeed = {
        readAll: async ({ fromPosition = 0, maxCount = Infinity, eventTypes }) => {
          await delay();
          const out = log.filter((e) => e.position > fromPosition && (!eventTypes || eventTypes.includes(e.type))).slice(0, maxCount);
          await delay();
          return out;
        },
        headPosition: async () => { await delay(); return log.length; },
        subscribeToAll: () => { throw new Error('not used'); },
      };
      append(3000);
      const readers = [
        { types: undefined, batch: 50 }, { types: new Set(['A']), batch: 500 }, { types: new Set(['B', 'C']), batch: 100 },
        { types: new Set(['D']), batch: 7 }, { types: new Set(['A', 'B', 'C', 'D']), batch: 1000 }, { types: new Set(['C']), batch: 3 },
      ].map((r) => ({ ...r, checkpoint: 0, seen: [] as number[], slow: random() * 3 }));
      const reader = new SharedLogReader(feed, 200, 1000, new Set(typeNames), false, () => readers.map((r) => r.checkpoint));
      let appending = true;
      const appender = (async () => {
        for (let i = 0; i < 200; i++) { append(Math.floor(random() * 20)); await delay(); }
        appending = false;
      })();
      const run = async (r: (typeof readers)[number]): Promise<void> => {
        for (;;) {
          const head = await feed.headPosition();
          const slice = await reader.read(r.checkpoint, r.batch, r.types, head);
          for (const e of slice.events) r.seen.push(e.position);
          for (let i = 0; i < r.slow; i++) await delay();
          const reached = Math.max(slice.events.at(-1)?.position ?? r.checkpoint, slice.scannedTo);
          if (reached > r.checkpoint) { r.checkpoint = reached; reader.release(); }
          if (!appending && r.checkpoint >= log.length) return;
          await new Promise((res) => setImmediate(res));
        }
      };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stalled: ${readers.map((r) => r.checkpoint).join(',')} of ${log.length}`)), 20_000);
      });
      try {
        await Promise.race([Promise.all([appender, ...readers.map(run)]), deadline]);
      } finally {
        clearTimeout(timer);
      }
      for (const r of readers) {
        expect(r.seen).toEqual(log.filter((e) => !r.types || r.types.has(e.type)).map((e) => e.position));
      }
    }, 30_000);
  }
});

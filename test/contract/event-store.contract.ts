import { randomUUID } from 'node:crypto';
import {
  DuplicateEventId,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
  StreamVersionConflict,
} from '@crm/event-store';

/**
 * The one contract every EventStore adapter passes unchanged (SQLite, in-memory, EventStoreDB double,
 * a real EventStoreDB when configured). `makeStore` must give a store whose log the test may share with
 * other tests: every test uses its own random stream names and only relies on positions it observed.
 */
export function describeEventStoreContract(
  name: string,
  makeStore: () => Promise<{ store: EventStore; dispose: () => Promise<void> }>,
  capabilities: { uniqueEventIds: boolean } = { uniqueEventIds: true },
): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let dispose: () => Promise<void>;

    beforeEach(async () => {
      ({ store, dispose } = await makeStore());
    });
    afterEach(async () => {
      await dispose();
    });

    const stream = (): string => `test-${randomUUID()}`;
    const ev = (type: string, data: Record<string, unknown> = {}): EventToAppend => ({
      eventId: randomUUID(),
      type,
      data,
      metadata: { correlationId: 'c-1', actor: { id: 'tester', role: 'agent' } },
    });

    it('appends to a new stream with no-stream and reads it back in order with data and metadata', async () => {
      const s = stream();
      const first = ev('A', { n: 1, nested: { ok: true } });
      const result = await store.appendToStream(s, [first, ev('B', { n: 2 })], { expectedRevision: 'no-stream' });
      expect(result.nextExpectedRevision).toBe(1);
      const events = await store.readStream(s);
      expect(events.map((e) => [e.type, e.revision, e.streamId])).toEqual([
        ['A', 0, s],
        ['B', 1, s],
      ]);
      expect(events[0]?.eventId).toBe(first.eventId);
      expect(events[0]?.data).toEqual({ n: 1, nested: { ok: true } });
      expect(events[0]?.metadata).toEqual(first.metadata);
      expect(events[1]?.position).toBe(result.position);
      expect(events[0]!.position).toBeLessThan(events[1]!.position);
      expect(Number.isNaN(Date.parse(events[0]!.recordedAt))).toBe(false);
    });

    it('returns an empty list for a stream that does not exist', async () => {
      await expect(store.readStream(stream())).resolves.toEqual([]);
    });

    it('refuses no-stream on an existing stream and appends nothing', async () => {
      const s = stream();
      await store.appendToStream(s, [ev('A')], { expectedRevision: 'no-stream' });
      await expect(store.appendToStream(s, [ev('B')], { expectedRevision: 'no-stream' })).rejects.toBeInstanceOf(
        StreamVersionConflict,
      );
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A']);
    });

    it('refuses a stale exact revision, then accepts the right one (a refused append changes nothing)', async () => {
      const s = stream();
      await store.appendToStream(s, [ev('A'), ev('B')], { expectedRevision: 'no-stream' });
      const stale = store.appendToStream(s, [ev('X')], { expectedRevision: 0 });
      await expect(stale).rejects.toBeInstanceOf(StreamVersionConflict);
      const ok = await store.appendToStream(s, [ev('C')], { expectedRevision: 1 });
      expect(ok.nextExpectedRevision).toBe(2);
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
    });

    it('refuses an exact revision on a missing stream and stream-exists on a missing stream', async () => {
      const s = stream();
      await expect(store.appendToStream(s, [ev('A')], { expectedRevision: 0 })).rejects.toBeInstanceOf(
        StreamVersionConflict,
      );
      await expect(store.appendToStream(s, [ev('A')], { expectedRevision: 'stream-exists' })).rejects.toBeInstanceOf(
        StreamVersionConflict,
      );
      expect(await store.readStream(s)).toEqual([]);
    });

    it('accepts any revision and stream-exists on an existing stream', async () => {
      const s = stream();
      await store.appendToStream(s, [ev('A')], { expectedRevision: 'any' });
      await store.appendToStream(s, [ev('B')], { expectedRevision: 'any' });
      const r = await store.appendToStream(s, [ev('C')], { expectedRevision: 'stream-exists' });
      expect(r.nextExpectedRevision).toBe(2);
    });

    it('lets exactly one of two concurrent appends with the same expected revision win', async () => {
      const s = stream();
      await store.appendToStream(s, [ev('A')], { expectedRevision: 'no-stream' });
      const results = await Promise.allSettled([
        store.appendToStream(s, [ev('B1')], { expectedRevision: 0 }),
        store.appendToStream(s, [ev('B2')], { expectedRevision: 0 }),
      ]);
      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.reason).toBeInstanceOf(StreamVersionConflict);
      expect(await store.readStream(s)).toHaveLength(2);
    });

    (capabilities.uniqueEventIds ? it : it.skip)('appends a multi-event batch atomically: a batch refused midway leaves nothing', async () => {
      const s = stream();
      const dup = ev('A');
      await store.appendToStream(stream(), [dup]);
      await expect(store.appendToStream(s, [ev('ok'), { ...dup }], { expectedRevision: 'no-stream' })).rejects.toBeDefined();
      expect(await store.readStream(s)).toEqual([]);
    });

    it('reads a stream backwards and from a revision with a max count', async () => {
      const s = stream();
      await store.appendToStream(s, ['A', 'B', 'C', 'D'].map((t) => ev(t)));
      expect((await store.readStream(s, { direction: 'backwards' })).map((e) => e.type)).toEqual(['D', 'C', 'B', 'A']);
      expect((await store.readStream(s, { direction: 'backwards', maxCount: 1 })).map((e) => e.type)).toEqual(['D']);
      expect((await store.readStream(s, { fromRevision: 1, maxCount: 2 })).map((e) => e.type)).toEqual(['B', 'C']);
      expect((await store.readStream(s, { direction: 'backwards', fromRevision: 2 })).map((e) => e.type)).toEqual([
        'C',
        'B',
        'A',
      ]);
    });

    it('reads the global log forwards after an exclusive position, with a type filter, and backwards', async () => {
      const s1 = stream();
      const s2 = stream();
      const tag = randomUUID();
      const a = await store.appendToStream(s1, [ev(`A-${tag}`)]);
      await store.appendToStream(s2, [ev(`B-${tag}`)]);
      await store.appendToStream(s1, [ev(`C-${tag}`)]);
      const after = await store.readAll({ fromPosition: a.position - 1, maxCount: 100_000 });
      const mine = after.filter((e) => e.type.endsWith(tag));
      expect(mine.map((e) => e.type)).toEqual([`A-${tag}`, `B-${tag}`, `C-${tag}`]);
      expect(mine.map((e) => e.streamId)).toEqual([s1, s2, s1]);
      for (let i = 1; i < after.length; i++) expect(after[i]!.position).toBeGreaterThan(after[i - 1]!.position);

      const excl = await store.readAll({ fromPosition: a.position, maxCount: 100_000 });
      expect(excl.some((e) => e.type === `A-${tag}`)).toBe(false);

      const filtered = await store.readAll({ fromPosition: a.position - 1, eventTypes: [`B-${tag}`, `C-${tag}`] });
      expect(filtered.map((e) => e.type)).toEqual([`B-${tag}`, `C-${tag}`]);

      const head = await store.headPosition();
      const back = await store.readAll({ direction: 'backwards', fromPosition: head + 1, maxCount: 3 });
      expect(back.map((e) => e.type)).toEqual([`C-${tag}`, `B-${tag}`, `A-${tag}`]);
    });

    it('pages through the log with several types: every match once, in log order, forwards and backwards', async () => {
      const tag = randomUUID();
      const s1 = stream();
      const types = ['A', 'B', 'C', 'A', 'C', 'B', 'B', 'A', 'C'].map((t) => `${t}-${tag}`);
      const first = await store.appendToStream(s1, [ev(types[0]!)]);
      for (const t of types.slice(1)) await store.appendToStream(stream(), [ev(t)]);
      const wanted = [`A-${tag}`, `C-${tag}`];
      const pages: string[][] = [];
      let from = first.position - 1;
      for (;;) {
        const page = await store.readAll({ fromPosition: from, maxCount: 2, eventTypes: wanted });
        if (page.length === 0) break;
        pages.push(page.map((e) => e.type));
        from = page.at(-1)!.position;
      }
      expect(pages.flat()).toEqual(types.filter((t) => wanted.includes(t)));
      expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);

      const back = await store.readAll({ direction: 'backwards', fromPosition: (await store.headPosition()) + 1, maxCount: 3, eventTypes: wanted });
      expect(back.map((e) => e.type)).toEqual([`C-${tag}`, `A-${tag}`, `C-${tag}`]);
    });

    it('subscribes from a checkpoint: catches up, then delivers live events, in order, each once', async () => {
      const s = stream();
      const tag = randomUUID();
      const first = await store.appendToStream(s, [ev(`before-${tag}`)]);
      const checkpoint = first.position;
      await store.appendToStream(s, [ev(`stored-${tag}`)]);
      const sub = store.subscribeToAll({ fromPosition: checkpoint });
      const seen: RecordedEvent[] = [];
      const done = (async () => {
        for await (const e of sub) {
          if (!e.type.endsWith(tag)) continue;
          seen.push(e);
          if (seen.length === 3) break;
        }
      })();
      await store.appendToStream(s, [ev(`live1-${tag}`)]);
      await store.appendToStream(s, [ev(`live2-${tag}`)]);
      await done;
      await sub.close();
      expect(seen.map((e) => e.type)).toEqual([`stored-${tag}`, `live1-${tag}`, `live2-${tag}`]);
      expect(seen.map((e) => e.revision)).toEqual([1, 2, 3]);
    });

    it('subscribes with a type filter', async () => {
      const s = stream();
      const tag = randomUUID();
      const start = await store.appendToStream(s, [ev(`skip-${tag}`)]);
      const sub = store.subscribeToAll({ fromPosition: start.position - 1, eventTypes: [`keep-${tag}`] });
      const seen: string[] = [];
      const done = (async () => {
        for await (const e of sub) {
          seen.push(e.type);
          if (seen.length === 2) break;
        }
      })();
      await store.appendToStream(s, [ev(`skip-${tag}`), ev(`keep-${tag}`)]);
      await store.appendToStream(s, [ev(`keep-${tag}`)]);
      await done;
      await sub.close();
      expect(seen).toEqual([`keep-${tag}`, `keep-${tag}`]);
    });

    (capabilities.uniqueEventIds ? it : it.skip)('refuses an event id that is already in the log', async () => {
      const e = ev('A');
      await store.appendToStream(stream(), [e]);
      await expect(store.appendToStream(stream(), [{ ...e }])).rejects.toBeInstanceOf(DuplicateEventId);
    });
  });
}

import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '@crm/event-store';
import { DEFAULT_LOYALTY_POLICY, type LoyaltyPolicy } from '@crm/domain';
import {
  FencedOff, LOYALTY, LOYALTY_POLICY_IN_FORCE, loyaltyProjection, physicalCollection, ProjectionRunner, type Doc, type Projection, type ReadModelStore,
} from '@crm/read-models';

/**
 * The one contract every ReadModelStore adapter passes unchanged (SQLite, MongoDB through the real driver against
 * the wire-protocol double, a real MongoDB when MONGODB_URI is set). Each test uses its own collection names.
 */
export function describeReadModelStoreContract(
  name: string,
  makeStore: () => Promise<{ store: ReadModelStore; dispose: () => Promise<void> }>,
): void {
  describe(`ReadModelStore contract: ${name}`, () => {
    let store: ReadModelStore;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ store, dispose } = await makeStore());
    });
    afterEach(async () => {
      await dispose();
    });

    const coll = (): string => `c_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const checkpointName = (): string => `p-${randomUUID()}`;
    const doc = (id: string, position: number, fields: Record<string, unknown>): Doc => ({ _id: id, _position: position, ...fields });

    it('writes documents and the checkpoint, and reads them back by id', async () => {
      const c = coll();
      const p = checkpointName();
      await store.ensureCollection(c, [{ fields: [['customerId', 1]] }]);
      expect(await store.getCheckpoint(p)).toBeNull();
      await store.applyBatch(
        [
          { collection: c, id: 'a', doc: doc('a', 3, { customerId: 'x', nested: { n: 1 }, tags: ['t'], flag: true, none: null }), position: 3 },
          { collection: c, id: 'b', doc: doc('b', 4, { customerId: 'y' }), position: 4 },
        ],
        { projection: p, position: 4 },
      );
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', _position: 3, customerId: 'x', nested: { n: 1 }, tags: ['t'], flag: true, none: null });
      expect(await store.get(c, 'missing')).toBeNull();
      expect((await store.getCheckpoint(p))?.position).toBe(4);
      const many = await store.getMany(c, ['a', 'b', 'zz']);
      expect([...many.keys()].sort()).toEqual(['a', 'b']);
    });

    it('ignores a write whose position is not newer than the stored document (replay after a crash)', async () => {
      const c = coll();
      const p = checkpointName();
      await store.ensureCollection(c, []);
      await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 10, { v: 'new' }), position: 10 }], { projection: p, position: 10 });
      await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 7, { v: 'stale' }), position: 7 }], { projection: p, position: 7 });
      await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 10, { v: 'replayed' }), position: 10 }], { projection: p, position: 10 });
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', _position: 10, v: 'new' });
      expect((await store.getCheckpoint(p))?.position).toBe(10);
      await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 11, { v: 'next' }), position: 11 }], { projection: p, position: 11 });
      expect((await store.get(c, 'a'))?.v).toBe('next');
    });

    it('deletes a document only with a newer position', async () => {
      const c = coll();
      const p = checkpointName();
      await store.ensureCollection(c, []);
      await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 5, {}), position: 5 }], { projection: p, position: 5 });
      await store.applyBatch([{ collection: c, id: 'a', doc: null, position: 5 }], { projection: p, position: 5 });
      expect(await store.get(c, 'a')).not.toBeNull();
      await store.applyBatch([{ collection: c, id: 'a', doc: null, position: 6 }], { projection: p, position: 6 });
      expect(await store.get(c, 'a')).toBeNull();
    });

    it('finds with equality, operators, sort, skip and limit, and counts', async () => {
      const c = coll();
      await store.ensureCollection(c, [{ fields: [['owner', 1], ['due', 1]] }]);
      const rows = [
        doc('1', 1, { owner: 'ana', due: '2026-01-03', n: 5, open: true, tier: 'gold' }),
        doc('2', 2, { owner: 'ana', due: '2026-01-01', n: 1, open: false, tier: null }),
        doc('3', 3, { owner: 'bob', due: '2026-01-02', n: 3, open: true }),
        doc('4', 4, { owner: 'ana', due: '2026-01-02', n: 3, open: true, tier: 'silver' }),
      ];
      await store.applyBatch(rows.map((d) => ({ collection: c, id: d._id, doc: d, position: d._position })), { projection: checkpointName(), position: 4 });
      const ids = (ds: Doc[]): string[] => ds.map((d) => d._id);
      expect(ids(await store.find(c, { owner: 'ana' }, { sort: [['due', 1]] }))).toEqual(['2', '4', '1']);
      expect(ids(await store.find(c, { owner: 'ana' }, { sort: [['due', -1]], limit: 2 }))).toEqual(['1', '4']);
      expect(ids(await store.find(c, {}, { sort: [['n', -1]], skip: 1, limit: 2 }))).toEqual(['3', '4']);
      expect(ids(await store.find(c, { n: { $gte: 3, $lt: 5 } }, { sort: [['_id', 1]] }))).toEqual(['3', '4']);
      expect(ids(await store.find(c, { due: { $lte: '2026-01-02' }, open: true }, { sort: [['_id', 1]] }))).toEqual(['3', '4']);
      expect(ids(await store.find(c, { open: false }))).toEqual(['2']);
      expect(ids(await store.find(c, { owner: { $in: ['bob', 'zed'] } }))).toEqual(['3']);
      expect(ids(await store.find(c, { owner: { $ne: 'ana' } }))).toEqual(['3']);
      expect(ids(await store.find(c, { tier: null }, { sort: [['_id', 1]] }))).toEqual(['2', '3']);
      expect(ids(await store.find(c, { tier: { $ne: null } }, { sort: [['_id', 1]] }))).toEqual(['1', '4']);
      expect(ids(await store.find(c, { tier: { $exists: true } }, { sort: [['_id', 1]] }))).toEqual(['1', '2', '4']);
      expect(ids(await store.find(c, { n: 3 }, { sort: [['due', 1], ['_id', -1]] }))).toEqual(['4', '3']);
      expect(ids(await store.find(c, { tier: { $contains: 'il' } }))).toEqual(['4']);
      expect(ids(await store.find(c, { owner: { $contains: 'a.' } }))).toEqual([]);
      expect(ids(await store.find(c, { due: { $contains: '-01-0' } }, { sort: [['_id', 1]] }))).toEqual(['1', '2', '3', '4']);
      expect(await store.count(c, { owner: 'ana' })).toBe(3);
      expect(await store.count(c, { n: { $gt: 100 } })).toBe(0);
    });

    it('moves several checkpoints forward at once, creating missing ones and never moving one back', async () => {
      const a = checkpointName();
      const b = checkpointName();
      await store.applyBatch([], { projection: a, position: 10 });
      await store.saveCheckpoints([{ projection: a, position: 7 }, { projection: b, position: 5 }]);
      expect((await store.getCheckpoint(a))?.position).toBe(10);
      expect((await store.getCheckpoint(b))?.position).toBe(5);
      await store.saveCheckpoints([{ projection: a, position: 12 }, { projection: b, position: 12 }]);
      expect((await store.getCheckpoint(a))?.position).toBe(12);
      expect((await store.getCheckpoint(b))?.position).toBe(12);
      await store.saveCheckpoints([]);
      expect((await store.getCheckpoint(b))?.position).toBe(12);
    });

    describe('fencing (projector replicas: a newer lease holder refuses the older one)', () => {
      it('refuses a batch whose fence is older than the one recorded, checkpoint and documents included', async () => {
        const c = coll();
        const p = checkpointName();
        await store.ensureCollection(c, []);
        await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 5, { by: 'successor-7f3q' }), position: 5 }], { projection: p, position: 5, fence: 2 });
        // The paused former holder (fence 1) comes back with newer positions than its successor has reached.
        await expect(store.applyBatch(
          [{ collection: c, id: 'a', doc: doc('a', 9, { by: 'stale-holder-k2x' }), position: 9 }],
          { projection: p, position: 9, fence: 1 },
        )).rejects.toBeInstanceOf(FencedOff);
        expect(await store.get(c, 'a')).toEqual({ _id: 'a', _position: 5, by: 'successor-7f3q' });
        expect(await store.getCheckpoint(p)).toMatchObject({ position: 5, fence: 2 });
        // The current holder goes on; an unfenced write (embedded mode, tools) is not checked.
        await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 10, { by: 'successor-7f3q' }), position: 10 }], { projection: p, position: 10, fence: 2 });
        expect(await store.get(c, 'a')).toEqual({ _id: 'a', _position: 10, by: 'successor-7f3q' });
        expect(await store.getCheckpoint(p)).toMatchObject({ position: 10, fence: 2 });
      });

      it('records a takeover\'s fence even when its first write moves no position', async () => {
        const p = checkpointName();
        await store.applyBatch([], { projection: p, position: 8, fence: 1 });
        await store.applyBatch([], { projection: p, position: 8, fence: 3 });
        await expect(store.applyBatch([], { projection: p, position: 9, fence: 2 })).rejects.toBeInstanceOf(FencedOff);
        expect(await store.getCheckpoint(p)).toMatchObject({ position: 8, fence: 3 });
      });

      it('moves the checkpoints it may and names the fenced-off ones', async () => {
        const mine = checkpointName();
        const lost = checkpointName();
        await store.applyBatch([], { projection: lost, position: 3, fence: 4 });
        const refused = await store.saveCheckpoints([{ projection: mine, position: 6, fence: 1 }, { projection: lost, position: 6, fence: 3 }]).then(
          () => null, (e: unknown) => e,
        );
        expect(refused).toBeInstanceOf(FencedOff);
        expect((refused as FencedOff).projections).toEqual([lost]);
        expect((await store.getCheckpoint(mine))?.position).toBe(6);
        expect(await store.getCheckpoint(lost)).toMatchObject({ position: 3, fence: 4 });
      });
    });

    it('drops a collection and deletes a checkpoint', async () => {
      const c = coll();
      const p = checkpointName();
      await store.ensureCollection(c, []);
      await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 1, {}), position: 1 }], { projection: p, position: 1 });
      await store.dropCollection(c);
      await store.ensureCollection(c, []);
      expect(await store.count(c, {})).toBe(0);
      await store.applyBatch([], { projection: `${p}#g1`, position: 3 });
      await store.applyBatch([], { projection: `other-${p}`, position: 3 });
      expect((await store.listCheckpoints(p)).map((c) => [c.projection, c.position])).toEqual([[p, 1], [`${p}#g1`, 3]]);
      await store.deleteCheckpoint(p);
      expect(await store.getCheckpoint(p)).toBeNull();
      expect((await store.listCheckpoints(p)).map((c) => c.projection)).toEqual([`${p}#g1`]);
    });

    it('lists the collections that exist, and no longer a dropped one (every build an erasure must reach)', async () => {
      const [a, b] = [coll(), coll()];
      for (const c of [a, b]) {
        await store.ensureCollection(c, []);
        await store.applyBatch([{ collection: c, id: 'x', doc: doc('x', 1, {}), position: 1 }], { projection: checkpointName(), position: 1 });
      }
      expect(await store.listCollections()).toEqual(expect.arrayContaining([a, b]));
      await store.dropCollection(a);
      const after = await store.listCollections();
      expect([after.includes(a), after.includes(b)]).toEqual([false, true]);
      expect(after.some((name) => name.includes('checkpoint'))).toBe(false);
    });

    it('rewrites the matching documents in place, keeping their positions (erasure of a build no runner advances)', async () => {
      const c = coll();
      await store.ensureCollection(c, []);
      await store.applyBatch([
        { collection: c, id: 'a', doc: doc('a', 5, { customerId: 'x', name: 'Zoë' }), position: 5 },
        { collection: c, id: 'b', doc: doc('b', 7, { customerId: 'x', name: 'Zoë', gone: true }), position: 7 },
        { collection: c, id: 'c', doc: doc('c', 6, { customerId: 'y', name: 'Yan' }), position: 6 },
      ], { projection: checkpointName(), position: 7 });
      const changed = await store.rewrite(c, { customerId: 'x' }, (d) => (d['gone'] ? null : { ...d, name: '[erased]' }));
      expect(changed).toBe(2);
      expect(await store.find(c, {}, { sort: [['customerId', 1]] })).toEqual([
        { _id: 'a', _position: 5, customerId: 'x', name: '[erased]' },
        { _id: 'c', _position: 6, customerId: 'y', name: 'Yan' },
      ]);
      // The position guard still works on a rewritten document: a replay is ignored, a newer write lands.
      await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 5, { customerId: 'x', name: 'Zoë' }), position: 5 }], { projection: checkpointName(), position: 5 });
      expect((await store.get(c, 'a'))?.['name']).toBe('[erased]');
      await store.applyBatch([{ collection: c, id: 'a', doc: doc('a', 9, { customerId: 'x', name: 'new' }), position: 9 }], { projection: checkpointName(), position: 9 });
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', _position: 9, customerId: 'x', name: 'new' });
      expect(await store.rewrite(c, { customerId: 'nobody' }, () => null)).toBe(0);
      // Masking what is masked already changes nothing, and says so.
      expect(await store.rewrite(c, { customerId: 'y' }, (d) => ({ ...d }))).toBe(0);
    });

    it('a runner start drops the builds nothing serves any more (one retired by a rebuild before a stop)', async () => {
      const c = coll();
      const name = `counting_${c}`;
      const projection: Projection = {
        name, version: 1, eventTypes: ['Tick'], collections: [{ name: c, indexes: [] }],
        changes: () => [{ collection: c, id: 'all', evolve: (d: Doc | null) => ({ count: ((d?.['count'] as number | undefined) ?? 0) + 1 }) }],
      };
      const log = new InMemoryEventStore();
      await log.appendToStream('ticks', [1, 2].map((i) => ({ eventId: `${c}-${i}`, type: 'Tick', data: {}, metadata: {} })));
      const first = new ProjectionRunner(log, store, [projection], { idlePollMs: 20, dropDelayMs: 60_000 });
      await first.start();
      try {
        expect(await first.waitFor(name, 2, 5000)).toBe(true);
        await first.rebuild(name);
        const deadline = Date.now() + 5000;
        while (first.status()[0]?.serving?.generation !== 1) {
          if (Date.now() > deadline) throw new Error('the rebuild did not switch');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        await first.stop();
      }
      const builds = async (): Promise<string[]> => (await store.listCollections()).filter((n) => n.startsWith(`${c}_v`));
      expect(await builds()).toEqual([`${c}_v1`, `${c}_v1_g1`]);

      const restarted = new ProjectionRunner(log, store, [projection], { idlePollMs: 20 });
      await restarted.start();
      try {
        expect(await builds()).toEqual([`${c}_v1_g1`]);
        expect((await store.listCheckpoints(`${name}@`)).map((x) => x.projection)).toEqual([`${name}@v1#g1`]);
        expect(await store.get(`${c}_v1_g1`, 'all')).toMatchObject({ count: 2 });
      } finally {
        await restarted.stop();
      }
    });

    it('values loyalty spend with the policy read beside it, re-values on publication, and a rebuild ends where the live run did', async () => {
      const log = new InMemoryEventStore();
      const eur: LoyaltyPolicy = { ...DEFAULT_LOYALTY_POLICY, version: 'fx-1', rates: [{ currency: 'EUR', rate: '0.85', from: '2026-01-01' }] };
      const usd: LoyaltyPolicy = { ...eur, version: 'fx-2', rates: [...eur.rates, { currency: 'USD', rate: '0.8', from: '2026-01-01' }] };
      let n = 0;
      const append = (streamId: string, type: string, data: unknown): Promise<unknown> =>
        log.appendToStream(streamId, [{ eventId: `fx-${(n += 1)}`, type, data, metadata: {} }]);
      const buy = (orderId: string, customerId: string, amount: number, currency: string): Promise<unknown> => {
        const total = { amount, scale: 2, currency };
        return append(`order-${orderId}`, 'PurchaseRecorded', {
          orderId, customerId, occurredAt: '2026-03-10T12:00:00.000Z', currency, lines: [{ sku: 'S', description: '', quantity: 1, unitPrice: total, lineTotal: total }], total,
        });
      };
      await append('loyalty-policies', 'LoyaltyPolicyPublished', { policy: eur, previousVersion: null });
      await buy('o-a', 'cust-a', 90000, 'EUR');
      await buy('o-b', 'cust-b', 100000, 'USD');
      const runner = new ProjectionRunner(log, store, [loyaltyProjection], { idlePollMs: 20, batchSize: 2 });
      await runner.start();
      const docs = physicalCollection(loyaltyProjection, LOYALTY);
      try {
        expect(await runner.waitFor('loyalty', 3, 5000)).toBe(true);
        expect(await store.get(docs, 'cust-b')).toMatchObject({ valued: { value: 0, unconverted: [{ amount: 100000, scale: 2, currency: 'USD' }] } });
        // Live: published while the runner runs, then a purchase valued with the new version read beside it.
        await append('loyalty-policies', 'LoyaltyPolicyPublished', { policy: usd, previousVersion: 'fx-1' });
        await buy('o-c', 'cust-c', 5000, 'GBP');
        expect(await runner.waitFor('loyalty', 5, 5000)).toBe(true);
        const top = await store.find(docs, { 'valued.value': { $gt: 0 } }, { sort: [['valued.value', -1]], limit: 3 });
        expect(top.map((d) => [d._id, d['valued']])).toEqual([
          ['cust-b', { policyVersion: 'fx-2', currency: 'GBP', net: { amount: 80000, scale: 2, currency: 'GBP' }, value: 800, unconverted: [] }],
          ['cust-a', { policyVersion: 'fx-2', currency: 'GBP', net: { amount: 76500, scale: 2, currency: 'GBP' }, value: 765, unconverted: [] }],
          ['cust-c', { policyVersion: 'fx-2', currency: 'GBP', net: { amount: 5000, scale: 2, currency: 'GBP' }, value: 50, unconverted: [] }],
        ]);
        const { generation } = await runner.rebuild('loyalty');
        const deadline = Date.now() + 5000;
        while (runner.status()[0]?.serving?.generation !== generation) {
          if (Date.now() > deadline) throw new Error('the rebuild did not switch');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        for (const c of [LOYALTY, LOYALTY_POLICY_IN_FORCE]) {
          const all = async (name: string): Promise<Doc[]> => store.find(name, {}, { sort: [['_id', 1]] });
          expect(await all(physicalCollection(loyaltyProjection, c, generation))).toEqual(await all(physicalCollection(loyaltyProjection, c)));
        }
      } finally {
        await runner.stop();
      }
    });
  });
}

import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { StoreUnavailable } from '@crm/event-store';
import { idempotencyScopeHash, type StoredResponse } from '../../apps/api/src/idempotency/idempotency-store';
import {
  IDEMPOTENCY_COLLECTION, MongoIdempotencyStore,
} from '../../apps/api/src/idempotency/mongo-idempotency-store';
import { type MongoDoubleHandle, startMongoDouble } from '../doubles/mongo-wire-double';
import { describeIdempotencyStoreContract, type IdempotencyStoreHarness } from './idempotency-store.contract';

const freshDbName = (): string => `idem_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const LEASE_MS = 30_000;
const OPTIONS = { leaseMs: LEASE_MS, retentionMs: 24 * 60 * 60 * 1000 };

/** Each open() is another replica (its own store, its own owner id) on one client and a database of the test's own. */
async function harnessOn(uri: string): Promise<IdempotencyStoreHarness & { db: Db }> {
  const client = new MongoClient(uri);
  await client.connect();
  const db = client.db(freshDbName());
  return {
    db,
    replicas: true,
    open: (options) => MongoIdempotencyStore.open(db, options),
    dispose: async () => {
      await db.dropDatabase();
      await client.close();
    },
  };
}

describe('MongoDB idempotency store against the in-process wire-protocol double', () => {
  let double: MongoDoubleHandle;
  beforeAll(async () => {
    double = await startMongoDouble();
  });
  afterAll(async () => {
    await double.stop();
  });

  describeIdempotencyStoreContract('mongodb (wire-protocol double)', () => harnessOn(double.uri));

  describe('MongoDB idempotency store specifics', () => {
    let harness: IdempotencyStoreHarness & { db: Db };
    beforeEach(async () => {
      harness = await harnessOn(double.uri);
    });
    afterEach(async () => {
      await harness.dispose();
    });

    it('keeps records in one collection with a TTL index on expiresAt, keyed by the scope hash, never the raw key', async () => {
      const store = await harness.open(OPTIONS);
      const rawKey = `raw-key-${randomUUID()}`;
      await store.reserve(`agent-1\n${rawKey}`, 'h', T0, 'req-1');
      const response: StoredResponse = { status: 201, headers: {}, body: { id: 'c-1' } };
      await store.complete(`agent-1\n${rawKey}`, 'h', response, T0 + 5);

      const indexes = await harness.db.collection(IDEMPOTENCY_COLLECTION).listIndexes().toArray();
      expect(indexes).toContainEqual(expect.objectContaining({ key: { expiresAt: 1 }, expireAfterSeconds: 0 }));
      const records = await harness.db.collection(IDEMPOTENCY_COLLECTION).find({}).toArray();
      expect(records).toEqual([expect.objectContaining({
        _id: idempotencyScopeHash(`agent-1\n${rawKey}`), state: 'done', requestHash: 'h', requestId: 'req-1',
        expiresAt: new Date(T0 + 5 + 24 * 60 * 60 * 1000),
      })]);
      expect(JSON.stringify(records)).not.toContain(rawKey);
      // Opening again (the next replica, the next boot) keeps the index as it is.
      await harness.open(OPTIONS);
    });

    it('tells another replica a running request is in progress until its lease ends, at once after a release', async () => {
      const [a, b] = [await harness.open(OPTIONS), await harness.open(OPTIONS)];
      const running = `agent-1\nrunning-${randomUUID()}`;
      const released = `agent-1\nreleased-${randomUUID()}`;
      await a.reserve(running, 'h', T0, 'req-1');
      await a.reserve(released, 'h', T0, 'req-2');
      await a.release(released);

      expect(await b.reserve(running, 'h', T0 + LEASE_MS - 1, 'req-3')).toEqual({ kind: 'in-progress' });
      expect(await b.reserve(released, 'h', T0 + 1, 'req-4')).toEqual({ kind: 'reserved', requestId: 'req-2', recovered: true });
      expect(await b.reserve(running, 'h', T0 + LEASE_MS, 'req-5')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
      // The first owner no longer holds it: its late outcome is not recorded over the new holder's.
      await a.complete(running, 'h', { status: 201, headers: {}, body: { late: true } }, T0 + LEASE_MS + 1);
      expect(await a.reserve(running, 'h', T0 + LEASE_MS + 2, 'req-6')).toEqual({ kind: 'in-progress' });
    });

    it('lets one of two replicas take over a dead owner\'s key, the other is told it is in progress', async () => {
      const s = `agent-1\ndead-${randomUUID()}`;
      await (await harness.open(OPTIONS)).reserve(s, 'h', T0, 'req-1');
      const [b, c] = [await harness.open(OPTIONS), await harness.open(OPTIONS)];

      const answers = await Promise.all([b.reserve(s, 'h', T0 + LEASE_MS, 'req-b'), c.reserve(s, 'h', T0 + LEASE_MS, 'req-c')]);

      expect(answers).toEqual(expect.arrayContaining([{ kind: 'reserved', requestId: 'req-1', recovered: true }, { kind: 'in-progress' }]));
    });

    it('reports an unreachable server as StoreUnavailable (503 store-unavailable)', async () => {
      const lost = await startMongoDouble();
      const client = new MongoClient(lost.uri, { serverSelectionTimeoutMS: 300 });
      await client.connect();
      try {
        const store = await MongoIdempotencyStore.open(client.db(freshDbName()));
        await lost.stop();
        await expect(store.reserve(`agent-1\nk-${randomUUID()}`, 'h', T0, 'req-1')).rejects.toBeInstanceOf(StoreUnavailable);
      } finally {
        await client.close();
      }
    });
  });
});

const realServer = process.env.MONGODB_URI;
if (realServer) {
  describeIdempotencyStoreContract('mongodb (real server)', () => harnessOn(realServer));
} else {
  describe.skip('IdempotencyStore contract: mongodb real server (set MONGODB_URI)', () => {
    it('runs the contract against the server in MONGODB_URI', () => undefined);
  });
}

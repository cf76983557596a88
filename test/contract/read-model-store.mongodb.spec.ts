import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { MongoClient } from 'mongodb';
import { FencedOff, MongoReadModelStore, ReadModelStoreUnavailable } from '@crm/read-models';
import { type MongoDoubleHandle, startMongoDouble } from '../doubles/mongo-wire-double';
import { UpsertRace } from '../support/upsert-race';
import { describeReadModelStoreContract } from './read-model-store.contract';

const freshDbName = (): string => `rm_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

describe('MongoDB adapter against the in-process wire-protocol double', () => {
  let double: MongoDoubleHandle;

  beforeAll(async () => {
    double = await startMongoDouble();
  });
  afterAll(async () => {
    await double.stop();
  });

  // One double for the file; a fresh client and database per test.
  describeReadModelStoreContract('mongodb (wire-protocol double)', async () => {
    const store = await MongoReadModelStore.connect(double.uri, freshDbName());
    return { store, dispose: () => store.close() };
  });

  describe('MongoDB adapter specifics', () => {
    it('takes the database from the dbName parameter, else the URI path, else "crm"', async () => {
      const fromPath = freshDbName();
      const client = new MongoClient(double.uri);
      const stores = [
        await MongoReadModelStore.connect(double.uri.replace('/?', `/${fromPath}?`)),
        await MongoReadModelStore.connect(double.uri),
      ];
      try {
        for (const [i, store] of stores.entries()) {
          await store.applyBatch([{ collection: 'where_am_i', id: `s${i}`, doc: { _id: `s${i}`, _position: 1 }, position: 1 }], { projection: 'p', position: 1 });
        }
        expect(await client.db(fromPath).collection<{ _id: string }>('where_am_i').countDocuments({ _id: 's0' })).toBe(1);
        expect(await client.db('crm').collection<{ _id: string }>('where_am_i').countDocuments({ _id: 's1' })).toBe(1);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await client.close();
      }
    });

    it('takes an E11000 on _id for "already applied" only when the stored position is at or past the write\'s', async () => {
      // The stored document is newer-fenced and older-positioned: the upsert's filter misses it and collides on _id.
      // Taken for a replay, the stale holder's newer-positioned write would vanish silently; it is refused instead.
      const store = await MongoReadModelStore.connect(double.uri, freshDbName());
      try {
        await store.applyBatch([{ collection: 'shared', id: 'a', doc: { _id: 'a', _position: 4, v: 'fence-5-q8' }, position: 4 }], { projection: 'successor', position: 4, fence: 5 });
        await expect(
          store.applyBatch([{ collection: 'shared', id: 'a', doc: { _id: 'a', _position: 6, v: 'fence-1-z3' }, position: 6 }], { projection: 'other', position: 6, fence: 1 }),
        ).rejects.toBeInstanceOf(FencedOff);
        // A true replay (stored position at or past the write's) is still skipped silently.
        await store.applyBatch([{ collection: 'shared', id: 'a', doc: { _id: 'a', _position: 3, v: 'replay' }, position: 3 }], { projection: 'other', position: 3, fence: 1 });
        expect(await store.get('shared', 'a')).toEqual({ _id: 'a', _position: 4, v: 'fence-5-q8' });
        expect((await store.getCheckpoint('other'))?.position).toBe(3);
      } finally {
        await store.close();
      }
    });

    it('fails a batch that violates a unique secondary index instead of taking it for a replay', async () => {
      const store = await MongoReadModelStore.connect(double.uri, freshDbName());
      try {
        await store.ensureCollection('people', [{ fields: [['email', 1]], unique: true }]);
        await store.applyBatch([{ collection: 'people', id: 'a', doc: { _id: 'a', _position: 1, email: 'x@y' }, position: 1 }], { projection: 'p', position: 1 });
        await expect(
          store.applyBatch([{ collection: 'people', id: 'b', doc: { _id: 'b', _position: 2, email: 'x@y' }, position: 2 }], { projection: 'p', position: 2 }),
        ).rejects.toMatchObject({ code: 11000 });
        expect((await store.getCheckpoint('p'))?.position).toBe(1);
        expect(await store.get('people', 'b')).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('reports an unreachable server as ReadModelStoreUnavailable', async () => {
      const closed = net.createServer();
      await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
      const address = closed.address();
      await new Promise<void>((ok) => closed.close(() => ok()));
      if (address === null || typeof address === 'string') throw new Error('no port');
      await expect(
        MongoReadModelStore.connect(`mongodb://127.0.0.1:${address.port}/?directConnection=true&serverSelectionTimeoutMS=300`),
      ).rejects.toBeInstanceOf(ReadModelStoreUnavailable);
    });
  });
});

/**
 * Two writers of one document whose position-guarded upserts both miss (no document yet) and race to insert, as two
 * projector replicas can on mongod: the loser's E11000 on `_id` must be told apart by re-reading the stored document
 * (docs/decisions.md "Projector replicas: leases and fencing").
 */
describe('MongoDB adapter: E11000 from two upserts racing on one _id', () => {
  const race = new UpsertRace();
  let double: MongoDoubleHandle;
  let stores: MongoReadModelStore[] = [];

  beforeAll(async () => {
    double = await startMongoDouble({ upsertGate: race.gate });
  });
  afterAll(async () => {
    await double.stop();
  });
  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()));
    stores = [];
  });

  /** Two stores (two clients, so two connections) on one fresh database. */
  const twoWriters = async (): Promise<[MongoReadModelStore, MongoReadModelStore]> => {
    const db = freshDbName();
    stores = await Promise.all([MongoReadModelStore.connect(double.uri, db), MongoReadModelStore.connect(double.uri, db)]);
    const [a, b] = stores;
    if (!a || !b) throw new Error('two stores expected');
    return [a, b];
  };
  const write = (store: MongoReadModelStore, position: number, v: string, projection: string, fence?: number): Promise<void> =>
    store.applyBatch(
      [{ collection: 'raced', id: 'r1', doc: { _id: 'r1', _position: position, v }, position }],
      { projection, position, ...(fence === undefined ? {} : { fence }) },
    );
  const insertsFirst = (position: number) => (filter: Record<string, unknown>): boolean =>
    (filter._position as { $lt?: unknown } | undefined)?.$lt === position;

  it('the newer write loses the insert: it is tried again over the older one, not taken for a replay', async () => {
    const [a, b] = await twoWriters();
    race.arm('raced', insertsFirst(7));
    const races = race.races;
    await Promise.all([write(a, 7, 'older-p7-k1', 'pa'), write(b, 8, 'newer-p8-k1', 'pb')]);
    expect(race.races).toBe(races + 1);
    expect(await a.get('raced', 'r1')).toEqual({ _id: 'r1', _position: 8, v: 'newer-p8-k1' });
  });

  it('the older write loses the insert: a replay, skipped, and its checkpoint still moves', async () => {
    const [a, b] = await twoWriters();
    race.arm('raced', insertsFirst(8));
    const races = race.races;
    await Promise.all([write(a, 7, 'older-p7-k2', 'pa'), write(b, 8, 'newer-p8-k2', 'pb')]);
    expect(race.races).toBe(races + 1);
    expect(await a.get('raced', 'r1')).toEqual({ _id: 'r1', _position: 8, v: 'newer-p8-k2' });
    expect((await a.getCheckpoint('pa'))?.position).toBe(7);
  });

  it('a stale lease holder loses the insert to its successor: FencedOff, and the successor\'s document stays', async () => {
    const [stale, successor] = await twoWriters();
    race.arm('raced', insertsFirst(7));
    const races = race.races;
    const [staleOutcome, successorOutcome] = await Promise.allSettled([
      write(stale, 8, 'stale-f1-k3', 'stale', 1), write(successor, 7, 'successor-f2-k3', 'successor', 2),
    ]);
    expect(race.races).toBe(races + 1);
    expect(successorOutcome.status).toBe('fulfilled');
    expect(staleOutcome).toMatchObject({ status: 'rejected', reason: expect.any(FencedOff) as unknown });
    expect(await stale.get('raced', 'r1')).toEqual({ _id: 'r1', _position: 7, v: 'successor-f2-k3' });
  });
});

const realServer = process.env.MONGODB_URI;
if (realServer) {
  // A fresh database per test, dropped afterwards.
  describeReadModelStoreContract('mongodb (real server)', async () => {
    const client = new MongoClient(realServer);
    await client.connect();
    const db = client.db(freshDbName());
    const store = new MongoReadModelStore(client, db);
    return {
      store,
      dispose: async () => {
        await db.dropDatabase();
        await store.close();
      },
    };
  });
} else {
  // Said once, not as a test that passes without asserting anything.
  console.warn('ReadModelStore contract against a real MongoDB skipped: set MONGODB_URI to run it');
}

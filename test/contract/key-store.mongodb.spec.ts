import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { DATA_KEYS_COLLECTION, KeyEncryptionKey, MongoKeyStore, StoreUnavailable } from '@crm/event-store';
import { type MongoDoubleHandle, startMongoDouble } from '../doubles/mongo-wire-double';
import { describeKeyStoreContract, type KeyStoreHarness } from './key-store.contract';

const freshDbName = (): string => `keys_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

/** Each open() is another replica's store on one client and a database of the test's own. */
async function harnessOn(uri: string): Promise<KeyStoreHarness & { db: Db }> {
  const client = new MongoClient(uri);
  await client.connect();
  const db = client.db(freshDbName());
  return {
    db,
    open: (options) => MongoKeyStore.open(db, options),
    storedKey: async (subject) => {
      const record = await db.collection<{ _id: string; wrappedKey?: string }>(DATA_KEYS_COLLECTION).findOne({ _id: subject });
      return record?.wrappedKey === undefined ? undefined : Buffer.from(record.wrappedKey, 'base64');
    },
    dispose: async () => {
      await db.dropDatabase();
      await client.close();
    },
  };
}

describe('MongoDB key store against the in-process wire-protocol double', () => {
  let double: MongoDoubleHandle;
  beforeAll(async () => {
    double = await startMongoDouble();
  });
  afterAll(async () => {
    await double.stop();
  });

  describeKeyStoreContract('mongodb (wire-protocol double)', () => harnessOn(double.uri));

  describe('MongoDB key store specifics', () => {
    let harness: KeyStoreHarness & { db: Db };
    beforeEach(async () => {
      harness = await harnessOn(double.uri);
    });
    afterEach(async () => {
      await harness.dispose();
    });

    it('keeps one record per subject: the wrapped key with its KEK id, then only the tombstone; no key in clear anywhere', async () => {
      const kek = KeyEncryptionKey.generate();
      const store = await MongoKeyStore.open(harness.db, { kek });
      const key = (await store.keyFor('cust-1')) as Buffer;
      const records = () => harness.db.collection(DATA_KEYS_COLLECTION).find({}).toArray();
      expect(await records()).toEqual([{ _id: 'cust-1', wrappedKey: expect.any(String), kekId: kek.id, createdAt: expect.any(Date) }]);
      const dump = JSON.stringify(await records());
      expect(dump).not.toContain(key.toString('base64'));
      expect(dump).not.toContain(key.toString('hex'));

      const at = new Date('2026-03-01T10:00:00.000Z');
      await store.erase('cust-1', at);
      expect(await records()).toEqual([{ _id: 'cust-1', createdAt: expect.any(Date), erasedAt: at }]);
    });

    it('serves a key from memory within the TTL (no round trip per read), then reads it again', async () => {
      let now = Date.parse('2026-03-01T09:00:00.000Z');
      const kek = KeyEncryptionKey.generate();
      const store = await MongoKeyStore.open(harness.db, { kek, cacheTtlMs: 1000, now: () => now });
      const key = await store.keyFor('cust-1');
      // Replaced behind the store's back (as a rotation would rewrap it): the cached key is used until the TTL ends.
      const other = KeyEncryptionKey.generate();
      await harness.db.collection<{ _id: string }>(DATA_KEYS_COLLECTION).updateOne({ _id: 'cust-1' }, { $set: { wrappedKey: other.wrap('cust-1', Buffer.alloc(32)).toString('base64') } });
      now += 999;
      expect((await store.existingKeys(['cust-1'])).get('cust-1')).toEqual(key);
      now += 1;
      await expect(store.existingKeys(['cust-1'])).rejects.toThrow(/DATA_KEY_ENCRYPTION_KEY_FILE/);
    });

    it('reports an unreachable server as StoreUnavailable (503 store-unavailable)', async () => {
      const lost = await startMongoDouble();
      const client = new MongoClient(lost.uri, { serverSelectionTimeoutMS: 300 });
      await client.connect();
      try {
        const store = await MongoKeyStore.open(client.db(freshDbName()), { kek: KeyEncryptionKey.generate() });
        await lost.stop();
        await expect(store.keyFor('cust-1')).rejects.toBeInstanceOf(StoreUnavailable);
      } finally {
        await client.close();
      }
    });
  });
});

const realServer = process.env.MONGODB_URI;
if (realServer) {
  describeKeyStoreContract('mongodb (real server)', () => harnessOn(realServer));
} else {
  describe.skip('KeyStore contract: mongodb real server (set MONGODB_URI)', () => {
    it('runs the contract against the server in MONGODB_URI', () => undefined);
  });
}

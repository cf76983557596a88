import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoLeaseStore } from '@crm/read-models';
import { type MongoDoubleHandle, startMongoDouble } from '../doubles/mongo-wire-double';
import { describeLeaseStoreContract } from './lease-store.contract';

const freshDbName = (): string => `leases_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

describe('MongoDB lease store against the in-process wire-protocol double', () => {
  let double: MongoDoubleHandle;
  beforeAll(async () => {
    double = await startMongoDouble();
  });
  afterAll(async () => {
    await double.stop();
  });

  describeLeaseStoreContract('mongodb (wire-protocol double)', async () => {
    const client = await new MongoClient(double.uri).connect();
    return { store: new MongoLeaseStore(client.db(freshDbName())), dispose: () => client.close() };
  });
});

const realUri = process.env.MONGODB_URI;
if (realUri) {
  describeLeaseStoreContract('mongodb (real server)', async () => {
    const client = await new MongoClient(realUri).connect();
    const db = client.db(freshDbName());
    return { store: new MongoLeaseStore(db), dispose: async () => { await db.dropDatabase(); await client.close(); } };
  });
}

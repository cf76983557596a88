import { randomUUID } from 'node:crypto';
import { type CommandStartedEvent, type Document, MongoClient, MongoServerError, type TopologyType } from 'mongodb';
import { type MongoDoubleHandle, type MongoDoubleOptions, startMongoDouble } from '../doubles/mongo-wire-double';
import { UpsertRace } from '../support/upsert-race';

/**
 * The double itself, through the real driver: it must make the driver take the paths it takes against a replica
 * set (retryable writes with lsid + txnNumber, w: majority), and reproduce the E11000 of two racing upserts.
 */
describe('MongoDB wire double', () => {
  const doubles: MongoDoubleHandle[] = [];
  const clients: MongoClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(doubles.splice(0).map((d) => d.stop()));
  });
  const start = async (options: MongoDoubleOptions = {}): Promise<MongoDoubleHandle> => {
    const double = await startMongoDouble(options);
    doubles.push(double);
    return double;
  };
  const connect = async (uri: string): Promise<{ client: MongoClient; commands: CommandStartedEvent[]; topology: () => TopologyType | undefined }> => {
    const client = new MongoClient(uri, { monitorCommands: true });
    clients.push(client);
    const commands: CommandStartedEvent[] = [];
    let topology: TopologyType | undefined;
    client.on('commandStarted', (e) => commands.push(e));
    client.on('topologyDescriptionChanged', (e) => (topology = e.newDescription.type));
    await client.connect();
    return { client, commands, topology: () => topology };
  };
  const dbName = (): string => `dbl_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  it('is discovered as a replica set with a primary, and the driver sends lsid + txnNumber on retryable writes', async () => {
    const double = await start();
    const { client, commands, topology } = await connect(double.replicaSetUri);
    await client.db(dbName()).collection('c').insertOne({ _id: 'rs-q7' } as Document);
    expect(topology()).toBe('ReplicaSetWithPrimary');
    const insert = commands.find((c) => c.commandName === 'insert');
    expect(insert?.command.lsid).toBeDefined();
    expect(insert?.command.txnNumber).toBeDefined();
  });

  it('as a standalone (replicaSet: false) gets no txnNumber, as a real standalone', async () => {
    const double = await start({ replicaSet: false });
    const { client, commands, topology } = await connect(double.uri);
    await client.db(dbName()).collection('c').insertOne({ _id: 'sa-k2' } as Document);
    expect(topology()).toBe('Single');
    expect(commands.find((c) => c.commandName === 'insert')?.command.txnNumber).toBeUndefined();
  });

  it('applies a write whose reply was lost exactly once: the driver retries it and gets the recorded reply', async () => {
    const double = await start();
    const { client, commands } = await connect(double.uri);
    const coll = client.db(dbName()).collection<{ _id: string; n: number }>('counters');
    double.dropWriteReplies(1);
    const result = await coll.updateOne({ _id: 'once-x4' }, { $inc: { n: 1 } }, { upsert: true });
    expect(result.upsertedId).toBe('once-x4');
    expect(await coll.findOne({ _id: 'once-x4' })).toEqual({ _id: 'once-x4', n: 1 });
    const updates = commands.filter((c) => c.commandName === 'update');
    expect(updates).toHaveLength(2);
    expect(String(updates[1]?.command.txnNumber)).toBe(String(updates[0]?.command.txnNumber));
  });

  it('loses the write to a dropped reply on a standalone, which the driver does not retry', async () => {
    const double = await start({ replicaSet: false });
    const { client } = await connect(double.uri);
    const coll = client.db(dbName()).collection<{ _id: string; n: number }>('counters');
    double.dropWriteReplies(1);
    await expect(coll.updateOne({ _id: 'lost-m9' }, { $inc: { n: 1 } }, { upsert: true })).rejects.toThrow();
    expect(await coll.findOne({ _id: 'lost-m9' })).toEqual({ _id: 'lost-m9', n: 1 }); // applied, reply lost
  });

  it('accepts w: majority and never answers a writeConcernError', async () => {
    const double = await start();
    const { client, commands } = await connect(`${double.replicaSetUri}&w=majority`);
    const coll = client.db(dbName()).collection('c');
    const result = await coll.insertOne({ _id: 'maj-r5' } as Document, { writeConcern: { w: 'majority', wtimeoutMS: 1000 } });
    expect(result.acknowledged).toBe(true);
    expect(commands.find((c) => c.commandName === 'insert')?.command.writeConcern).toMatchObject({ w: 'majority' });
  });

  it('answers an upsert whose filter misses an existing _id with E11000, in mongod\'s shape', async () => {
    const double = await start();
    const { client } = await connect(double.uri);
    const db = dbName();
    const coll = client.db(db).collection<{ _id: string; _position: number }>('docs');
    await coll.insertOne({ _id: 'dup-t8', _position: 9 });
    const error: unknown = await coll.updateOne({ _id: 'dup-t8', _position: { $lt: 5 } }, { $set: { _position: 5 } }, { upsert: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error).toMatchObject({
      code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 'dup-t8' },
      errmsg: `E11000 duplicate key error collection: ${db}.docs index: _id_ dup key: { _id: "dup-t8" }`,
    });
  });

  describe('two upserts of one _id racing on two connections (upsertGate)', () => {
    const race = new UpsertRace();
    const setup = async (): Promise<{ a: MongoClient; b: MongoClient; db: string }> => {
      const double = await start({ upsertGate: race.gate });
      const [{ client: a }, { client: b }] = await Promise.all([connect(double.uri), connect(double.uri)]);
      return { a, b, db: dbName() };
    };

    it('both miss, the second insert fails with E11000 on _id when the filter guards more than the _id', async () => {
      const { a, b, db } = await setup();
      race.arm('race', (filter) => (filter._position as { $lt: number }).$lt === 7);
      const upsert = (client: MongoClient, p: number): Promise<unknown> =>
        client.db(db).collection<{ _id: string; _position: number }>('race')
          .updateOne({ _id: 'race-w3', _position: { $lt: p } }, { $set: { _position: p } }, { upsert: true })
          .catch((e: unknown) => e);
      const [first, second] = await Promise.all([upsert(a, 7), upsert(b, 8)]);
      expect(race.races).toBe(1);
      expect(first).toMatchObject({ upsertedId: 'race-w3' });
      expect(second).toMatchObject({
        code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 'race-w3' },
        errmsg: `E11000 duplicate key error collection: ${db}.race index: _id_ dup key: { _id: "race-w3" }`,
      });
      expect(await a.db(db).collection('race').findOne({})).toEqual({ _id: 'race-w3', _position: 7 });
    });

    it('both miss, and the server retries the loser itself when the filter is only the _id (as mongod 4.2+)', async () => {
      const { a, b, db } = await setup();
      race.arm('race', () => true); // the first to arrive inserts first
      const upsert = (client: MongoClient, v: string): Promise<unknown> =>
        client.db(db).collection<{ _id: string; v?: string }>('race').updateOne({ _id: 'race-e6' }, { $set: { v } }, { upsert: true });
      const [first, second] = await Promise.all([upsert(a, 'first'), upsert(b, 'second')]);
      expect(race.races).toBe(2);
      expect(first).toMatchObject({ upsertedCount: 1 });
      expect(second).toMatchObject({ upsertedCount: 0, matchedCount: 1 });
      expect(await a.db(db).collection('race').findOne({})).toEqual({ _id: 'race-e6', v: 'second' });
    });
  });
});

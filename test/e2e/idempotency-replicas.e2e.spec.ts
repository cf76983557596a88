import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { idempotencyScopeHash } from '../../apps/api/src/idempotency/idempotency-store';
import { IDEMPOTENCY_COLLECTION } from '../../apps/api/src/idempotency/mongo-idempotency-store';
import { startEventStoreDbDouble, type EventStoreDbDouble } from '../doubles/eventstoredb-grpc-double';
import { startMongoDouble, type MongoDoubleHandle } from '../doubles/mongo-wire-double';
import { writeProductionSecrets } from '../support/production-secrets';
import { makeTempDir } from '../support/temp-dir';
import { startTestApp, type TestApp, type TestResponse } from '../support/test-app';

const LEASE_MS = 30_000;

/**
 * Production topology: two API replicas (A runs the projector, B none, as `docker compose` scales the API) share the
 * event log (EventStoreDB double) and MongoDB (wire double: read models, idempotency records and the data keys, wrapped
 * by the key-encryption key both replicas are given), each with a DATA_DIR of its own.
 * Each replica has its own injected clock.
 */
describe('Idempotency-Key across two API replicas sharing MongoDB', () => {
  let esdb: EventStoreDbDouble;
  let mongo: MongoDoubleHandle;
  let client: MongoClient;
  let a: TestApp;
  let b: TestApp;
  const dbName = `crm_replicas_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const secrets = makeTempDir('crm-replicas-secrets-');
  beforeAll(async () => {
    [esdb, mongo] = await Promise.all([startEventStoreDbDouble(), startMongoDouble()]);
    const env = {
      EVENTSTORE_CONNECTION_STRING: esdb.connectionString,
      MONGODB_URI: mongo.uri.replace('/?', `/${dbName}?`),
      IDEMPOTENCY_LEASE_MS: String(LEASE_MS),
      ...writeProductionSecrets(secrets.dir),
    };
    a = await startTestApp({ env });
    b = await startTestApp({ env: { ...env, PROJECTOR: 'off' } });
    client = await new MongoClient(mongo.uri).connect();
  });
  afterAll(async () => {
    await client?.close();
    await b?.close();
    await a?.close();
    await Promise.all([mongo?.stop(), esdb?.stop()]);
    secrets.remove();
  });

  const outcome = (r: TestResponse): unknown => ({ status: r.status, body: r.body, etag: r.headers.get('etag'), location: r.headers.get('location') });
  const eventTypes = async (streamId: string): Promise<string[]> =>
    ((await a.request('GET', `/streams/${streamId}/events`)).body.events as Array<{ type: string }>).map((e) => e.type);
  const records = () => client.db(dbName).collection<{ _id: string; state: string }>(IDEMPOTENCY_COLLECTION);

  it('replays on replica B the answer replica A gave, and appends nothing', async () => {
    const key = `replicas-replay-${randomUUID()}`;
    const body = { name: 'Replica Replayed', kind: 'customer' };
    const first = await a.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    // Shared through MongoDB: the replicas have no DATA_DIR in common.
    expect(await records().findOne({ _id: idempotencyScopeHash(`agent-ana\n${key}`) })).toMatchObject({ state: 'done' });

    const retry = await b.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });

    expect(outcome(retry)).toEqual(outcome(first));
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await eventTypes(`customer-${first.body.id as string}`)).toEqual(['CustomerRegistered']);
    const other = await b.request('POST', '/customers', { body: { ...body, name: 'Another Body' }, headers: { 'idempotency-key': key } });
    expect(other).toMatchObject({ status: 422, body: { type: 'idempotency-key-reused' } });
  });

  it('runs one of two concurrent requests with one key on two replicas; the other waits (409) or replays', async () => {
    const key = `replicas-race-${randomUUID()}`;
    const body = { name: 'Replica Raced', kind: 'customer' };

    const answers = await Promise.all([a, b].map((r) => r.request('POST', '/customers', { body, headers: { 'idempotency-key': key } })));

    const created = answers.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(answers.filter((r) => r.status !== 201).map((r) => [r.status, r.body.type])).toEqual(
      created.length === 2 ? [] : [[409, 'idempotency-key-in-progress']],
    );
    expect(new Set(created.map((r) => r.body.id as string)).size).toBe(1);
    expect(await eventTypes(`customer-${created[0]?.body.id as string}`)).toEqual(['CustomerRegistered']);
  });

  it('after replica A died between append and answer, B answers 409 until A\'s lease ends, then the first outcome', async () => {
    const key = `replicas-crash-${randomUUID()}`;
    const body = { name: 'Replica Crashed', kind: 'customer' };
    const first = await a.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    // As A leaves its record when it dies after the append and before recording the answer: pending, its own, leased.
    const diedAt = a.clock.now().getTime();
    const left = await records().updateOne(
      { _id: idempotencyScopeHash(`agent-ana\n${key}`), state: 'done' },
      { $set: { state: 'pending', owner: `replica-a-${randomUUID()}`, leaseUntil: new Date(diedAt + LEASE_MS) }, $unset: { response: '' } },
    );
    expect(left.modifiedCount).toBe(1);

    b.clock.set(new Date(diedAt + LEASE_MS - 1));
    const early = await b.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });
    expect(early).toMatchObject({ status: 409, body: { type: 'idempotency-key-in-progress' } });
    expect(early.headers.get('retry-after')).not.toBeNull();

    b.clock.set(new Date(diedAt + LEASE_MS));
    const retry = await b.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });

    expect(outcome(retry)).toEqual(outcome(first));
    expect(await eventTypes(`customer-${first.body.id as string}`)).toEqual(['CustomerRegistered']);
    // B recorded it: A (or any replica) now replays it.
    const again = await a.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });
    expect(outcome(again)).toEqual(outcome(first));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });
});

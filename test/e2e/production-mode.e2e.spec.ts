import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { DATA_KEYS_COLLECTION } from '@crm/event-store';
import { loadConfig, openProjector } from '@crm/runtime';
import { createApp } from '../../apps/api/src/app.factory';
import { startEventStoreDbDouble, type EventStoreDbDouble } from '../doubles/eventstoredb-grpc-double';
import { startMongoDouble, type MongoDoubleHandle } from '../doubles/mongo-wire-double';
import { writeProductionSecrets } from '../support/production-secrets';
import { makeTempDir } from '../support/temp-dir';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/** Every file under `dir`, relative, or nothing when `dir` was never created. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * Production mode (EVENTSTORE_CONNECTION_STRING and MONGODB_URI): two API replicas, A with the projector and B without,
 * share only the servers (EventStoreDB double, MongoDB wire double) and the secrets' files. Data keys live in MongoDB,
 * wrapped; neither replica writes anything under its DATA_DIR.
 */
describe('two API replicas in production mode, sharing nothing but the servers', () => {
  let esdb: EventStoreDbDouble;
  let mongo: MongoDoubleHandle;
  let client: MongoClient;
  let a: TestApp;
  let b: TestApp;
  const secrets = makeTempDir('crm-production-secrets-');
  const dbName = `crm_prod_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const CACHE_TTL_MS = 300;
  let envOf: () => Record<string, string> = () => ({});

  beforeAll(async () => {
    [esdb, mongo] = await Promise.all([startEventStoreDbDouble(), startMongoDouble()]);
    const env = {
      EVENTSTORE_CONNECTION_STRING: esdb.connectionString,
      MONGODB_URI: mongo.uri.replace('/?', `/${dbName}?`),
      DATA_KEY_CACHE_TTL_MS: String(CACHE_TTL_MS),
      ...writeProductionSecrets(secrets.dir),
    };
    envOf = () => env;
    a = await startTestApp({ env });
    b = await startTestApp({ env: { ...env, PROJECTOR: 'off' } });
    client = await new MongoClient(mongo.uri).connect();
  }, 30_000);
  afterAll(async () => {
    await client?.close();
    await b?.close();
    await a?.close();
    await Promise.all([mongo?.stop(), esdb?.stop()]);
    secrets.remove();
  });

  const nameIn = async (replica: TestApp, id: string): Promise<unknown> =>
    (await replica.request('GET', `/streams/customer-${id}/events`, { token: TOKENS.auditor })).body.events[0]?.data.name;

  it('reads on B a customer created on A, erases it through B, and A sees the erasure within the key cache TTL', async () => {
    const name = `Prudence ${randomUUID()}`;
    const created = await a.request('POST', '/customers', { body: { name, email: 'prudence@example.com', kind: 'customer' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // B opens the sealed fields with the key A created, read from MongoDB.
    expect(await nameIn(b, id)).toBe(name);
    const profile = await b.request('GET', `/customers/${id}?minPosition=${created.body.position as number}`);
    expect({ status: profile.status, name: profile.body.name }).toEqual({ status: 200, name });
    const contact = { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 'asked about delivery', outcome: 'answered' };
    expect((await b.request('POST', `/customers/${id}/contacts`, { body: contact })).status).toBe(201);
    expect(await nameIn(a, id)).toBe(name); // A now holds the key in its cache

    // One record, wrapped: the database holds no key A or B could use without the KEK file.
    const records = await client.db(dbName).collection(DATA_KEYS_COLLECTION).find({ _id: id as never }).toArray();
    expect(records).toEqual([expect.objectContaining({ _id: id, wrappedKey: expect.any(String), kekId: expect.any(String) })]);

    const erased = await b.request('POST', `/customers/${id}/erase`, { token: TOKENS.admin, body: { reason: 'GDPR request' } });
    expect(erased.status).toBe(201);
    expect(erased.body.receipt.keyDestroyed).toBe(true);
    expect(await nameIn(b, id)).toBe('[erased]'); // at once on the erasing replica
    expect(await client.db(dbName).collection(DATA_KEYS_COLLECTION).findOne({ _id: id as never })).toEqual(
      expect.not.objectContaining({ wrappedKey: expect.anything() }),
    );

    // A used its cached key for at most the TTL: wait for the erasure to show there, bounded well above it.
    const deadline = Date.now() + CACHE_TTL_MS + 5_000;
    let seen = await nameIn(a, id);
    while (seen !== '[erased]' && Date.now() < deadline) seen = await nameIn(a, id);
    expect(seen).toBe('[erased]');
    const refused = await a.request('POST', `/customers/${id}/contacts`, { body: contact });
    expect({ status: refused.status, type: refused.body.type }).toEqual({ status: 410, type: 'customer-erased' });
  });

  it('keeps the DATA_DIR of each replica free of files (no keys.db, idempotency.db, admin token or signing key)', async () => {
    const key = `prod-${randomUUID()}`;
    const first = await a.request('POST', '/customers', { body: { name: 'Idem Potent', kind: 'customer' }, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect((await b.request('POST', '/customers', { body: { name: 'Idem Potent', kind: 'customer' }, headers: { 'idempotency-key': key } })).body.id).toBe(first.body.id);
    expect((await a.request('GET', '/health/ready', { token: null })).status).toBe(200);
    expect((await b.request('GET', '/audit/export', { token: TOKENS.auditor })).status).toBe(200); // signed with AUDIT_SIGNING_KEY_FILE
    expect({ a: filesUnder(a.dataDir), b: filesUnder(b.dataDir) }).toEqual({ a: [], b: [] });
  });

  it('runs a projector process (openProjector) on the same servers and keys, creating nothing under its DATA_DIR', async () => {
    const dataDir = join(secrets.dir, `projector-data-${randomUUID()}`);
    const created = await a.request('POST', '/customers', { body: { name: 'Projected Elsewhere', kind: 'customer' } });
    const config = loadConfig({ ...envOf(), DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const projector = await openProjector(config);
    try {
      const position = created.body.position as number;
      const deadline = Date.now() + 10_000;
      const behind = (): boolean => projector.host.runner.status().some((p) => p.checkpoint < position);
      while (behind() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(behind()).toBe(false);
    } finally {
      await projector.close();
    }
    expect(filesUnder(dataDir)).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('a production-mode process without its key-encryption key refuses to start, saying which variable', () => {
  const tmp = makeTempDir('crm-production-refusal-');
  afterAll(() => tmp.remove());
  const base = (extra: Record<string, string>): Record<string, string> => {
    const tokens = join(tmp.dir, 'tokens.json');
    writeFileSync(tokens, JSON.stringify([{ token: TOKENS.admin, id: 'admin-1', role: 'admin' }]));
    return {
      // Never connected to: the process refuses before it opens a connection.
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false',
      MONGODB_URI: 'mongodb://127.0.0.1:1/crm',
      DATA_DIR: join(tmp.dir, `data-${randomUUID()}`),
      AUTH_TOKENS_FILE: tokens,
      LOG_LEVEL: 'silent',
      PROJECTOR: 'off',
      ...extra,
    };
  };

  it.each([
    ['not set', (): Record<string, string> => ({}), /DATA_KEY_ENCRYPTION_KEY_FILE/],
    ['naming a missing file', (): Record<string, string> => ({ DATA_KEY_ENCRYPTION_KEY_FILE: join(tmp.dir, 'absent') }), /DATA_KEY_ENCRYPTION_KEY_FILE .*absent cannot be read/],
    ['naming a file that is not 32 bytes of base64', (): Record<string, string> => {
      const file = join(tmp.dir, `short-${randomUUID()}`);
      writeFileSync(file, Buffer.alloc(16, 1).toString('base64'));
      return { DATA_KEY_ENCRYPTION_KEY_FILE: file };
    }, /DATA_KEY_ENCRYPTION_KEY_FILE .* holds 16 bytes/],
  ])('DATA_KEY_ENCRYPTION_KEY_FILE %s: the API and the projector refuse, and create nothing under DATA_DIR', async (_case, extra, message) => {
    const secretsEnv = writeProductionSecrets(tmp.dir);
    const env = base({ AUDIT_SIGNING_KEY_FILE: secretsEnv.AUDIT_SIGNING_KEY_FILE, ...extra() });
    const config = loadConfig(env);
    await expect(createApp({ config })).rejects.toThrow(message);
    await expect(openProjector(config)).rejects.toThrow(message);
    expect(existsSync(config.dataDir)).toBe(false);
  });

  it('names every other setting the API would otherwise invent under DATA_DIR', async () => {
    const config = loadConfig({ ...base({}), AUTH_TOKENS_FILE: '' });
    const refusal = createApp({ config });
    await expect(refusal).rejects.toThrow(/DATA_KEY_ENCRYPTION_KEY_FILE.*AUDIT_SIGNING_KEY_FILE.*AUTH_TOKENS_FILE or AUTH_TOKENS/);
    expect(existsSync(config.dataDir)).toBe(false);
  });
});

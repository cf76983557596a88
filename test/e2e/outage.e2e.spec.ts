import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ALL_PROJECTIONS, checkpointName, MongoReadModelStore } from '@crm/read-models';
import { loadConfig, openEventStoreWithKeys, openProjector, systemClock } from '@crm/runtime';
import type { EventStore } from '@crm/event-store';
import { startEventStoreDbDouble, type EventStoreDbDouble } from '../doubles/eventstoredb-grpc-double';
import { startMongoDouble, type MongoDoubleHandle } from '../doubles/mongo-wire-double';
import { writeProductionSecrets } from '../support/production-secrets';
import { cleanRebuildInto, dumpReadModels, until } from '../support/read-model-state';
import { seedHistory } from '../support/seed-history';
import { makeTempDir } from '../support/temp-dir';
import { startTestApp, type TestApp } from '../support/test-app';

const HOST = '127.0.0.1';

/**
 * A TCP relay in front of a double, on a free port of its own: `cut` resets every open connection and every new one
 * (a server that went down: the client hears of it at once), `stall` keeps every connection open and relays nothing
 * (a network that drops packets silently: only the client's own deadlines end its calls), `restore` relays again on
 * the same port (stalled connections are reset then, as a peer would after its timeout).
 */
interface Relay { readonly port: number; cut(): void; stall(): void; restore(): void; close(): Promise<void> }

async function startRelay(target: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let mode: 'up' | 'cut' | 'stall' = 'up';
  const server = net.createServer((client) => {
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    sockets.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => sockets.delete(client));
    if (mode === 'stall') return;
    const upstream = net.connect(target, HOST);
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    // Forward by hand, so that a stall can drop data on the floor rather than buffer it.
    client.on('data', (chunk: Buffer) => void (mode === 'up' && upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => void (mode === 'up' && client.write(chunk)));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const resetAll = (): void => {
    for (const s of sockets) s.resetAndDestroy();
  };
  return {
    port,
    cut: () => {
      mode = 'cut';
      resetAll();
    },
    stall: () => {
      mode = 'stall';
    },
    restore: () => {
      if (mode === 'stall') resetAll();
      mode = 'up';
    },
    close: () => new Promise<void>((resolve) => {
      resetAll();
      server.close(() => resolve());
    }),
  };
}

/**
 * Store outages in production mode (EventStoreDB and MongoDB doubles behind relays that are cut and restored): the
 * API answers 503 store-unavailable with Retry-After within the configured bounds and recovers by itself; a projector
 * pauses, retries, takes its leases again and resumes, and the read models then equal a clean rebuild of the log.
 */
describe('store outages', () => {
  // Short bounds for the test; the defaults (5 s each) are in docs/operations.md "Store outages".
  const STORE_TIMEOUT_MS = 1_000;
  // Refused or reset: one STORE_TIMEOUT_MS (server selection, a deadline); the rest is slack for a loaded machine.
  const BOUND_MS = 4 * STORE_TIMEOUT_MS;
  // A silent MongoDB: the reply's 3 x STORE_TIMEOUT_MS (socketTimeoutMS), then the driver's one retry finds no server
  // within server selection + connect: about 5 x, plus slack.
  const SILENT_MONGO_BOUND_MS = 7 * STORE_TIMEOUT_MS;
  let esdb: EventStoreDbDouble;
  let mongo: MongoDoubleHandle;
  let esdbRelay: Relay;
  let mongoRelay: Relay;
  let app: TestApp;
  let projector: Awaited<ReturnType<typeof openProjector>>;
  let direct: EventStore;
  const tmp = makeTempDir('crm-outage-');
  const dbName = `outage_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let env: Record<string, string>;

  beforeAll(async () => {
    [esdb, mongo] = await Promise.all([startEventStoreDbDouble(), startMongoDouble()]);
    [esdbRelay, mongoRelay] = await Promise.all([startRelay(esdb.port), startRelay(Number(new URL(mongo.uri).port))]);
    env = {
      EVENTSTORE_CONNECTION_STRING: `esdb://${HOST}:${esdbRelay.port}?tls=false`,
      MONGODB_URI: `mongodb://${HOST}:${mongoRelay.port}/${dbName}?directConnection=true`,
      STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
      PROJECTION_LEASE_MS: '2000',
      PROJECTION_LEASE_RENEW_MS: '500',
      SLA_INTERVAL_MS: '3600000',
      ...writeProductionSecrets(tmp.dir),
    };
    app = await startTestApp({ env: { ...env, PROJECTOR: 'off' } });
    projector = await openProjector(loadConfig({ ...env, DATA_DIR: join(tmp.dir, 'projector'), LOG_LEVEL: 'silent' }));
    // The log and the read models as they really are, past the relays, for the final comparison.
    direct = await openEventStoreWithKeys(loadConfig({ ...env, EVENTSTORE_CONNECTION_STRING: esdb.connectionString, MONGODB_URI: mongo.uri.replace('/?', `/${dbName}?`), DATA_DIR: join(tmp.dir, 'direct') }), systemClock);
  }, 30_000);
  afterAll(async () => {
    await projector?.close();
    await app?.close();
    await direct?.close();
    await Promise.all([esdbRelay?.close(), mongoRelay?.close()]);
    await Promise.all([mongo?.stop(), esdb?.stop()]);
    tmp.remove();
  });

  const contact = { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 'asked about delivery', outcome: 'answered' };
  const acknowledged: string[] = [];

  async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
    const started = Date.now();
    const result = await work();
    return { result, ms: Date.now() - started };
  }

  async function createCustomer(name: string): Promise<string> {
    const created = await app.request('POST', '/customers', { body: { name, kind: 'customer' } });
    expect(created.status).toBe(201);
    return created.body.id as string;
  }

  const pausedProjections = (): string[] => projector.host.runner.status().filter((s) => s.status === 'paused').map((s) => s.name);

  async function projectorCaughtUp(): Promise<boolean> {
    const head = await direct.headPosition();
    const status = projector.host.runner.status();
    return status.length === ALL_PROJECTIONS.length && status.every((s) => s.status === 'live' && s.checkpoint >= head);
  }

  it('EventStoreDB outage: commands 503 within the bound, queries answer, readiness names the store, all recovers', async () => {
    const id = await createCustomer(`Ada ${randomUUID()}`);
    await until(projectorCaughtUp, 10_000, 'the projector to catch up before the outage');

    esdbRelay.cut();
    const refused = await timed(() => app.request('POST', `/customers/${id}/contacts`, { body: contact }));
    expect({ status: refused.result.status, type: refused.result.body.type, retryAfter: refused.result.headers.get('retry-after') })
      .toEqual({ status: 503, type: 'store-unavailable', retryAfter: expect.stringMatching(/^\d+$/) });
    expect(refused.ms).toBeLessThan(BOUND_MS);

    const profile = await app.request('GET', `/customers/${id}`);
    expect(profile.status).toBe(200);
    const ready = await timed(() => app.request('GET', '/health/ready', { token: null }));
    expect({ status: ready.result.status, type: ready.result.body.type, eventStoreError: typeof ready.result.body.eventStore?.error })
      .toEqual({ status: 503, type: 'store-unavailable', eventStoreError: 'string' });
    expect(ready.ms).toBeLessThan(BOUND_MS);
    await until(() => pausedProjections().length > 0, 10_000, 'the projector to mark its projections paused');

    esdbRelay.restore();
    let recovered = await app.request('POST', `/customers/${id}/contacts`, { body: contact });
    await until(async () => {
      if (recovered.status === 201) return true;
      expect(recovered.status).toBe(503);
      recovered = await app.request('POST', `/customers/${id}/contacts`, { body: contact });
      return recovered.status === 201;
    }, 15_000, 'a command to succeed after the event store is back');
    acknowledged.push(id);
    await until(async () => (await app.request('GET', '/health/ready', { token: null })).status === 200, 15_000, 'readiness after the outage');
    await until(projectorCaughtUp, 20_000, 'the projector to resume by itself');
  }, 60_000);

  it('EventStoreDB unreachable without a reset (stalled network): commands 503 within STORE_TIMEOUT_MS, not the client default', async () => {
    const id = await createCustomer(`Hedy ${randomUUID()}`);
    esdbRelay.stall();
    const refused = await timed(() => app.request('POST', `/customers/${id}/contacts`, { body: contact }));
    esdbRelay.restore();
    expect({ status: refused.result.status, type: refused.result.body.type, retryAfter: refused.result.headers.get('retry-after'), fast: refused.ms < BOUND_MS })
      .toEqual({ status: 503, type: 'store-unavailable', retryAfter: expect.stringMatching(/^\d+$/), fast: true });
    let recovered = await app.request('POST', `/customers/${id}/contacts`, { body: contact });
    await until(async () => {
      if (recovered.status !== 201) recovered = await app.request('POST', `/customers/${id}/contacts`, { body: contact });
      return recovered.status === 201;
    }, 15_000, 'a command to succeed after the network is back');
    acknowledged.push(id);
    await until(projectorCaughtUp, 20_000, 'the projector to resume by itself');
  }, 60_000);

  it('MongoDB unreachable without a reset (stalled network): queries 503 within the bound, then recover', async () => {
    const id = await createCustomer(`Katherine ${randomUUID()}`);
    mongoRelay.stall();
    const query = await timed(() => app.request('GET', `/customers/${id}`));
    mongoRelay.restore();
    expect({ status: query.result.status, type: query.result.body.type, retryAfter: query.result.headers.get('retry-after'), fast: query.ms < SILENT_MONGO_BOUND_MS })
      .toEqual({ status: 503, type: 'store-unavailable', retryAfter: expect.stringMatching(/^\d+$/), fast: true });
    await until(async () => (await app.request('GET', `/customers/${id}`)).status === 200, 15_000, 'queries after the network is back');
    acknowledged.push(id);
  }, 60_000);

  it('MongoDB outage: queries, keyed commands and customer creation 503 within the bound; all recovers', async () => {
    const id = await createCustomer(`Grace ${randomUUID()}`);
    await until(projectorCaughtUp, 10_000, 'the projector to catch up before the outage');

    mongoRelay.cut();
    // Appends go on past the API (the event store is up): acknowledged now, projected once MongoDB is back.
    // From now: no SLA deadline of theirs passes during the test, so the watcher appends nothing behind the comparison.
    await seedHistory(direct, 2, new Date(), `outage-${randomUUID().slice(0, 8)}`);
    const query = await timed(() => app.request('GET', `/customers/${id}`));
    const keyed = await timed(() => app.request('POST', `/customers/${id}/contacts`, { body: contact, headers: { 'idempotency-key': `outage-${randomUUID()}` } }));
    const creation = await timed(() => app.request('POST', '/customers', { body: { name: `Linus ${randomUUID()}`, kind: 'customer' } }));
    const ready = await timed(() => app.request('GET', '/health/ready', { token: null }));
    for (const [what, r] of Object.entries({ query, keyed, creation, ready })) {
      expect({ what, status: r.result.status, type: r.result.body.type, retryAfter: r.result.headers.get('retry-after'), fast: r.ms < BOUND_MS })
        .toEqual({ what, status: 503, type: 'store-unavailable', retryAfter: expect.stringMatching(/^\d+$/), fast: true });
    }
    expect(ready.result.body.readModelStore).toEqual({ error: expect.any(String) });
    // The projector stays up: its lease passes fail and say so, and the units whose leases it could not renew stop.
    const leases = projector.host.leaseManager;
    const stoppedByOutage = (): boolean => leases?.outage() != null && projector.host.runner.running().length === 0;
    await until(stoppedByOutage, 10_000, 'the projector to notice the outage and stop its units').catch((e: unknown) => {
      const seen = { outage: leases?.outage(), running: projector.host.runner.running(), status: projector.host.runner.status() };
      throw new Error(`${String(e)}: ${JSON.stringify(seen)}`);
    });

    mongoRelay.restore();
    await until(async () => (await app.request('GET', `/customers/${id}`)).status === 200, 15_000, 'queries after MongoDB is back');
    const after = await app.request('POST', `/customers/${id}/contacts`, { body: contact, headers: { 'idempotency-key': `outage-${randomUUID()}` } });
    expect(after.status).toBe(201);
    acknowledged.push(await createCustomer(`Barbara ${randomUUID()}`));
    await until(async () => (await app.request('GET', '/health/ready', { token: null })).status === 200, 15_000, 'readiness after the outage');
    await until(projectorCaughtUp, 20_000, 'the projector to take its leases again and resume');
    expect(projector.host.leaseManager?.outage()).toBeNull();

    const head = await direct.headPosition();
    // Nothing acknowledged lost, and the read models equal a clean rebuild of the log.
    const served = await MongoReadModelStore.connect(mongo.uri.replace('/?', `/${dbName}?`));
    const clean = await MongoReadModelStore.connect(mongo.uri.replace('/?', `/${dbName}_clean?`));
    try {
      for (const p of ALL_PROJECTIONS) expect((await served.getCheckpoint(checkpointName(p)))?.position).toBeGreaterThanOrEqual(head);
      expect(await dumpReadModels(served)).toEqual(await cleanRebuildInto(direct, clean, head));
      for (const customer of acknowledged) expect((await direct.readStream(`customer-${customer}`)).length).toBeGreaterThan(0);
    } finally {
      await served.close();
      await clean.close();
    }
  }, 60_000);
});

import { connectionsCheckingIntervalMs, DEFAULT_PROJECTOR_THREAD_NICE, loadConfig, projectorThreadsFor } from './config';
import { projectorCarryLimits } from './composition';

describe('loadConfig: where the projections run (PROJECTOR)', () => {
  it('runs them in a worker thread of the API process by default, as npm start does', () => {
    expect(loadConfig({}).projector).toBe('thread');
    expect(loadConfig({ PROJECTOR: '' }).projector).toBe('thread');
  });

  it.each(['thread', 'embedded', 'off'] as const)('accepts PROJECTOR=%s', (mode) => {
    expect(loadConfig({ PROJECTOR: mode }).projector).toBe(mode);
  });

  it('refuses anything else, naming the accepted values', () => {
    expect(() => loadConfig({ PROJECTOR: 'worker' })).toThrow('PROJECTOR must be thread, embedded or off, got "worker"');
  });
});

describe('loadConfig: HTTP server limits', () => {
  it('bounds every phase of a connection by default (Fastify leaves request and socket timeouts off)', () => {
    expect(loadConfig({}).http).toEqual({
      headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, connectionTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000,
      maxConnections: 1000, drainLimitBytes: 8 * 1024 * 1024, listenBacklog: 4096,
    });
  });

  it('reads each limit from the environment', () => {
    expect(loadConfig({
      HTTP_HEADERS_TIMEOUT_MS: '200', HTTP_REQUEST_TIMEOUT_MS: '300', HTTP_CONNECTION_TIMEOUT_MS: '400', HTTP_KEEP_ALIVE_TIMEOUT_MS: '500',
      HTTP_MAX_CONNECTIONS: '7', HTTP_DRAIN_LIMIT_BYTES: '600', HTTP_LISTEN_BACKLOG: '800',
    }).http).toEqual({ headersTimeoutMs: 200, requestTimeoutMs: 300, connectionTimeoutMs: 400, keepAliveTimeoutMs: 500, maxConnections: 7, drainLimitBytes: 600, listenBacklog: 800 });
  });

  it('drains up to 8x the body limit after a 413 unless told otherwise', () => {
    expect(loadConfig({ BODY_LIMIT_BYTES: '1000' }).http.drainLimitBytes).toBe(8000);
  });

  it.each(['HTTP_HEADERS_TIMEOUT_MS', 'HTTP_REQUEST_TIMEOUT_MS', 'HTTP_CONNECTION_TIMEOUT_MS', 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 'HTTP_MAX_CONNECTIONS'])(
    'refuses %s=0 (it would switch the limit off)', (name) => {
      expect(() => loadConfig({ [name]: '0' })).toThrow(`${name} must be a positive integer, got "0"`);
    });

  it('refuses a headers timeout longer than the request timeout (Node would refuse it at start)', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '1000' }))
      .toThrow('HTTP_HEADERS_TIMEOUT_MS (2000) must not exceed HTTP_REQUEST_TIMEOUT_MS (1000)');
  });

  it('checks for slow requests often enough to honour a short timeout', () => {
    expect(connectionsCheckingIntervalMs(loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '200', HTTP_REQUEST_TIMEOUT_MS: '300' }).http)).toBe(50);
    expect(connectionsCheckingIntervalMs(loadConfig({}).http)).toBe(1000);
  });

  it('leases projections for 15 s renewed every 5 s by default; the renewal follows a configured lease and must be shorter', () => {
    expect(loadConfig({})).toMatchObject({ projectionLeaseMs: 15_000, projectionLeaseRenewMs: 5_000, projectorReplicaId: undefined });
    expect(loadConfig({ PROJECTION_LEASE_MS: '6000', PROJECTOR_REPLICA_ID: 'proj-b' })).toMatchObject({ projectionLeaseMs: 6_000, projectionLeaseRenewMs: 2_000, projectorReplicaId: 'proj-b' });
    expect(() => loadConfig({ PROJECTION_LEASE_MS: '5000', PROJECTION_LEASE_RENEW_MS: '5000' }))
      .toThrow('PROJECTION_LEASE_RENEW_MS (5000) must be less than PROJECTION_LEASE_MS (5000)');
  });
});

describe('store timeouts (STORE_TIMEOUT_MS)', () => {
  const base = { EVENTSTORE_CONNECTION_STRING: 'esdb://db.example:2113?tls=false', MONGODB_URI: 'mongodb://mongo.example:27017/crm' };

  it('bounds both clients by 5 s by default, MongoDB replies by 3 x that', () => {
    const config = loadConfig(base);
    expect(config.storeTimeoutMs).toBe(5_000);
    expect(config.eventStoreConnectionString).toBe('esdb://db.example:2113?tls=false&defaultDeadline=5000');
    expect(config.mongodbUri).toBe('mongodb://mongo.example:27017/crm?serverSelectionTimeoutMS=5000&connectTimeoutMS=5000&socketTimeoutMS=15000');
  });

  it('follows STORE_TIMEOUT_MS and leaves what the URI sets (any case) alone', () => {
    const config = loadConfig({
      STORE_TIMEOUT_MS: '1500',
      EVENTSTORE_CONNECTION_STRING: 'esdb://db.example:2113?tls=false&defaultdeadline=9000',
      MONGODB_URI: 'mongodb://mongo.example:27017/?serverSelectionTimeoutMS=42',
    });
    expect(config.eventStoreConnectionString).toBe('esdb://db.example:2113?tls=false&defaultdeadline=9000');
    expect(config.mongodbUri).toBe('mongodb://mongo.example:27017/?serverSelectionTimeoutMS=42&connectTimeoutMS=1500&socketTimeoutMS=4500');
  });

  it('refuses a timeout that is not a positive number', () => {
    expect(() => loadConfig({ ...base, STORE_TIMEOUT_MS: '0' })).toThrow(/STORE_TIMEOUT_MS/);
  });

  it('runs the projector threads PROJECTOR_THREAD_NICE steps below the API, 0..19', () => {
    expect(loadConfig({}).projectorThreadNice).toBe(DEFAULT_PROJECTOR_THREAD_NICE);
    expect(loadConfig({ PROJECTOR_THREAD_NICE: '0' }).projectorThreadNice).toBe(0);
    expect(loadConfig({ PROJECTOR_THREAD_NICE: '19' }).projectorThreadNice).toBe(19);
    // Only an explicit setting warns where a thread cannot be lowered (the default is silent there).
    expect(loadConfig({}).projectorThreadNiceSet).toBe(false);
    expect(loadConfig({ PROJECTOR_THREAD_NICE: '' }).projectorThreadNiceSet).toBe(false);
    expect(loadConfig({ PROJECTOR_THREAD_NICE: '10' }).projectorThreadNiceSet).toBe(true);
    expect(() => loadConfig({ PROJECTOR_THREAD_NICE: '20' })).toThrow(/PROJECTOR_THREAD_NICE/);
    expect(() => loadConfig({ PROJECTOR_THREAD_NICE: '-5' })).toThrow(/PROJECTOR_THREAD_NICE/);
  });

  it("leaves the read-model connections' page cache to the store (SQLite's 2 MB) unless READ_MODEL_CACHE_MB sets it", () => {
    expect(loadConfig({}).readModelCacheMb).toBeUndefined();
    expect(loadConfig({ READ_MODEL_CACHE_MB: '8' }).readModelCacheMb).toBe(8);
    expect(() => loadConfig({ READ_MODEL_CACHE_MB: '0' })).toThrow(/READ_MODEL_CACHE_MB/);
    expect(() => loadConfig({ READ_MODEL_CACHE_MB: 'lots' })).toThrow(/READ_MODEL_CACHE_MB/);
  });

  it('lets the builds catching up carry 10,000 documents from page to page unless PROJECTION_CARRY_DOCUMENTS says otherwise (0: none)', () => {
    expect(loadConfig({}).projectionCarryDocuments).toBe(10_000);
    expect(loadConfig({ PROJECTION_CARRY_DOCUMENTS: '0' }).projectionCarryDocuments).toBe(0);
    expect(() => loadConfig({ PROJECTION_CARRY_DOCUMENTS: '-1' })).toThrow(/PROJECTION_CARRY_DOCUMENTS/);
    // Each projector thread's runner gets its share; the time bound is the runner's own.
    expect(projectorCarryLimits(loadConfig({}))).toEqual({ maxDocuments: 10_000, maxMs: 3_000 });
    expect(projectorCarryLimits(loadConfig({ PROJECTION_CARRY_DOCUMENTS: '9999' }), 2)).toEqual({ maxDocuments: 4_999, maxMs: 3_000 });
  });

  it('runs the projections on one thread unless PROJECTOR_THREADS asks for more', () => {
    expect(projectorThreadsFor(loadConfig({}))).toBe(1);
    expect(projectorThreadsFor(loadConfig({ PROJECTOR_THREADS: '3' }))).toBe(3);
    expect(() => loadConfig({ PROJECTOR_THREADS: '0' })).toThrow(/PROJECTOR_THREADS/);
  });
});

import { resolve } from 'node:path';
import { MAX_NICE } from './thread-priority';

/** Everything the process reads from its environment, read once at start. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** When set, the event log is EventStoreDB/KurrentDB instead of the embedded SQLite file. */
  readonly eventStoreConnectionString?: string;
  readonly authTokensFile?: string;
  /** JSON array of token entries, for deployments that inject secrets as env vars. */
  readonly authTokensJson?: string;
  readonly bodyLimitBytes: number;
  readonly slaPolicyFile?: string;
  readonly contactPolicyFile?: string;
  /** FULL fsyncs every group commit (default); NORMAL trades the last commits on power loss for speed. */
  readonly sqliteSynchronous: 'FULL' | 'NORMAL';
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug' | 'silent';
  /**
   * When set, read models live in MongoDB instead of the embedded SQLite file. Without `serverSelectionTimeoutMS` and
   * `socketTimeoutMS` in it, bounds from STORE_TIMEOUT_MS are added (see withMongoTimeouts; the driver's own defaults,
   * 30 s and none, would hold a request that long, or forever, in an outage).
   */
  readonly mongodbUri?: string;
  /**
   * STORE_TIMEOUT_MS (default 5000): how long a call to an unreachable store may wait before it fails as unavailable
   * (503 store-unavailable on the API, a paused projection in the projector). Applied as MongoDB's
   * `serverSelectionTimeoutMS` and EventStoreDB's `defaultDeadline` unless the URI or connection string sets its own.
   */
  readonly storeTimeoutMs: number;
  /**
   * With MONGODB_URI: how long a reservation of an Idempotency-Key counts as running on the replica that took it. A
   * retry of a key whose replica died waits (409) at most this long.
   */
  readonly idempotencyLeaseMs: number;
  /**
   * Where the projections and the SLA watcher run. `thread` (npm start): in a worker thread of this process, on its
   * own connections. `embedded`: on this process's event loop (tests with an injected clock). `off`: a separate
   * projector process does (docker compose).
   */
  readonly projector: 'thread' | 'embedded' | 'off';
  /**
   * PROJECTOR_THREADS: worker threads the projections are shared out among, by cost (projector-groups.ts), each with
   * its own runner and store connections. Unset: the default of where the projector runs (projectorThreadsFor).
   */
  readonly projectorThreads?: number;
  /**
   * PROJECTOR_THREAD_NICE (0–19): how many nice steps each projector worker thread of `npm start` runs below the
   * process (that thread only, on Linux; at most nice 19), so that under CPU contention the scheduler serves the API's
   * commands first and the projections catch up in larger batches when there is slack. Default 10
   * (DEFAULT_PROJECTOR_THREAD_NICE); 0 keeps the process's priority. No effect on the projector process (nice the
   * process there) nor where threads have no priority of their own.
   */
  readonly projectorThreadNice: number;
  /** Whether PROJECTOR_THREAD_NICE was set: a platform that cannot lower a thread warns only when it was asked to. */
  readonly projectorThreadNiceSet?: boolean;
  /** How long a query with `minPosition` waits for its read model before answering 503. */
  readonly readWaitMs: number;
  readonly slaIntervalMs: number;
  readonly loyaltyCurrency: string;
  /** Events per projection batch (one read-model transaction each). */
  readonly projectionBatchSize: number;
  /** Live tail: appends closer together than this wake the projections once (RunnerOptions.liveCoalesceMs; 0 = each). */
  readonly projectionCoalesceMs: number;
  /**
   * PROJECTION_CARRY_DOCUMENTS: documents the builds catching up may carry in memory from page to page, over the whole
   * process (each projector thread gets its share); 0 commits every page (RunnerOptions.carry, CarriedDocuments).
   */
  readonly projectionCarryDocuments: number;
  /**
   * READ_MODEL_CACHE_MB: SQLite's page cache per read-model connection (the API's queries, each projector thread's
   * writes), filled only as pages are used. Unset: the store's default, SQLite's own 2 MB (READ_MODEL_CACHE_MB in
   * libs/read-models, with the trade-off). This module imports no library: processes load it without path aliases.
   */
  readonly readModelCacheMb?: number;
  /** Ed25519 private key (PKCS#8 PEM) that signs audit exports; created under DATA_DIR when absent. */
  readonly auditSigningKeyFile?: string;
  /**
   * The key-encryption key's file (32 random bytes, base64) that wraps every per-customer data key. Required in
   * production mode (EVENTSTORE_CONNECTION_STRING and MONGODB_URI); else created under DATA_DIR when absent.
   */
  readonly dataKeyEncryptionKeyFile?: string;
  /** Production mode: how long a replica uses a data key from memory; an erasure elsewhere is seen within this time. */
  readonly dataKeyCacheTtlMs: number;
  /**
   * Projector replicas (MONGODB_URI set): how long a projection's lease runs without renewal, and how often it is
   * renewed. A dead replica's projections move to the others within lease + renew (20 s by default).
   */
  readonly projectionLeaseMs: number;
  readonly projectionLeaseRenewMs: number;
  /** This projector replica's id in the leases (PROJECTOR_REPLICA_ID; default host name, process id and a random part). */
  readonly projectorReplicaId?: string;
  /** Socket and connection limits of the HTTP server (docs/security.md, "Connection limits and timeouts"). */
  readonly http: HttpServerLimits;
}

export interface HttpServerLimits {
  /** The request line and all headers must arrive within this time of the connection (or of the previous response). */
  readonly headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this time; else 408 and the socket is closed. */
  readonly requestTimeoutMs: number;
  /** A socket that sends and receives nothing for this long is closed (also while a response is being written). */
  readonly connectionTimeoutMs: number;
  /** An idle keep-alive socket is closed after this time. */
  readonly keepAliveTimeoutMs: number;
  /** Open sockets per process; further connections are dropped as they arrive. */
  readonly maxConnections: number;
  /**
   * After a 413, up to this many bytes of the rest of the body are read and discarded before the answer is sent, so
   * that the client, still sending, reads the 413 instead of a connection reset.
   */
  readonly drainLimitBytes: number;
  /**
   * Connections the kernel completes and queues for the server before it accepts them (`listen` backlog, capped by
   * net.core.somaxconn). The API accepts one connection per event-loop turn (libuv 1.46), so a burst of new
   * connections waits in this queue while the loop is busy; past it, SYNs are dropped and clients retry only after
   * 1, 3 and 7 s. Node's default is 511.
   */
  readonly listenBacklog: number;
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function positiveIntFrom(value: string | undefined, fallback: number, name: string): number {
  const n = intFrom(value, fallback, name);
  if (n === 0) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

/**
 * Node answers a request that is slow to arrive only when its periodic connection check runs (30 s by default), so
 * the check runs at a quarter of the shorter timeout, at most once a second.
 */
export function connectionsCheckingIntervalMs(limits: HttpServerLimits): number {
  return Math.min(1000, Math.max(10, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
}

function httpLimits(env: NodeJS.ProcessEnv, bodyLimitBytes: number): HttpServerLimits {
  const limits: HttpServerLimits = {
    headersTimeoutMs: positiveIntFrom(env.HTTP_HEADERS_TIMEOUT_MS, 10_000, 'HTTP_HEADERS_TIMEOUT_MS'),
    requestTimeoutMs: positiveIntFrom(env.HTTP_REQUEST_TIMEOUT_MS, 30_000, 'HTTP_REQUEST_TIMEOUT_MS'),
    connectionTimeoutMs: positiveIntFrom(env.HTTP_CONNECTION_TIMEOUT_MS, 30_000, 'HTTP_CONNECTION_TIMEOUT_MS'),
    // Above the 60 s idle timeout of common load balancers, so that they, not we, close an idle pooled connection
    // (else a request they send just as we close it fails). Fastify's default for the same reason.
    keepAliveTimeoutMs: positiveIntFrom(env.HTTP_KEEP_ALIVE_TIMEOUT_MS, 72_000, 'HTTP_KEEP_ALIVE_TIMEOUT_MS'),
    maxConnections: positiveIntFrom(env.HTTP_MAX_CONNECTIONS, 1000, 'HTTP_MAX_CONNECTIONS'),
    drainLimitBytes: intFrom(env.HTTP_DRAIN_LIMIT_BYTES, 8 * bodyLimitBytes, 'HTTP_DRAIN_LIMIT_BYTES'),
    listenBacklog: positiveIntFrom(env.HTTP_LISTEN_BACKLOG, 4096, 'HTTP_LISTEN_BACKLOG'),
  };
  // Node refuses a headers timeout longer than the request timeout: the headers are part of the request.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error(`HTTP_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs})`);
  }
  return limits;
}

/**
 * How many projector threads run: PROJECTOR_THREADS, else 1 wherever the projector runs (`npm start`'s worker thread
 * or the projector process). More threads are opt-in: they halve a catch-up's wall time on two cores but each holds
 * its own heap and modules (peak RSS 450-550 MB with two against ~300 MB with one on the 1M-event bench) and gain
 * nothing once the read models are live; production scales projectors as replica processes (docs/decisions.md,
 * "Projector threads").
 */
export function projectorThreadsFor(config: AppConfig): number {
  return config.projectorThreads ?? 1;
}

/**
 * 10: the projector thread of `npm start` runs ten nice steps below the API's event loop. Measured on a quiet machine
 * with the projection-lag bench (500 commands/s on the 1M-event store, five runs at each setting, alternated;
 * docs/decisions.md, "The projector thread's priority, decided"): commands p99 median 172 against 372 ms, timeline
 * p99 80 against 136 ms, projection lag p99 156 against 192 ms (worst runs 421 / 155 / 219 against 3,700 / 463 / 476
 * ms). The price is under overload: the read models fall further behind while commands are served first.
 */
export const DEFAULT_PROJECTOR_THREAD_NICE = 10;

function niceFrom(value: string | undefined): number {
  const nice = intFrom(value, DEFAULT_PROJECTOR_THREAD_NICE, 'PROJECTOR_THREAD_NICE');
  // Above MAX_NICE Linux clamps silently; below 0 (refused by intFrom) needs privileges the app should not have.
  if (nice > MAX_NICE) throw new Error(`PROJECTOR_THREAD_NICE must be 0..${MAX_NICE}, got "${value}"`);
  return nice;
}

function projectorMode(value: string | undefined): AppConfig['projector'] {
  if (value === undefined || value === '') return 'thread';
  if (value === 'thread' || value === 'embedded' || value === 'off') return value;
  throw new Error(`PROJECTOR must be thread, embedded or off, got "${value}"`);
}

function leaseTimes(env: NodeJS.ProcessEnv): Pick<AppConfig, 'projectionLeaseMs' | 'projectionLeaseRenewMs'> {
  const projectionLeaseMs = positiveIntFrom(env.PROJECTION_LEASE_MS, 15_000, 'PROJECTION_LEASE_MS');
  const projectionLeaseRenewMs = positiveIntFrom(env.PROJECTION_LEASE_RENEW_MS, Math.max(1, Math.floor(projectionLeaseMs / 3)), 'PROJECTION_LEASE_RENEW_MS');
  // Renewing less often than the lease runs would let every lease lapse between two renewals.
  if (projectionLeaseRenewMs >= projectionLeaseMs) {
    throw new Error(`PROJECTION_LEASE_RENEW_MS (${projectionLeaseRenewMs}) must be less than PROJECTION_LEASE_MS (${projectionLeaseMs})`);
  }
  return { projectionLeaseMs, projectionLeaseRenewMs };
}

/** `uri` with `name=value` added to its query, unless it already has `name` (case-insensitive, as both clients read it). */
export function withDefaultParam(uri: string, name: string, value: number): string {
  const query = uri.includes('?') ? uri.slice(uri.indexOf('?') + 1) : '';
  if (query.split('&').some((pair) => pair.split('=')[0]?.toLowerCase() === name.toLowerCase())) return uri;
  const separator = !uri.includes('?') ? '?' : query === '' ? '' : '&';
  // A MongoDB URI without a path needs one before its query ("mongodb://host/?x=1"); EventStoreDB's takes none.
  const base = !uri.includes('?') && /^mongodb(\+srv)?:\/\/[^/]*$/.test(uri) ? `${uri}/` : uri;
  return `${base}${separator}${name}=${value}`;
}

/**
 * Bounds of MongoDB calls when the server stops answering, unless the URI sets its own: finding the server and opening
 * a connection to it within `storeTimeoutMs` each, and a reply on an open connection within 3 x `storeTimeoutMs` (a
 * network that drops packets silently; the driver would wait forever). The larger second bound leaves room for the
 * projector's batch writes, which answer once at the end; a batch that needs longer is retried as a store error, so
 * lower PROJECTION_BATCH_SIZE or set socketTimeoutMS in the URI then.
 */
function withMongoTimeouts(uri: string, storeTimeoutMs: number): string {
  const found = withDefaultParam(withDefaultParam(uri, 'serverSelectionTimeoutMS', storeTimeoutMs), 'connectTimeoutMS', storeTimeoutMs);
  return withDefaultParam(found, 'socketTimeoutMS', 3 * storeTimeoutMs);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const storeTimeoutMs = positiveIntFrom(env.STORE_TIMEOUT_MS, 5_000, 'STORE_TIMEOUT_MS');
  const eventStoreConnectionString = env.EVENTSTORE_CONNECTION_STRING || undefined;
  const mongodbUri = env.MONGODB_URI || undefined;
  const synchronous = (env.SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase();
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') throw new Error('SQLITE_SYNCHRONOUS must be FULL or NORMAL');
  const logLevel = env.LOG_LEVEL ?? 'log';
  if (!['error', 'warn', 'log', 'debug', 'silent'].includes(logLevel)) throw new Error(`LOG_LEVEL ${logLevel} unknown`);
  const bodyLimitBytes = intFrom(env.BODY_LIMIT_BYTES, 1024 * 1024, 'BODY_LIMIT_BYTES');
  return {
    port: intFrom(env.PORT, 3000, 'PORT'),
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(env.DATA_DIR ?? './data'),
    eventStoreConnectionString: eventStoreConnectionString && withDefaultParam(eventStoreConnectionString, 'defaultDeadline', storeTimeoutMs),
    authTokensFile: env.AUTH_TOKENS_FILE || undefined,
    authTokensJson: env.AUTH_TOKENS || undefined,
    bodyLimitBytes,
    slaPolicyFile: env.SLA_POLICY_FILE || undefined,
    contactPolicyFile: env.CONTACT_POLICY_FILE || undefined,
    sqliteSynchronous: synchronous,
    logLevel: logLevel as AppConfig['logLevel'],
    mongodbUri: mongodbUri && withMongoTimeouts(mongodbUri, storeTimeoutMs),
    storeTimeoutMs,
    idempotencyLeaseMs: Math.max(1, intFrom(env.IDEMPOTENCY_LEASE_MS, 30_000, 'IDEMPOTENCY_LEASE_MS')),
    projector: projectorMode(env.PROJECTOR),
    projectorThreads: env.PROJECTOR_THREADS ? positiveIntFrom(env.PROJECTOR_THREADS, 1, 'PROJECTOR_THREADS') : undefined,
    projectorThreadNice: niceFrom(env.PROJECTOR_THREAD_NICE),
    projectorThreadNiceSet: env.PROJECTOR_THREAD_NICE !== undefined && env.PROJECTOR_THREAD_NICE !== '',
    readWaitMs: intFrom(env.READ_WAIT_MS, 2000, 'READ_WAIT_MS'),
    slaIntervalMs: intFrom(env.SLA_INTERVAL_MS, 1000, 'SLA_INTERVAL_MS'),
    loyaltyCurrency: (env.LOYALTY_CURRENCY ?? 'GBP').toUpperCase(),
    auditSigningKeyFile: env.AUDIT_SIGNING_KEY_FILE || undefined,
    dataKeyEncryptionKeyFile: env.DATA_KEY_ENCRYPTION_KEY_FILE || undefined,
    dataKeyCacheTtlMs: intFrom(env.DATA_KEY_CACHE_TTL_MS, 5_000, 'DATA_KEY_CACHE_TTL_MS'),
    projectionBatchSize: Math.max(1, intFrom(env.PROJECTION_BATCH_SIZE, 5000, 'PROJECTION_BATCH_SIZE')),
    projectionCoalesceMs: intFrom(env.PROJECTION_COALESCE_MS, 20, 'PROJECTION_COALESCE_MS'),
    projectionCarryDocuments: intFrom(env.PROJECTION_CARRY_DOCUMENTS, 10_000, 'PROJECTION_CARRY_DOCUMENTS'),
    readModelCacheMb: env.READ_MODEL_CACHE_MB ? positiveIntFrom(env.READ_MODEL_CACHE_MB, 1, 'READ_MODEL_CACHE_MB') : undefined,
    http: httpLimits(env, bodyLimitBytes),
    ...leaseTimes(env),
    projectorReplicaId: env.PROJECTOR_REPLICA_ID || undefined,
  };
}

/**
 * Production mode: the event log in EventStoreDB and the read models in MongoDB. The processes then keep nothing on
 * local disk (data keys, idempotency records and checkpoints are in MongoDB), so any number of replicas can run.
 */
export function isProductionMode(config: Pick<AppConfig, 'eventStoreConnectionString' | 'mongodbUri'>): boolean {
  return config.eventStoreConnectionString !== undefined && config.mongodbUri !== undefined;
}

/**
 * What production mode needs from configuration that the embedded mode would create under DATA_DIR: one file per
 * replica would give each replica its own secrets (tokens, signing key) or could not be shared at all (data keys).
 * The API needs all three; a projector signs nothing and serves no HTTP, so only the data keys' KEK.
 */
export function missingProductionSettings(config: AppConfig, process: 'api' | 'projector'): string[] {
  if (!isProductionMode(config)) return [];
  const missing: string[] = [];
  if (!config.dataKeyEncryptionKeyFile) missing.push('DATA_KEY_ENCRYPTION_KEY_FILE (the key-encryption key that wraps the per-customer data keys: 32 random bytes, base64)');
  if (process === 'api' && !config.auditSigningKeyFile) missing.push('AUDIT_SIGNING_KEY_FILE (the Ed25519 key that signs audit exports, PKCS#8 PEM)');
  if (process === 'api' && !config.authTokensFile && !config.authTokensJson) missing.push('AUTH_TOKENS_FILE or AUTH_TOKENS (the bearer tokens)');
  return missing;
}

/** Refuses to start a production-mode process without the settings it must not invent under DATA_DIR. */
export function assertProductionSettings(config: AppConfig, process: 'api' | 'projector'): void {
  const missing = missingProductionSettings(config, process);
  if (missing.length === 0) return;
  throw new Error(`production mode (EVENTSTORE_CONNECTION_STRING and MONGODB_URI set) keeps no state under DATA_DIR; set ${missing.join('; ')}`);
}

export const APP_CONFIG = Symbol('AppConfig');

import { resolve } from 'node:path';

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
  /** When set, read models live in MongoDB instead of the embedded SQLite file. */
  readonly mongodbUri?: string;
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
  /** How long a query with `minPosition` waits for its read model before answering 503. */
  readonly readWaitMs: number;
  readonly slaIntervalMs: number;
  readonly loyaltyCurrency: string;
  /** Events per projection batch (one read-model transaction each). */
  readonly projectionBatchSize: number;
  /** Ed25519 private key (PKCS#8 PEM) that signs audit exports; created under DATA_DIR when absent. */
  readonly auditSigningKeyFile?: string;
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function projectorMode(value: string | undefined): AppConfig['projector'] {
  if (value === undefined || value === '') return 'thread';
  if (value === 'thread' || value === 'embedded' || value === 'off') return value;
  throw new Error(`PROJECTOR must be thread, embedded or off, got "${value}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const synchronous = (env.SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase();
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') throw new Error('SQLITE_SYNCHRONOUS must be FULL or NORMAL');
  const logLevel = env.LOG_LEVEL ?? 'log';
  if (!['error', 'warn', 'log', 'debug', 'silent'].includes(logLevel)) throw new Error(`LOG_LEVEL ${logLevel} unknown`);
  return {
    port: intFrom(env.PORT, 3000, 'PORT'),
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(env.DATA_DIR ?? './data'),
    eventStoreConnectionString: env.EVENTSTORE_CONNECTION_STRING || undefined,
    authTokensFile: env.AUTH_TOKENS_FILE || undefined,
    authTokensJson: env.AUTH_TOKENS || undefined,
    bodyLimitBytes: intFrom(env.BODY_LIMIT_BYTES, 1024 * 1024, 'BODY_LIMIT_BYTES'),
    slaPolicyFile: env.SLA_POLICY_FILE || undefined,
    contactPolicyFile: env.CONTACT_POLICY_FILE || undefined,
    sqliteSynchronous: synchronous,
    logLevel: logLevel as AppConfig['logLevel'],
    mongodbUri: env.MONGODB_URI || undefined,
    idempotencyLeaseMs: Math.max(1, intFrom(env.IDEMPOTENCY_LEASE_MS, 30_000, 'IDEMPOTENCY_LEASE_MS')),
    projector: projectorMode(env.PROJECTOR),
    readWaitMs: intFrom(env.READ_WAIT_MS, 2000, 'READ_WAIT_MS'),
    slaIntervalMs: intFrom(env.SLA_INTERVAL_MS, 1000, 'SLA_INTERVAL_MS'),
    loyaltyCurrency: (env.LOYALTY_CURRENCY ?? 'GBP').toUpperCase(),
    auditSigningKeyFile: env.AUDIT_SIGNING_KEY_FILE || undefined,
    projectionBatchSize: Math.max(1, intFrom(env.PROJECTION_BATCH_SIZE, 5000, 'PROJECTION_BATCH_SIZE')),
  };
}

export const APP_CONFIG = Symbol('AppConfig');

import type { LogLevel } from '@nestjs/common';
import { join } from 'node:path';
import {
  EVENT_UPCASTERS, makeComplaintDecider, makeCustomerDecider, makeSlaPolicyDecider, mapPersonalData, mapPersonalDataLazily, PERSONAL_FIELDS,
  type SlaPolicyDecider,
} from '@crm/domain';
import {
  EncryptingEventStore, EventStoreDbEventStore, KeyEncryptionKey, MongoKeyStore, SealingThreads, SqliteEventStore, SqliteKeyStore,
  UpcasterRegistry, UpcastingEventStore, type EncryptingEventStoreOptions, type EventStore, type FieldEncryptionPolicy, type KeyStore, type SqliteEventStoreOptions,
} from '@crm/event-store';
import { DEFAULT_CARRY_LIMITS, MongoReadModelStore, SqliteReadModelStore, type CarryLimits, type ReadModelStore } from '@crm/read-models';
import type { Clock } from './clock';
import { isProductionMode, type AppConfig } from './config';
import { makeLogger } from './logger';
import type { ProjectorMetrics } from './metrics';
import { loadContactPolicy, loadSlaPolicy, slaPolicyBook, type SlaPolicyStreamBook } from './policies';
import { ProjectorHost, type ProjectorHostOptions } from './projector-host';
import { uuidv7 } from './uuidv7';

/** How both processes (api, projector) assemble stores, deciders and the projector from configuration. */

export const LOG_LEVELS: Record<AppConfig['logLevel'], LogLevel[]> = {
  silent: [],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
};

/** The embedded mode's key-encryption key, created beside keys.db when DATA_KEY_ENCRYPTION_KEY_FILE is not set. */
export const EMBEDDED_KEK_FILE = 'data-key-encryption-key';

/**
 * The key-encryption key: DATA_KEY_ENCRYPTION_KEY_FILE, else (embedded mode only) DATA_DIR/data-key-encryption-key,
 * created on first start. Production mode without the variable is refused by assertProductionSettings first.
 */
export function loadKeyEncryptionKey(config: AppConfig): KeyEncryptionKey {
  if (config.dataKeyEncryptionKeyFile) return KeyEncryptionKey.readFile(config.dataKeyEncryptionKeyFile);
  if (isProductionMode(config)) throw new Error('production mode needs DATA_KEY_ENCRYPTION_KEY_FILE (32 random bytes, base64)');
  return KeyEncryptionKey.readOrCreateFile(join(config.dataDir, EMBEDDED_KEK_FILE));
}

/**
 * Per-customer data keys (crypto-shredding), wrapped by the key-encryption key: in production mode in MongoDB
 * (collection data_keys, on the read-model store's client when one is given, else on a client of its own that
 * `close` closes), else in DATA_DIR/keys.db.
 */
export async function openKeyStore(
  config: AppConfig, readModels?: ReadModelStore, kek: KeyEncryptionKey = loadKeyEncryptionKey(config),
): Promise<KeyStore> {
  if (!isProductionMode(config) || !config.mongodbUri) return new SqliteKeyStore(join(config.dataDir, 'keys.db'), { kek });
  const options = { kek, cacheTtlMs: config.dataKeyCacheTtlMs };
  if (readModels instanceof MongoReadModelStore) return MongoKeyStore.open(readModels.database, options);
  const own = await MongoReadModelStore.connect(config.mongodbUri);
  try {
    const keys = await MongoKeyStore.open(own.database, options);
    return {
      keyFor: (subject) => keys.keyFor(subject),
      existingKeys: (subjects) => keys.existingKeys(subjects),
      erase: (subject, at) => keys.erase(subject, at),
      erasedSubjects: () => keys.erasedSubjects(),
      close: async () => {
        await keys.close();
        await own.close();
      },
    };
  } catch (error) {
    await own.close().catch(() => undefined);
    throw error;
  }
}

/** The domain's personal fields, encrypted with the key of the customer the event is about. */
export const PERSONAL_DATA_POLICY: FieldEncryptionPolicy = {
  hasFields: (type) => (PERSONAL_FIELDS[type]?.length ?? 0) > 0,
  mapFields: mapPersonalData,
  mapFieldsLazily: mapPersonalDataLazily,
  subjectOf: (_type, data) => {
    const id = (data as { customerId?: unknown } | null)?.customerId;
    return typeof id === 'string' ? id : undefined;
  },
};

/** Between two threads of one process writing one SQLite log (EventStoreDB pushes appends to subscribers itself). */
export type AppendSignals = Pick<SqliteEventStoreOptions, 'onCommitted' | 'appendsElsewhere'>;

/**
 * The configured event store: personal fields encrypted per customer on the way in and decrypted on the way out,
 * then read through the domain's upcasters (every read path sees current schemas).
 */
export function openEventStore(
  config: AppConfig, clock: Clock, keys: KeyStore, signals: AppendSignals = {}, encryption: EncryptingEventStoreOptions = {},
): EventStore {
  const raw = config.eventStoreConnectionString
    ? new EventStoreDbEventStore(config.eventStoreConnectionString, { operationTimeoutMs: config.storeTimeoutMs })
    : new SqliteEventStore({
      filename: join(config.dataDir, 'events.db'), synchronous: config.sqliteSynchronous, now: () => clock.now(), ...signals,
    });
  const encrypted = new EncryptingEventStore(raw, keys, PERSONAL_DATA_POLICY, encryption);
  return new UpcastingEventStore(encrypted, new UpcasterRegistry(EVENT_UPCASTERS));
}

/**
 * The configured event store on a key store of its own, which `close` closes too (tools: importer, replay, benches).
 * `sealingThreads`: seal personal fields on that many worker threads (bulk writers; 0 or absent: on the event loop).
 */
export async function openEventStoreWithKeys(config: AppConfig, clock: Clock, options: { readonly sealingThreads?: number } = {}): Promise<EventStore> {
  const keys = await openKeyStore(config);
  const threads = options.sealingThreads ?? 0;
  const store = openEventStore(config, clock, keys, {}, threads > 0 ? { sealingThreads: new SealingThreads(threads) } : {});
  return {
    appendToStream: (streamId, events, options) => store.appendToStream(streamId, events, options),
    readStream: (streamId, options) => store.readStream(streamId, options),
    readAll: (options) => store.readAll(options),
    ...(store.openSealed ? { openSealed: store.openSealed.bind(store) } : {}),
    subscribeToAll: (options) => store.subscribeToAll(options),
    headPosition: () => store.headPosition(),
    close: async () => {
      await store.close();
      await keys.close();
    },
  };
}

export async function openReadModelStore(
  config: AppConfig, options: { onWriteLockWait?: (seconds: number) => void; backgroundCheckpoints?: boolean } = {},
): Promise<ReadModelStore> {
  if (config.mongodbUri) return MongoReadModelStore.connect(config.mongodbUri);
  return new SqliteReadModelStore(join(config.dataDir, 'read-models.db'), {
    onWriteLockWait: options.onWriteLockWait, cacheMb: config.readModelCacheMb, backgroundCheckpoints: options.backgroundCheckpoints,
  });
}

/**
 * The deciders on the configured policies. `events`: the log the SLA policy book reads published versions from
 * (without it, only the configured policy exists); callers refresh `slaPolicies` before deciding with it.
 */
export function makeDeciders(config: AppConfig, events?: Pick<EventStore, 'readStream'>): {
  customer: ReturnType<typeof makeCustomerDecider>; complaint: ReturnType<typeof makeComplaintDecider>;
  slaPolicy: ReturnType<typeof loadSlaPolicy>; slaPolicies: SlaPolicyStreamBook; slaPolicyDecider: SlaPolicyDecider;
} {
  const slaPolicy = loadSlaPolicy(config);
  const slaPolicies = slaPolicyBook(slaPolicy, events);
  return {
    customer: makeCustomerDecider({ contactPolicy: loadContactPolicy(config) }),
    complaint: makeComplaintDecider({ slaPolicies }),
    slaPolicy,
    slaPolicies,
    slaPolicyDecider: makeSlaPolicyDecider(slaPolicy),
  };
}

/** What a projector's runner may carry from page to page: its share (of `shares` threads) of PROJECTION_CARRY_DOCUMENTS. */
export function projectorCarryLimits(config: AppConfig, shares = 1): CarryLimits {
  return { ...DEFAULT_CARRY_LIMITS, maxDocuments: Math.floor(config.projectionCarryDocuments / Math.max(1, shares)) };
}

export function makeProjectorHost(args: {
  config: AppConfig; clock: Clock; eventStore: EventStore; readModelStore: ReadModelStore;
  complaintDecider: ReturnType<typeof makeComplaintDecider>; metrics: ProjectorMetrics; startSlaWatcher?: boolean;
  onProgress?: () => void; leases?: ProjectorHostOptions['leases'];
  /** Only these (one projector thread's group); default every projection. */
  projections?: ProjectorHostOptions['projections'];
  /** Projector threads sharing PROJECTION_CARRY_DOCUMENTS (default 1: this runner carries all of it). */
  carryShares?: number;
  /** The SLA policy book the complaint decider reads: refreshed before each SLA watcher pass. */
  slaPolicies?: { refresh(): Promise<void> };
}): ProjectorHost {
  const logger = makeLogger(args.config, 'projector');
  const policies = args.slaPolicies;
  return new ProjectorHost({
    events: args.eventStore,
    readModels: args.readModelStore,
    complaintDecider: args.complaintDecider,
    now: () => args.clock.now(),
    newEventId: (now) => uuidv7(now.getTime()),
    slaIntervalMs: args.config.slaIntervalMs,
    startSlaWatcher: args.startSlaWatcher,
    projections: args.projections,
    leases: args.leases,
    runner: {
      idlePollMs: args.config.eventStoreConnectionString ? 500 : 1000,
      batchSize: args.config.projectionBatchSize,
      liveCoalesceMs: args.config.projectionCoalesceMs,
      carry: projectorCarryLimits(args.config, args.carryShares),
      onBatch: (projection, events) => args.metrics.projectionEvents.inc({ projection }, events),
      onProgress: args.onProgress,
      onSubscriptionRestart: (reason) => args.metrics.subscriptionRestarts.inc({ reason }),
    },
    onBreach: (kind) => args.metrics.slaBreaches.inc({ kind }),
    onEscalation: (step, priority) => args.metrics.slaEscalations.inc({ step, priority }),
    beforeSlaPass: policies ? () => policies.refresh() : undefined,
    logger: { error: (m) => logger.error(m), log: (m) => logger.log(m) },
  });
}


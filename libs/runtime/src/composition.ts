import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { join } from 'node:path';
import { EVENT_UPCASTERS, makeComplaintDecider, makeCustomerDecider } from '@crm/domain';
import {
  EventStoreDbEventStore, SqliteEventStore, UpcasterRegistry, UpcastingEventStore, type EventStore,
} from '@crm/event-store';
import { MongoReadModelStore, SqliteReadModelStore, type ReadModelStore } from '@crm/read-models';
import type { Clock } from './clock';
import type { AppConfig } from './config';
import type { Metrics } from './metrics';
import { loadContactPolicy, loadSlaPolicy } from './policies';
import { ProjectorHost } from './projector-host';
import { uuidv7 } from './uuidv7';

/** How both processes (api, projector) assemble stores, deciders and the projector from configuration. */

export const LOG_LEVELS: Record<AppConfig['logLevel'], LogLevel[]> = {
  silent: [],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
};

/** The configured event store, read through the domain's upcasters (every read path sees current schemas). */
export function openEventStore(config: AppConfig, clock: Clock): EventStore {
  const raw = config.eventStoreConnectionString
    ? new EventStoreDbEventStore(config.eventStoreConnectionString)
    : new SqliteEventStore({ filename: join(config.dataDir, 'events.db'), synchronous: config.sqliteSynchronous, now: () => clock.now() });
  return new UpcastingEventStore(raw, new UpcasterRegistry(EVENT_UPCASTERS));
}

export async function openReadModelStore(config: AppConfig): Promise<ReadModelStore> {
  if (config.mongodbUri) return MongoReadModelStore.connect(config.mongodbUri);
  return new SqliteReadModelStore(join(config.dataDir, 'read-models.db'));
}

export function makeDeciders(config: AppConfig): { customer: ReturnType<typeof makeCustomerDecider>; complaint: ReturnType<typeof makeComplaintDecider>; slaPolicy: ReturnType<typeof loadSlaPolicy> } {
  const slaPolicy = loadSlaPolicy(config);
  return {
    customer: makeCustomerDecider({ contactPolicy: loadContactPolicy(config) }),
    complaint: makeComplaintDecider({ slaPolicy }),
    slaPolicy,
  };
}

export function makeProjectorHost(args: {
  config: AppConfig; clock: Clock; eventStore: EventStore; readModelStore: ReadModelStore;
  complaintDecider: ReturnType<typeof makeComplaintDecider>; metrics: Metrics; startSlaWatcher?: boolean;
}): ProjectorHost {
  const logger = new ConsoleLogger('projector', { json: true, logLevels: LOG_LEVELS[args.config.logLevel] });
  return new ProjectorHost({
    events: args.eventStore,
    readModels: args.readModelStore,
    complaintDecider: args.complaintDecider,
    now: () => args.clock.now(),
    newEventId: (now) => uuidv7(now.getTime()),
    slaIntervalMs: args.config.slaIntervalMs,
    startSlaWatcher: args.startSlaWatcher,
    runner: {
      idlePollMs: args.config.eventStoreConnectionString ? 500 : 1000,
      batchSize: args.config.projectionBatchSize,
      onBatch: (projection, events) => args.metrics.projectionEvents.inc({ projection }, events),
    },
    onBreach: (kind) => args.metrics.slaBreaches.inc({ kind }),
    logger: { error: (m) => logger.error(m), log: (m) => logger.log(m) },
  });
}


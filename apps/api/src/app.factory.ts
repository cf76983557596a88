import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeComplaintDecider, makeCustomerDecider } from '@crm/domain';
import { EventStoreDbEventStore, SqliteEventStore, type EventStore } from '@crm/event-store';
import { ProjectorHost } from '@crm/projector';
import { MongoReadModelStore, SqliteReadModelStore, type ReadModelStore } from '@crm/read-models';
import { AppModule } from './app.module';
import { setUpTokens, type TokenSetup } from './auth/token-registry';
import { systemClock, type Clock } from './infrastructure/clock';
import type { AppConfig } from './infrastructure/config';
import { Metrics } from './infrastructure/metrics';
import { loadContactPolicy, loadSlaPolicy } from './infrastructure/policies';
import { uuidv7 } from './infrastructure/uuidv7';

export interface CreateAppOptions {
  readonly config: AppConfig;
  readonly clock?: Clock;
  /** Tests may inject a store; otherwise chosen by configuration. */
  readonly eventStore?: EventStore;
  /** Tests drive the SLA watcher by hand (checkOnce) instead of on a timer. */
  readonly startSlaWatcher?: boolean;
}

const LEVELS: Record<AppConfig['logLevel'], LogLevel[]> = {
  silent: [],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
};

export function openEventStore(config: AppConfig, clock: Clock): EventStore {
  if (config.eventStoreConnectionString) return new EventStoreDbEventStore(config.eventStoreConnectionString);
  return new SqliteEventStore({
    filename: join(config.dataDir, 'events.db'),
    synchronous: config.sqliteSynchronous,
    now: () => clock.now(),
  });
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
  const logger = new ConsoleLogger('projector', { json: true, logLevels: LEVELS[args.config.logLevel] });
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
      onBatch: (projection, events) => args.metrics.projectionEvents.inc({ projection }, events),
    },
    onBreach: (kind) => args.metrics.slaBreaches.inc({ kind }),
    logger: { error: (m) => logger.error(m), log: (m) => logger.log(m) },
  });
}

/** Builds the HTTP app (not listening yet). Used by main.ts, the e2e tests and the benchmark alike. */
export async function createApp(options: CreateAppOptions): Promise<{ app: NestFastifyApplication; tokens: TokenSetup; projector?: ProjectorHost }> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true });
  const tokens = setUpTokens(config);
  const eventStore = options.eventStore ?? openEventStore(config, clock);
  const readModelStore = await openReadModelStore(config);
  const deciders = makeDeciders(config);
  const metrics = new Metrics();
  const projector = config.projector === 'embedded'
    ? makeProjectorHost({ config, clock, eventStore, readModelStore, complaintDecider: deciders.complaint, metrics, startSlaWatcher: options.startSlaWatcher })
    : undefined;
  const adapter = new FastifyAdapter({ bodyLimit: config.bodyLimitBytes, logger: false });
  // Commands without a body (convert, close) are validated as an empty object rather than refused as "no body".
  adapter.getInstance().addHook('preValidation', async (request) => {
    if (request.body === undefined && ['POST', 'PUT', 'PATCH'].includes(request.method)) request.body = {};
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({
      config, clock, eventStore, readModelStore, tokens: tokens.registry, metrics, projector,
      deciders: { customer: deciders.customer, complaint: deciders.complaint }, slaPolicy: deciders.slaPolicy,
    }),
    adapter,
    { logger: new ConsoleLogger({ json: true, logLevels: LEVELS[config.logLevel] }), bufferLogs: false },
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Event-sourced CRM')
      .setDescription('Commands append events; queries read projections. Errors are application/problem+json.')
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await projector?.start();
  return { app, tokens, projector };
}

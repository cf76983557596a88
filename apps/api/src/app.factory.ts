import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventStoreDbEventStore, SqliteEventStore, type EventStore } from '@crm/event-store';
import { AppModule } from './app.module';
import { setUpTokens, type TokenSetup } from './auth/token-registry';
import { systemClock, type Clock } from './infrastructure/clock';
import type { AppConfig } from './infrastructure/config';

export interface CreateAppOptions {
  readonly config: AppConfig;
  readonly clock?: Clock;
  /** Tests may inject a store; otherwise chosen by configuration. */
  readonly eventStore?: EventStore;
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

/** Builds the HTTP app (not listening yet). Used by main.ts, the e2e tests and the benchmark alike. */
export async function createApp(options: CreateAppOptions): Promise<{ app: NestFastifyApplication; tokens: TokenSetup }> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true });
  const tokens = setUpTokens(config);
  const eventStore = options.eventStore ?? openEventStore(config, clock);
  const adapter = new FastifyAdapter({ bodyLimit: config.bodyLimitBytes, logger: false });
  // Commands without a body (convert, close) are validated as an empty object rather than refused as "no body".
  adapter.getInstance().addHook('preValidation', async (request) => {
    if (request.body === undefined && ['POST', 'PUT', 'PATCH'].includes(request.method)) request.body = {};
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, clock, eventStore, tokens: tokens.registry }),
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
  return { app, tokens };
}

import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { mkdirSync } from 'node:fs';
import type { DestinationStream } from 'pino';
import type { EventStore, KeyStore } from '@crm/event-store';
import { ALL_PROJECTIONS, MongoLeaseStore, MongoReadModelStore, ServingReadModelStore, ServingRegistry } from '@crm/read-models';
import {
  activeTracing, assertProductionSettings, connectionsCheckingIntervalMs, createPinoLogger, isProductionMode, loadKeyEncryptionKey, tracingEnabled,
  makeDeciders, PinoLoggerService, makeProjectorHost, Metrics, openEventStore, openKeyStore, openReadModelStore, ProjectorThread,
  systemClock, type AppConfig, type Clock, type ProjectorHost,
} from '@crm/runtime';
import { AppModule } from './app.module';
import { dataDirWriteProbe, WriteHealth } from './health/write-health';
import { setUpTokens, type TokenSetup } from './auth/token-registry';
import { writeCommandResponse } from './http/command-response';
import { buildOpenApiDocument } from './http/openapi/openapi-document';
import {
  answerClientError, answerFrameworkError, applyServerLimits, drainBeforePayloadTooLarge, refuseDeepBodies, refuseRepeatedQueryParameters,
} from './http/http-edge';
import { releaseUnansweredIdempotencyKey, rememberIdempotentResponse } from './idempotency/idempotency.guard';
import { MongoIdempotencyStore } from './idempotency/mongo-idempotency-store';
import { MergeCustomersService } from './customers/merge-customers.service';
import { ErasureService } from './privacy/erasure.service';
import { readModelPositionHeader } from './queries/read-model-position.hook';
import { logCompleted, requestIdOf } from './http/request-id';
import { installHttpTracing } from './http/http-tracing';
import { serveConsole } from './console/console-static';

export interface CreateAppOptions {
  readonly config: AppConfig;
  readonly clock?: Clock;
  /** Tests may inject a store; otherwise chosen by configuration. */
  readonly eventStore?: EventStore;
  /** Tests drive the SLA watcher by hand (checkOnce) instead of on a timer. */
  readonly startSlaWatcher?: boolean;
  /** Tests may inject the key store (e.g. one that fails as a full disk would); else by configuration (openKeyStore). */
  readonly keyStore?: KeyStore;
  /** The write readiness makes (default: a file written and removed in DATA_DIR); tests fail it as a full disk would. */
  readonly writeProbe?: () => Promise<void>;
  /** Where the JSON log lines go (default stdout); tests capture them. */
  readonly logDestination?: DestinationStream;
  /**
   * The projector thread's compiled entry (PROJECTOR=thread). Unset: the entry beside this module, which is the compiled
   * one under `npm start`; the benches run the app from the sources and pass the build's, so that their thread runs
   * what `npm start`'s does instead of holding a TypeScript compiler.
   */
  readonly projectorThreadEntry?: string;
}


/** Builds the HTTP app (not listening yet). Used by main.ts, the e2e tests and the benchmark alike. */
export async function createApp(options: CreateAppOptions): Promise<{ app: NestFastifyApplication; tokens: TokenSetup; projector?: ProjectorHost; thread?: ProjectorThread }> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  // Production mode writes nothing under DATA_DIR: what it would create there must come from configuration.
  assertProductionSettings(config, 'api');
  const production = isProductionMode(config);
  if (!production) mkdirSync(config.dataDir, { recursive: true });
  // Read (and checked) before anything connects: a missing or invalid key file is a start-up error, not a later 500.
  const kek = options.keyStore ? undefined : loadKeyEncryptionKey(config);
  const tokens = setUpTokens(config);
  if (config.projector === 'thread' && (options.clock || options.eventStore || options.startSlaWatcher === false)) {
    // The thread opens its own connections and runs on the system clock: it cannot honour what a test injects.
    throw new Error('PROJECTOR=thread runs the projector on its own stores and the system clock; use PROJECTOR=embedded to inject them');
  }
  const readModelStore = await openReadModelStore(config);
  // In production mode on the read models' MongoDB client (collection data_keys); else DATA_DIR/keys.db.
  const keyStore = options.keyStore ?? await openKeyStore(config, readModelStore, kek);
  // Production mode keeps nothing on local disk: no DATA_DIR write to probe.
  const writeProbe = options.writeProbe ?? (production ? () => Promise.resolve() : dataDirWriteProbe(config.dataDir));
  const writeHealth = new WriteHealth(writeProbe, () => clock.now());
  const metrics = new Metrics({ defaultMetrics: true, projections: ALL_PROJECTIONS.map((p) => p.name) });
  const pinoLogger = createPinoLogger(config.logLevel, options.logDestination);
  const logger = new PinoLoggerService(pinoLogger);
  let thread: ProjectorThread | undefined;
  const eventStore = options.eventStore ?? openEventStore(config, clock, keyStore, { onCommitted: () => thread?.signalAppend() });
  // With MONGODB_URI, replicas share their idempotency records, on the read models' client (one per process).
  const idempotencyStore = readModelStore instanceof MongoReadModelStore
    ? await MongoIdempotencyStore.open(readModelStore.database, { leaseMs: config.idempotencyLeaseMs })
    : undefined;
  const leaseStore = readModelStore instanceof MongoReadModelStore ? new MongoLeaseStore(readModelStore.database) : undefined;
  // Not refreshed here: every complaint command and GET /sla/policies refreshes first, and an event log that is down
  // at start must not keep the API from starting (it answers 503 until the log is back).
  const deciders = makeDeciders(config, eventStore);
  const projector = config.projector === 'embedded'
    ? makeProjectorHost({ config, clock, eventStore, readModelStore, complaintDecider: deciders.complaint, slaPolicies: deciders.slaPolicies, metrics, startSlaWatcher: options.startSlaWatcher })
    : undefined;
  if (config.projector === 'thread') {
    thread = await ProjectorThread.start({
      config, readModels: readModelStore, metrics, workerEntry: options.projectorThreadEntry,
      logger: { error: (m) => logger.error(m, undefined, 'projector-thread'), log: (m) => logger.log(m, 'projector-thread') },
    });
  }
  // Queries read through the serving registry: the embedded runner's (its host's serving store), the thread's, else
  // one refreshed from the store.
  const servingStore = projector?.servingStore
    ?? new ServingReadModelStore(readModelStore, thread?.registry ?? new ServingRegistry(readModelStore, ALL_PROJECTIONS));
  const limits = config.http;
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    logger: false,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
    },
    frameworkErrors: answerFrameworkError,
    requestIdHeader: false,
    genReqId: requestIdOf,
    clientErrorHandler: answerClientError,
  });
  applyServerLimits(adapter.getHttpServer(), limits);
  // Latency from Fastify hooks rather than a Nest interceptor: no rxjs pipeline on the hot path. `Server-Timing`
  // (W3C) tells a client how much of what it waited was the app: the rest is the network, queues before the app read
  // the request, and the client itself.
  const started = new WeakMap<object, bigint>();
  // Decided once: at LOG_LEVEL=warn and below the access log costs a request nothing, not even building the line.
  const logRequests = pinoLogger.isLevelEnabled('info');
  const fastify = adapter.getInstance();
  // Before every other hook, so that the server span covers them (auth, idempotency, limits) and is the parent of
  // the decision and append spans. Started by main.ts from OTEL_* (or by a test), else not installed at all.
  if (tracingEnabled()) {
    installHttpTracing(fastify);
    fastify.addHook('onClose', (_instance, done) => {
      void (activeTracing()?.flush() ?? Promise.resolve()).then(() => done(), () => done());
    });
  }
  // Callback-style hooks: an async hook costs every request a promise and a microtask.
  fastify.addHook('onRequest', (request, reply, done) => {
    started.set(request, process.hrtime.bigint());
    // Set first, so that every answer carries it: successes, problems, and replays of an Idempotency-Key.
    void reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const t0 = started.get(request);
    if (t0 !== undefined) void reply.header('server-timing', `app;dur=${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)}`);
    done(null, payload);
  });
  fastify.addHook('onRequest', refuseRepeatedQueryParameters);
  fastify.addHook('preValidation', refuseDeepBodies);
  fastify.addHook('onSend', drainBeforePayloadTooLarge(limits.drainLimitBytes));
  fastify.addHook('preSerialization', writeCommandResponse);
  fastify.addHook('preSerialization', readModelPositionHeader);
  fastify.addHook('onSend', rememberIdempotentResponse);
  fastify.addHook('onResponse', releaseUnansweredIdempotencyKey);
  fastify.addHook('onResponse', (request, reply, done) => {
    const t0 = started.get(request);
    if (t0 !== undefined) {
      const route = request.routeOptions.url ?? 'unmatched';
      const histogram = request.method === 'GET' ? metrics.queryDuration : metrics.commandDuration;
      histogram.observe({ method: request.method, route, status: String(reply.statusCode) }, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    if (logRequests && t0 !== undefined) logCompleted(pinoLogger, request, reply.statusCode, t0);
    // A command that succeeded wrote: writes work again (the failure side is recorded by the problem filter).
    if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 300) writeHealth.succeeded();
    done();
  });
  // Commands without a body (convert, close) are validated as an empty object rather than refused as "no body".
  fastify.addHook('preValidation', async (request) => {
    if (request.body === undefined && ['POST', 'PUT', 'PATCH'].includes(request.method)) request.body = {};
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({
      config, clock, eventStore, readModelStore: servingStore, keyStore, tokens: tokens.registry, metrics, writeHealth, projector, thread, idempotencyStore, leaseStore,
      deciders: { customer: deciders.customer, complaint: deciders.complaint }, slaPolicy: deciders.slaPolicy,
      slaPolicies: deciders.slaPolicies, slaPolicyDecider: deciders.slaPolicyDecider,
    }),
    adapter,
    { logger, bufferLogs: false },
  );
  // Built on the first request for /docs or /docs-json, not at every start: scanning every route's metadata took
  // ~0.1–0.3 s of `npm start` before /health/ready (bench cold-start) for a page operators open now and then.
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  // Absent until `npm run build:console` has run: the API works without it and /console answers 404.
  await serveConsole(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  // The embedded SLA watcher decides with the versions complaints were filed under, also those another replica
  // published: at most one watcher interval behind the log (the API's own commands refresh before deciding).
  if (projector) deciders.slaPolicies.startPolling(config.slaIntervalMs, (error) => logger.warn(`SLA policies not refreshed: ${String(error)}`, 'sla-policies'));
  await projector?.start();
  // An erasure a crash cut short (key destroyed, CustomerErased not yet recorded) is completed before any request.
  await app.get(ErasureService).resumeInterrupted();
  // A merge or unmerge cut between its two streams is completed too, but in the background (docs/decisions.md
  // "Customer merge and unmerge"): its first pass over a large log must not hold up the start, nor end it when slow.
  app.get(MergeCustomersService).resumeInBackground();
  return { app, tokens, projector, thread };
}

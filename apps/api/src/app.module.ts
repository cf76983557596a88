import { DynamicModule, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { join } from 'node:path';
import { DEFAULT_LOYALTY_POLICY, type makeCustomerDecider, orderDecider, type SlaPolicyDecider } from '@crm/domain';
import { EVENT_STORE, type EventStore, type KeyStore } from '@crm/event-store';
import { loadAuditSigner, type ProjectorHost, type ProjectorThread } from '@crm/runtime';
import { LEASE_STORE, READ_MODEL_STORE, type LeaseStore, type ReadModelStore } from '@crm/read-models';
import { AuthGuard } from './auth/auth.guard';
import { TokenRegistry } from './auth/token-registry';
import { CommandExecutor } from './commands/command-executor';
import { ComplaintCommandHandler } from './complaints/complaint-command.handler';
import { ComplaintCommandsController } from './complaints/complaint-commands.controller';
import { CustomerCommandHandler } from './customers/customer-command.handler';
import { CustomerCommandsController } from './customers/customer-commands.controller';
import { MergeCommandsController } from './customers/merge-commands.controller';
import { MergeCustomersService } from './customers/merge-customers.service';
import { HealthController } from './health/health.controller';
import { MeController } from './auth/me.controller';
import { WRITE_HEALTH, type WriteHealth } from './health/write-health';
import { StreamEventsController } from './history/stream-events.controller';
import { AUDIT_SIGNER, AuditExportController } from './history/audit-export.controller';
import { AuditTrailController } from './history/audit-trail.controller';
import { ProblemFilter } from './http/problem.filter';
import { makeValidationPipe } from './http/validation';
import { IDEMPOTENCY_STORE, type IdempotencyStore, SqliteIdempotencyStore } from './idempotency/idempotency-store';
import { CLOCK, type Clock } from '@crm/runtime';
import { APP_CONFIG, type AppConfig } from '@crm/runtime';
import { Metrics } from '@crm/runtime';
import {
  COMPLAINT_DECIDER, CUSTOMER_DECIDER, LOYALTY_POLICY, ORDER_DECIDER, SLA_POLICY, SLA_POLICY_BOOK, SLA_POLICY_DECIDER, type ComplaintDecider,
  type SlaPolicyStreamBook,
} from '@crm/runtime';
import { SlaPoliciesController } from './sla-policies/sla-policies.controller';
import { OperationsController } from './operations/operations.controller';
import { ComplaintQueriesController } from './queries/complaint-queries.controller';
import { CustomerQueriesController } from './queries/customer-queries.controller';
import { AnalyticsController } from './queries/analytics.controller';
import { LoyaltyController } from './queries/loyalty.controller';
import { LoyaltyPoliciesController } from './loyalty/loyalty-policies.controller';
import { TimelineController } from './queries/timeline.controller';
import { SlaWhatIfController } from './queries/sla-whatif.controller';
import { ErasureService } from './privacy/erasure.service';
import { KEY_STORE, PrivacyController } from './privacy/privacy.controller';
import { PROJECTION_RUNNER, ReadModelGate } from './read-side/read-model-gate';
import { SealedFields } from './read-side/sealed-fields';
import { PurchaseCommandsController } from './purchases/purchase-commands.controller';
import { OrderCommandHandler } from './purchases/order-command.handler';

export interface AppModuleOptions {
  readonly config: AppConfig;
  readonly clock: Clock;
  readonly eventStore: EventStore;
  readonly readModelStore: ReadModelStore;
  readonly keyStore: KeyStore;
  readonly tokens: TokenRegistry;
  readonly deciders: { customer: ReturnType<typeof makeCustomerDecider>; complaint: ComplaintDecider };
  readonly slaPolicy: unknown;
  /** The SLA policies published to the log over the configured one (PUT /sla/policies). */
  readonly slaPolicies: SlaPolicyStreamBook;
  readonly slaPolicyDecider: SlaPolicyDecider;
  readonly metrics: Metrics;
  /** Failing writes as the API sees them (readiness). */
  readonly writeHealth: WriteHealth;
  /** Present when the projections run on this process's event loop (PROJECTOR=embedded). */
  readonly projector?: ProjectorHost;
  /** Present when they run in a worker thread of this process (PROJECTOR=thread, npm start). */
  readonly thread?: ProjectorThread;
  /** Shared by replicas (MongoDB) when configured; else SQLite in DATA_DIR. */
  readonly idempotencyStore?: IdempotencyStore;
  /** The projector replicas' leases (MongoDB), for GET /projections to show who owns what; none in the embedded mode. */
  readonly leaseStore?: LeaseStore;
}

export const PROJECTOR_HOST = Symbol('ProjectorHost');

/** Stops the projector, then closes the stores (SIGTERM with enableShutdownHooks, or app.close() in tests). */
@Injectable()
class StoreLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(IDEMPOTENCY_STORE) private readonly idempotency: IdempotencyStore,
    @Inject(PROJECTOR_HOST) private readonly projector: Pick<ProjectorHost, 'stop'> | null,
    @Inject(KEY_STORE) private readonly keys: KeyStore,
    @Inject(SLA_POLICY_BOOK) private readonly slaPolicies: Pick<SlaPolicyStreamBook, 'stopPolling'> | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.slaPolicies?.stopPolling();
    await this.projector?.stop();
    await this.idempotency.close();
    await this.readModels.close();
    await this.store.close();
    await this.keys.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const { config } = options;
    return {
      module: AppModule,
      imports: [CqrsModule.forRoot()],
      controllers: [
        HealthController,
        MeController,
        CustomerCommandsController,
        MergeCommandsController,
        ComplaintCommandsController,
        PurchaseCommandsController,
        StreamEventsController,
        AuditTrailController,
        AuditExportController,
        CustomerQueriesController,
        TimelineController,
        LoyaltyController,
        LoyaltyPoliciesController,
        AnalyticsController,
        ComplaintQueriesController,
        OperationsController,
        SlaWhatIfController,
        SlaPoliciesController,
        PrivacyController,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CLOCK, useValue: options.clock },
        { provide: EVENT_STORE, useValue: options.eventStore },
        { provide: READ_MODEL_STORE, useValue: options.readModelStore },
        { provide: KEY_STORE, useValue: options.keyStore },
        { provide: LEASE_STORE, useValue: options.leaseStore ?? null },
        { provide: PROJECTOR_HOST, useValue: options.projector ?? options.thread ?? null },
        ...(options.projector || options.thread ? [{ provide: PROJECTION_RUNNER, useValue: options.projector?.runner ?? options.thread }] : []),
        { provide: Metrics, useValue: options.metrics },
        { provide: WRITE_HEALTH, useValue: options.writeHealth },
        { provide: AUDIT_SIGNER, useFactory: () => loadAuditSigner(config) },
        { provide: LOYALTY_POLICY, useValue: { ...DEFAULT_LOYALTY_POLICY, currency: config.loyaltyCurrency } },
        ReadModelGate,
        SealedFields,
        { provide: TokenRegistry, useValue: options.tokens },
        {
          provide: IDEMPOTENCY_STORE,
          useFactory: () => options.idempotencyStore ?? new SqliteIdempotencyStore(join(config.dataDir, 'idempotency.db')),
        },
        { provide: SLA_POLICY, useValue: options.slaPolicy },
        { provide: SLA_POLICY_BOOK, useValue: options.slaPolicies ?? null },
        { provide: SLA_POLICY_DECIDER, useValue: options.slaPolicyDecider ?? null },
        { provide: CUSTOMER_DECIDER, useValue: options.deciders.customer },
        { provide: COMPLAINT_DECIDER, useValue: options.deciders.complaint },
        { provide: ORDER_DECIDER, useValue: orderDecider },
        CommandExecutor,
        ErasureService,
        MergeCustomersService,
        CustomerCommandHandler,
        ComplaintCommandHandler,
        OrderCommandHandler,
        StoreLifecycle,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useFactory: makeValidationPipe },
      ],
    };
  }
}

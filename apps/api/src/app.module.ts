import { DynamicModule, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { join } from 'node:path';
import { makeComplaintDecider, makeCustomerDecider, orderDecider } from '@crm/domain';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { AuthGuard } from './auth/auth.guard';
import { TokenRegistry } from './auth/token-registry';
import { CommandExecutor } from './commands/command-executor';
import { ComplaintCommandHandler } from './complaints/complaint-command.handler';
import { ComplaintCommandsController } from './complaints/complaint-commands.controller';
import { CustomerCommandHandler } from './customers/customer-command.handler';
import { CustomerCommandsController } from './customers/customer-commands.controller';
import { HealthController } from './health/health.controller';
import { StreamEventsController } from './history/stream-events.controller';
import { ProblemFilter } from './http/problem.filter';
import { makeValidationPipe } from './http/validation';
import { IDEMPOTENCY_STORE, type IdempotencyStore, SqliteIdempotencyStore } from './idempotency/idempotency-store';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { CLOCK, type Clock } from './infrastructure/clock';
import { APP_CONFIG, type AppConfig } from './infrastructure/config';
import {
  COMPLAINT_DECIDER, CUSTOMER_DECIDER, loadContactPolicy, loadSlaPolicy, ORDER_DECIDER, SLA_POLICY,
} from './infrastructure/policies';
import { PurchaseCommandsController } from './purchases/purchase-commands.controller';
import { OrderCommandHandler } from './purchases/order-command.handler';

export interface AppModuleOptions {
  readonly config: AppConfig;
  readonly clock: Clock;
  readonly eventStore: EventStore;
  readonly tokens: TokenRegistry;
}

/** Closes the stores when Nest shuts down (SIGTERM with enableShutdownHooks, or app.close() in tests). */
@Injectable()
class StoreLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(IDEMPOTENCY_STORE) private readonly idempotency: IdempotencyStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.idempotency.close();
    await this.store.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const { config } = options;
    const slaPolicy = loadSlaPolicy(config);
    return {
      module: AppModule,
      imports: [CqrsModule.forRoot()],
      controllers: [
        HealthController,
        CustomerCommandsController,
        ComplaintCommandsController,
        PurchaseCommandsController,
        StreamEventsController,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CLOCK, useValue: options.clock },
        { provide: EVENT_STORE, useValue: options.eventStore },
        { provide: TokenRegistry, useValue: options.tokens },
        { provide: IDEMPOTENCY_STORE, useFactory: () => new SqliteIdempotencyStore(join(config.dataDir, 'idempotency.db')) },
        { provide: SLA_POLICY, useValue: slaPolicy },
        { provide: CUSTOMER_DECIDER, useValue: makeCustomerDecider({ contactPolicy: loadContactPolicy(config) }) },
        { provide: COMPLAINT_DECIDER, useValue: makeComplaintDecider({ slaPolicy }) },
        { provide: ORDER_DECIDER, useValue: orderDecider },
        CommandExecutor,
        CustomerCommandHandler,
        ComplaintCommandHandler,
        OrderCommandHandler,
        StoreLifecycle,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useFactory: makeValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
      ],
    };
  }
}

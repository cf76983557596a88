import { Inject, Injectable } from '@nestjs/common';
import {
  AggregateCache, EVENT_STORE, ExpectedRevisionMismatch, handleCommand, loadAggregate, StreamVersionConflict,
  type DeciderLike, type EventStore,
} from '@crm/event-store';
import { schemaVersionOf } from '@crm/domain';
import type { Principal } from '../auth/principal';
import { problems } from '../http/problem';
import { CLOCK, type Clock } from '@crm/runtime';
import { Metrics } from '@crm/runtime';
import { uuidv7 } from '@crm/runtime';

/** The service itself as an actor: an erasure a crash left unfinished, completed at the next start. */
export interface SystemActor {
  readonly id: string;
  readonly role: 'system';
}

export interface CommandContext {
  readonly principal: Principal | SystemActor;
  readonly correlationId: string;
  /** Id of the command (the HTTP request) that caused the events. */
  readonly causationId: string;
  /** From `If-Match`: the stream revision the client decided on. */
  readonly expectedRevision?: number;
}

export interface CommandOutcome {
  readonly streamId: string;
  readonly streamRevision: number;
  readonly position: number;
  readonly appended: number;
}

interface DomainEvent {
  readonly type: string;
  readonly data: unknown;
}

/** The API's write path: `handleCommand` with the request's principal and ids, and HTTP problems for conflicts. */
@Injectable()
export class CommandExecutor {
  private readonly cache = new AggregateCache();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {}

  load<S, E extends DomainEvent>(
    streamId: string,
    decider: Pick<DeciderLike<never, S, E>, 'evolve' | 'initialState'>,
  ): Promise<{ state: S; revision: number; position: number }> {
    return loadAggregate(this.store, streamId, decider, this.cache);
  }

  async execute<C, S, E extends DomainEvent>(args: {
    streamId: string;
    decider: DeciderLike<C, S, E>;
    command: C | ((state: S) => C);
    context: CommandContext;
    /** Business time of the events when it is not now (imported or offline-recorded facts). */
    occurredAt?: string;
  }): Promise<CommandOutcome> {
    const { streamId, context } = args;
    try {
      const result = await handleCommand(this.store, args.decider, {
        streamId,
        command: args.command,
        expectedRevision: context.expectedRevision,
        now: () => this.clock.now(),
        newEventId: (now) => uuidv7(now.getTime()),
        schemaVersionOf,
        cache: this.cache,
        metadata: {
          correlationId: context.correlationId,
          causationId: context.causationId,
          actor: { id: context.principal.id, role: context.principal.role },
          occurredAt: args.occurredAt,
        },
      });
      this.metrics.eventsAppended.inc({}, result.appended);
      return { streamId, streamRevision: result.streamRevision, position: result.position, appended: result.appended };
    } catch (error) {
      if (error instanceof ExpectedRevisionMismatch) {
        throw problems.preconditionFailed(`If-Match revision ${error.expected} is not the current revision of ${streamId}`, error.actual);
      }
      if (error instanceof StreamVersionConflict) {
        throw problems.concurrencyConflict(`${streamId} kept changing; retry the command`);
      }
      throw error;
    }
  }
}

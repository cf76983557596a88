import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  AggregateCache, EVENT_STORE, ExpectedRevisionMismatch, handleCommand, loadAggregate, StreamVersionConflict,
  type ConflictBackoff, type DeciderLike, type EventStore,
} from '@crm/event-store';
import type { Principal } from '../auth/principal';
import { problems } from '../http/problem';
import type { ReservedKey } from '../idempotency/idempotency.guard';
import { CLOCK, domainEventMetadata, type Clock } from '@crm/runtime';
import { Metrics } from '@crm/runtime';

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
  /** The request's reserved Idempotency-Key, when it sent one. */
  readonly idempotency?: ReservedKey;
}

/** Injected in tests to drive the backoff between attempts after a cross-process conflict. */
export const CONFLICT_BACKOFF = Symbol('ConflictBackoff');

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

/**
 * The API's write path: `handleCommand` with the request's principal and ids, and HTTP problems for conflicts.
 *
 * Commands on one stream run one after another in this process (a promise chain per stream; no lock across streams).
 * Run side by side, all but one of them would read the same revision and conflict: 50 concurrent contacts for one
 * customer gave 5–13 × 201 and the rest 409 after four immediate retries. In turn, each decides on the cached state
 * its predecessor left and appends without a read. Conflicts with other processes remain, and are retried with backoff
 * in handleCommand.
 */
@Injectable()
export class CommandExecutor {
  private readonly cache = new AggregateCache();
  private readonly eventMetadata = domainEventMetadata();
  /** Tail of each stream's chain of commands; removed when the stream is idle, so it holds only busy streams. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: Metrics,
    @Optional() @Inject(CONFLICT_BACKOFF) private readonly backoff?: Partial<ConflictBackoff>,
  ) {}

  /** Streams with a command running or waiting (for tests: the queue must not leak). */
  get busyStreams(): number {
    return this.queues.size;
  }

  load<S, E extends DomainEvent>(
    streamId: string,
    decider: Pick<DeciderLike<never, S, E>, 'evolve' | 'initialState'>,
  ): Promise<{ state: S; revision: number; position: number }> {
    return loadAggregate(this.store, streamId, decider, this.cache);
  }

  execute<C, S, E extends DomainEvent>(args: {
    streamId: string;
    decider: DeciderLike<C, S, E>;
    command: C | ((state: S) => C);
    context: CommandContext;
    /** Business time of the events when it is not now (imported or offline-recorded facts). */
    occurredAt?: string;
  }): Promise<CommandOutcome> {
    const { streamId } = args;
    const previous = this.queues.get(streamId);
    const run = previous ? previous.then(() => this.executeNow(args), () => this.executeNow(args)) : this.executeNow(args);
    const tail = run.then(() => undefined, () => undefined);
    this.queues.set(streamId, tail);
    void tail.then(() => {
      if (this.queues.get(streamId) === tail) this.queues.delete(streamId);
    });
    return run;
  }

  private async executeNow<C, S, E extends DomainEvent>(args: {
    streamId: string;
    decider: DeciderLike<C, S, E>;
    command: C | ((state: S) => C);
    context: CommandContext;
    occurredAt?: string;
  }): Promise<CommandOutcome> {
    const { streamId, context } = args;
    try {
      const result = await handleCommand(this.store, args.decider, {
        streamId,
        command: args.command,
        expectedRevision: context.expectedRevision,
        now: () => this.clock.now(),
        eventMetadata: this.eventMetadata,
        cache: this.cache,
        backoff: this.backoff,
        recoverIdempotencyKey: context.idempotency?.recovered,
        metadata: {
          correlationId: context.correlationId,
          causationId: context.causationId,
          actor: { id: context.principal.id, role: context.principal.role },
          occurredAt: args.occurredAt,
          idempotencyKey: context.idempotency?.key,
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

import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Decider } from '@crm/domain';
import { EVENT_STORE, type EventStore, type EventToAppend, StreamVersionConflict } from '@crm/event-store';
import type { Principal } from '../auth/principal';
import { problems } from '../http/problem';
import { CLOCK, type Clock } from '../infrastructure/clock';
import { uuidv7 } from '../infrastructure/uuidv7';

export interface CommandContext {
  readonly principal: Principal;
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

export const SCHEMA_VERSION = 1;
/** Conflicts without If-Match are retried: every decider is pure, so deciding again on fresh state is safe. */
const MAX_ATTEMPTS = 4;

/** load stream → fold → decide → append with the expected revision. The only write path of the API. */
@Injectable()
export class CommandExecutor {
  private readonly logger = new Logger('commands');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async load<S, E extends DomainEvent>(
    streamId: string,
    decider: Decider<never, S, E>,
  ): Promise<{ state: S; revision: number; position: number }> {
    const events = await this.store.readStream(streamId);
    let state = decider.initialState();
    for (const e of events) state = decider.evolve(state, { type: e.type, data: e.data } as E);
    const last = events.at(-1);
    return { state, revision: last?.revision ?? -1, position: last?.position ?? 0 };
  }

  async execute<C, S, E extends DomainEvent>(args: {
    streamId: string;
    decider: Decider<C, S, E>;
    command: C | ((state: S) => C);
    context: CommandContext;
    /** Business time of the events when it is not now (imported or offline-recorded facts). */
    occurredAt?: string;
  }): Promise<CommandOutcome> {
    const { streamId, decider, context } = args;
    for (let attempt = 1; ; attempt++) {
      const { state, revision, position } = await this.load(streamId, decider as Decider<never, S, E>);
      if (context.expectedRevision !== undefined && context.expectedRevision !== revision) {
        throw problems.preconditionFailed(
          `If-Match revision ${context.expectedRevision} is not the current revision ${revision} of ${streamId}`,
          revision,
        );
      }
      const now = this.clock.now();
      const command = typeof args.command === 'function' ? (args.command as (s: S) => C)(state) : args.command;
      const events = decider.decide(command, state, now);
      if (events.length === 0) return { streamId, streamRevision: revision, position, appended: 0 };
      const toAppend: EventToAppend[] = events.map((e) => this.envelope(e, context, now, args.occurredAt));
      try {
        const result = await this.store.appendToStream(streamId, toAppend, {
          expectedRevision: revision === -1 ? 'no-stream' : revision,
        });
        return {
          streamId,
          streamRevision: result.nextExpectedRevision,
          position: result.position,
          appended: events.length,
        };
      } catch (error) {
        if (!(error instanceof StreamVersionConflict)) throw error;
        if (context.expectedRevision !== undefined) {
          throw problems.preconditionFailed(`${streamId} changed after revision ${revision}`, revision + 1);
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw problems.concurrencyConflict(`${streamId} kept changing during ${attempt} attempts`);
        }
        this.logger.debug({ msg: 'retrying after concurrency conflict', streamId, attempt });
      }
    }
  }

  private envelope(event: DomainEvent, context: CommandContext, now: Date, occurredAt?: string): EventToAppend {
    const eventId = uuidv7(now.getTime());
    return {
      eventId,
      type: event.type,
      data: event.data,
      metadata: {
        eventId,
        correlationId: context.correlationId,
        causationId: context.causationId,
        actor: { id: context.principal.id, role: context.principal.role },
        occurredAt: occurredAt ?? now.toISOString(),
        recordedAt: now.toISOString(),
        schemaVersion: SCHEMA_VERSION,
      },
    };
  }
}

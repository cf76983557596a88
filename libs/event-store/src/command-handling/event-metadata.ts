import { activeTraceparent } from '../tracing/trace-context';

/** What a command says about the events it causes; the factory adds the per-event fields. */
export interface CommandMetadata {
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: { readonly id: string; readonly role: string };
  /** Business time; now when absent. */
  readonly occurredAt?: string;
  /**
   * Hash of (principal, Idempotency-Key) of the request that caused the events, never the raw key: it lets a retry
   * whose first attempt's outcome was lost find what that attempt appended (see handleCommand).
   */
  readonly idempotencyKey?: string;
}

/** The metadata every appended event carries (docs/event-catalogue.md). A type, not an interface: it is a Record. */
export type EventMetadata = {
  readonly eventId: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: { readonly id: string; readonly role: string };
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly schemaVersion: number;
  readonly idempotencyKey?: string;
  /**
   * W3C trace context of the append that wrote the event, when the writer was traced (OTEL_* set): the projector links
   * its span of the batch to it. Absent when tracing is off.
   */
  readonly traceparent?: string;
};

/** Id and metadata of one event of type `type` that a command appends at `now`. */
export type EventMetadataFactory = (type: string, command: CommandMetadata, now: Date) => EventMetadata;

/**
 * The one place event metadata is made, for the API, the importer and the SLA watcher alike. `schemaVersionOf` is
 * required: the event store knows nothing of the domain, so each writer must say which version it writes (a default
 * of 1 is how the importer once wrote v2 events labelled v1).
 */
export function eventMetadataFactory(options: {
  readonly newEventId: (now: Date) => string;
  readonly schemaVersionOf: (type: string) => number;
}): EventMetadataFactory {
  const { newEventId, schemaVersionOf } = options;
  return (type, command, now) => {
    const recordedAt = now.toISOString();
    const metadata: EventMetadata = {
      eventId: newEventId(now),
      correlationId: command.correlationId,
      causationId: command.causationId,
      actor: command.actor,
      occurredAt: command.occurredAt ?? recordedAt,
      recordedAt,
      schemaVersion: schemaVersionOf(type),
    };
    const traceparent = activeTraceparent();
    if (command.idempotencyKey === undefined && traceparent === undefined) return metadata;
    return {
      ...metadata,
      ...(command.idempotencyKey === undefined ? {} : { idempotencyKey: command.idempotencyKey }),
      ...(traceparent === undefined ? {} : { traceparent }),
    };
  };
}

import type { EventStore, RecordedEvent } from '@crm/event-store';
import type { ReadModelStore } from '@crm/read-models';
import { customerTrail } from '../history/audit-trail.controller';
import { problems } from '../http/problem';
import type { ReadModelGate } from '../read-side/read-model-gate';
import { instantParam } from './query-params';

export interface AsOf {
  readonly events: RecordedEvent[];
  /** The position the answer reflects (the last event at or before the point). */
  readonly position: number;
  /** The time the answer is "as of": the given time, or the recorded time of the last event for a position. */
  readonly at: string;
}

/**
 * `asOf` is a log position (digits) or a time. A time means "what the system knew then": events recorded at or
 * before it (a contact recorded today about last week is not in an answer as of yesterday).
 */
export async function customerEventsAsOf(
  store: EventStore, readModels: ReadModelStore, gate: ReadModelGate, customerId: string, asOf: string,
): Promise<AsOf> {
  const trail = await customerTrail(store, readModels, gate, customerId);
  let events: RecordedEvent[];
  let at: string;
  if (/^\d+$/.test(asOf)) {
    const position = Number(asOf);
    events = trail.filter((e) => e.position <= position);
    at = events.at(-1)?.recordedAt ?? new Date(0).toISOString();
  } else {
    at = instantParam(asOf, 'asOf') ?? asOf;
    events = trail.filter((e) => e.recordedAt <= at);
  }
  if (events.length === 0) throw problems.notFound('customer-not-found', `Customer ${customerId} did not exist as of ${asOf}`);
  return { events, position: events.at(-1)?.position ?? 0, at };
}

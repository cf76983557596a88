import { problems } from '../http/problem';

/** Clocks of clients and servers drift; a fact may be stamped this far ahead of our clock. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * The business time of a fact: given by the client for offline-recorded or imported facts (past allowed),
 * else now. A fact cannot have happened in the future.
 */
export function businessTime(occurredAt: string | undefined, now: Date, field = 'occurredAt'): string {
  if (occurredAt === undefined) return now.toISOString();
  const t = Date.parse(occurredAt);
  if (Number.isNaN(t)) throw problems.validation([{ field, messages: [`${field} must be an ISO-8601 date-time`] }]);
  if (t > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw problems.validation([{ field, messages: [`${field} must not be in the future`] }]);
  }
  return new Date(t).toISOString();
}

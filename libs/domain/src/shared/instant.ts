/**
 * Business times arrive as ISO-8601 strings. The edge validates them; the domain still refuses
 * anything it cannot read unambiguously (a date without a zone would silently be read as local
 * time), and writes every time back in one canonical UTC form so that events compare as strings.
 */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const MILLISECONDS_PER_MINUTE = 60_000;
const MILLISECONDS_PER_DAY = 86_400_000;

/** Parses an ISO-8601 date-time with a zone. Throws a plain Error: bad input is the edge's job to refuse. */
export function parseInstant(value: string, field: string): Date {
  const date = ISO_DATE_TIME.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new Error(`${field} must be an ISO-8601 date-time with a time zone, got ${JSON.stringify(value)}`);
  }
  return date;
}

/** The canonical form used in event data: `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function normalizeInstant(value: string, field: string): string {
  return parseInstant(value, field).toISOString();
}

export function addMinutes(at: Date, minutes: number): Date {
  return new Date(at.getTime() + minutes * MILLISECONDS_PER_MINUTE);
}

export function daysToMilliseconds(days: number): number {
  return days * MILLISECONDS_PER_DAY;
}

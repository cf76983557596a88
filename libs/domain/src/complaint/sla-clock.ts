import { addMinutes } from '../shared/instant';

/** `24x7`: every minute counts; `business`: only minutes inside the business hours, outside the holidays. */
export type SlaCalendarKind = '24x7' | 'business';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `["09:00", "17:00"]`: local wall-clock times in the calendar's timezone, start inclusive, end exclusive. */
export type BusinessInterval = readonly [string, string];

/** The business calendar of an SLA policy (the policy carries these fields itself). */
export interface BusinessCalendar {
  /** IANA zone of the business hours and the holidays; required when a target uses the `business` calendar. */
  timezone?: string;
  /** A day missing or empty is closed. */
  businessHours?: Partial<Record<Weekday, readonly BusinessInterval[]>>;
  /** Dates (`YYYY-MM-DD`) in the calendar's timezone on which business time does not run. */
  holidays?: readonly string[];
}

/**
 * SLA time: the clock the targets are measured on. Under `24x7` it is wall-clock time; under `business` only the
 * calendar's business hours count (in its timezone, less its holidays).
 *
 * NOTE: the `business` calendar is not computed yet (issue 16, item 1): until it is, it counts like `24x7`.
 */
export function addSlaMinutes(calendar: BusinessCalendar, kind: SlaCalendarKind, start: Date, minutes: number): Date {
  void calendar;
  void kind;
  return addMinutes(start, minutes);
}

/** SLA minutes between two instants (0 when `to` is not after `from`), on the same clock as addSlaMinutes. */
export function slaMinutesBetween(calendar: BusinessCalendar, kind: SlaCalendarKind, from: Date, to: Date): number {
  void calendar;
  void kind;
  return Math.max(0, (to.getTime() - from.getTime()) / 60_000);
}

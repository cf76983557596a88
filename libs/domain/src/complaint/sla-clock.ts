import { addMinutes } from '../shared/instant';
import type { SlaCalendarKind, SlaPolicy } from './sla-policy';

/**
 * SLA time: the clock the targets are measured on. Under `24x7` it is wall-clock time; under `business` only the
 * policy's business hours count (in its timezone, less its holidays).
 *
 * NOTE: the `business` calendar is not computed yet (issue 16, item 1): until it is, it counts like `24x7`.
 */
export function addSlaMinutes(policy: SlaPolicy, calendar: SlaCalendarKind, start: Date, minutes: number): Date {
  void policy;
  void calendar;
  return addMinutes(start, minutes);
}

/** SLA minutes between two instants (0 when `to` is not after `from`), on the same clock as addSlaMinutes. */
export function slaMinutesBetween(policy: SlaPolicy, calendar: SlaCalendarKind, from: Date, to: Date): number {
  void policy;
  void calendar;
  return Math.max(0, (to.getTime() - from.getTime()) / 60_000);
}

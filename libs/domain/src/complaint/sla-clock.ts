import { addMinutes } from '../shared/instant';

/** `24x7`: every minute counts; `business`: only minutes inside the business hours, outside the holidays. */
export type SlaCalendarKind = '24x7' | 'business';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * `["09:00", "17:00"]`: local wall-clock times in the calendar's timezone, start inclusive, end exclusive.
 * `"24:00"` may end an interval (open until midnight).
 */
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

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
const HH_MM = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

/** Minutes after local midnight of `"HH:MM"` (`"24:00"` is 1440), or undefined when malformed. */
export function parseWallTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = HH_MM.exec(value);
  if (!m) return undefined;
  return Number(m[1] ?? m[3]) * 60 + Number(m[2] ?? m[4]);
}

/** Whether the runtime's ICU knows the IANA zone (Node ships full ICU, so every tzdb name is known). */
export function isKnownTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/**
 * SLA time: the clock the targets are measured on. Under `24x7` it is wall-clock time; under `business` only the
 * calendar's business hours count (in its timezone, less its holidays). Business minutes from a start outside the
 * hours begin at the next opening; a deadline that uses up an interval exactly is that interval's end (17:00, not
 * the next morning). Zero minutes is the start itself.
 */
export function addSlaMinutes(calendar: BusinessCalendar, kind: SlaCalendarKind, start: Date, minutes: number): Date {
  if (kind === '24x7' || minutes <= 0) return addMinutes(start, Math.max(0, minutes));
  const zone = zoneOf(calendar);
  let remaining = minutes * MS_PER_MINUTE;
  let day = localDateOf(zone, start.getTime());
  const open = openWeek(calendar);
  for (;;) {
    for (const [from, to] of openIntervals(calendar, open, zone, day)) {
      const windowStart = Math.max(from, start.getTime());
      if (to <= windowStart) continue;
      if (remaining <= to - windowStart) return new Date(windowStart + remaining);
      remaining -= to - windowStart;
    }
    day += MS_PER_DAY;
  }
}

/** SLA minutes between two instants (0 when `to` is not after `from`), on the same clock as addSlaMinutes. */
export function slaMinutesBetween(calendar: BusinessCalendar, kind: SlaCalendarKind, from: Date, to: Date): number {
  if (to.getTime() <= from.getTime()) return 0;
  if (kind === '24x7') return (to.getTime() - from.getTime()) / MS_PER_MINUTE;
  const zone = zoneOf(calendar);
  const open = openWeek(calendar);
  const lastDay = localDateOf(zone, to.getTime());
  let total = 0;
  for (let day = localDateOf(zone, from.getTime()); day <= lastDay; day += MS_PER_DAY) {
    for (const [start, end] of openIntervals(calendar, open, zone, day)) {
      const overlap = Math.min(end, to.getTime()) - Math.max(start, from.getTime());
      if (overlap > 0) total += overlap;
    }
  }
  return total / MS_PER_MINUTE;
}

/**
 * A zone's wall clock, read through Intl (no tz library: Node's ICU carries the tz database). `instants` memoises
 * wall time → instant: formatToParts costs microseconds and a deadline crosses the same few opening and closing
 * times again and again (the importer and the watcher compute thousands), so the cache turns ~1 ms into ~0.1 ms.
 */
type Zone = { name: string; format: Intl.DateTimeFormat; instants: Map<number, number> };

/** Bound on each zone's memo (entries are two numbers; a year of four boundaries a day is ~1,500). */
const MEMO_LIMIT = 50_000;

const zones = new Map<string, Zone>();

function zoneOf(calendar: BusinessCalendar): Zone {
  // validateSlaPolicy refuses a business target without a timezone; a calendar built in code without one is UTC.
  const name = calendar.timezone ?? 'UTC';
  let zone = zones.get(name);
  if (!zone) {
    zone = {
      name,
      format: new Intl.DateTimeFormat('en-US', {
        timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
        hour: 'numeric', minute: 'numeric', second: 'numeric',
      }),
      instants: new Map(),
    };
    zones.set(name, zone);
  }
  return zone;
}

/** The zone's wall-clock reading at `instant`, expressed as if it were UTC (ms). */
function wallClockOf(zone: Zone, instant: number): number {
  const parts: Record<string, number> = {};
  for (const part of zone.format.formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts['year'] ?? 1970, (parts['month'] ?? 1) - 1, parts['day'] ?? 1, parts['hour'] ?? 0, parts['minute'] ?? 0, parts['second'] ?? 0);
  return wall + (instant - Math.floor(instant / 1000) * 1000);
}

/** The local date (as UTC midnight ms of that date) on which `instant` falls in the zone. */
function localDateOf(zone: Zone, instant: number): number {
  const wall = wallClockOf(zone, instant);
  return wall - (((wall % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY);
}

/**
 * The instant at which the zone's wall clock reads `wall` (a local date-time expressed as UTC ms). Follows
 * Temporal's `compatible` disambiguation: a time skipped by a spring-forward gap moves forward by the gap
 * (03:30 on the Vilnius spring-forward night is 04:30 EEST), and a time repeated at fall-back is its earlier
 * occurrence, so an opening hour that falls into a transition still opens exactly once.
 */
function instantOfWallClock(zone: Zone, wall: number): number {
  const known = zone.instants.get(wall);
  if (known !== undefined) return known;
  const instant = resolveWallClock(zone, wall);
  if (zone.instants.size >= MEMO_LIMIT) zone.instants.clear();
  zone.instants.set(wall, instant);
  return instant;
}

function resolveWallClock(zone: Zone, wall: number): number {
  // Offsets either side of the wall time; tz rules never change twice within two days.
  const before = wallClockOf(zone, wall - MS_PER_DAY) - (wall - MS_PER_DAY);
  const after = wallClockOf(zone, wall + MS_PER_DAY) - (wall + MS_PER_DAY);
  const candidates = [wall - before, wall - after].filter((t) => wallClockOf(zone, t) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  return wall - before;
}

type OpenWeek = readonly (readonly (readonly [number, number])[])[];

/** Each weekday's open intervals as minute ranges, index 0 = Sunday (Date#getUTCDay order). */
function openWeek(calendar: BusinessCalendar): OpenWeek {
  const byDay = WEEKDAYS.map((weekday) =>
    (calendar.businessHours?.[weekday] ?? [])
      .map(([from, to]) => [parseWallTime(from), parseWallTime(to)] as const)
      .filter((r): r is readonly [number, number] => r[0] !== undefined && r[1] !== undefined && r[0] < r[1])
      .sort((a, b) => a[0] - b[0]),
  );
  if (byDay.every((intervals) => intervals.length === 0)) {
    // Without one open interval a week no business deadline is ever reached; validateSlaPolicy refuses such a policy.
    throw new Error('SLA business calendar has no business hours');
  }
  const [mon, tue, wed, thu, fri, sat, sun] = byDay;
  return [sun ?? [], mon ?? [], tue ?? [], wed ?? [], thu ?? [], fri ?? [], sat ?? []];
}

/** The instants [open, close) of the local date's business intervals; none on a closed day or a holiday. */
function openIntervals(calendar: BusinessCalendar, week: OpenWeek, zone: Zone, localDate: number): [number, number][] {
  const intervals = week[new Date(localDate).getUTCDay()] ?? [];
  if (intervals.length === 0) return [];
  if (calendar.holidays?.includes(new Date(localDate).toISOString().slice(0, 10))) return [];
  return intervals.map(([from, to]) => [
    instantOfWallClock(zone, localDate + from * MS_PER_MINUTE),
    instantOfWallClock(zone, localDate + to * MS_PER_MINUTE),
  ]);
}

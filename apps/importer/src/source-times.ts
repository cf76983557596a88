/**
 * Timestamps of the source files, read explicitly (never through `new Date(string)`, whose reading of zone-less and
 * day-first strings depends on the engine and the machine's zone).
 */

const HOUR_MS = 3_600_000;
const UK_LOCAL = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/;
const DAY_FIRST = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})$/;

/** UTC milliseconds of a civil date-time, or NaN when a field is out of range (31 February, 25:00…). */
function civil(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  const exact =
    d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day &&
    d.getUTCHours() === hour && d.getUTCMinutes() === minute && d.getUTCSeconds() === second;
  return exact ? ms : Number.NaN;
}

/** Day of month of the last Sunday of `month` (1-based) in `year`. */
function lastSunday(year: number, month: number): number {
  const lastDay = new Date(Date.UTC(year, month, 0));
  return lastDay.getUTCDate() - lastDay.getUTCDay();
}

/**
 * UK summer time (BST, UTC+1) runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
 * October (the EU rule, in force in the UK since 1996). Outside it the UK is on GMT (UTC+0).
 */
export function ukSummerTime(year: number): { startMs: number; endMs: number } {
  return { startMs: Date.UTC(year, 2, lastSunday(year, 3), 1), endMs: Date.UTC(year, 9, lastSunday(year, 10), 1) };
}

/**
 * `YYYY-MM-DD HH:MM[:SS]` in UK local time (Europe/London, no zone written) → the UTC instant, ISO-8601.
 * The hour that repeats when clocks go back (01:00–02:00 on the last Sunday of October) is read as its first
 * occurrence (BST); the hour that does not exist when clocks go forward (01:00–02:00 on the last Sunday of March) is
 * read as GMT, i.e. shifted forward one hour, as a clock that was not yet changed would have written it.
 * Returns null when the text is not such a date-time.
 */
export function ukLocalToUtc(text: string): string | null {
  const m = UK_LOCAL.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const year = Number(y);
  const local = civil(year, Number(mo), Number(d), Number(h), Number(mi), Number(s ?? '0'));
  if (Number.isNaN(local)) return null;
  const { startMs, endMs } = ukSummerTime(year);
  const ifSummer = local - HOUR_MS;
  const utc = ifSummer >= startMs && ifSummer < endMs ? ifSummer : local;
  return new Date(utc).toISOString();
}

/**
 * ServiceNow's `D/M/YYYY HH:MM` (day first, no zone) → ISO-8601, read as UTC: the export does not say its zone, and
 * durations (what the SLA analytics measure) do not depend on it. Returns null for `?` and anything unreadable.
 */
export function serviceNowToUtc(text: string): string | null {
  const m = DAY_FIRST.exec(text);
  if (!m) return null;
  const [, d, mo, y, h, mi] = m;
  const ms = civil(Number(y), Number(mo), Number(d), Number(h), Number(mi), 0);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * `fn` with its answers remembered, for pure conversions of source text that repeats: the 541,909 rows of the
 * online-retail file carry ~23k distinct dates, and converting each row's date was 4.5 % of the import. Bounded:
 * the memory is dropped whole when it reaches `maxEntries`.
 */
export function memoizedText<T>(fn: (text: string) => T, maxEntries = 100_000): (text: string) => T {
  const memory = new Map<string, T>();
  return (text) => {
    if (memory.has(text)) return memory.get(text) as T;
    const value = fn(text);
    if (memory.size >= maxEntries) memory.clear();
    memory.set(text, value);
    return value;
  };
}

/** ukLocalToUtc, remembered (memoizedText). */
export const ukLocalToUtcMemoized = memoizedText(ukLocalToUtc);

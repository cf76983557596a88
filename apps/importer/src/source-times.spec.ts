import { describe, expect, it } from '@jest/globals';
import { memoizedText, serviceNowToUtc, ukLocalToUtc, ukLocalToUtcMemoized, ukSummerTime } from './source-times';

/** Europe/London wall-clock time of an instant, as `YYYY-MM-DD HH:MM:SS`, from the platform's time-zone data. */
const london = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
function londonWallClock(ms: number): string {
  const p = Object.fromEntries(london.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p['year']}-${p['month']}-${p['day']} ${p['hour']}:${p['minute']}:${p['second']}`;
}

describe('ukLocalToUtc (InvoiceDate, Europe/London without a zone)', () => {
  it('is UTC in winter and UTC+1 in summer', () => {
    expect(ukLocalToUtc('2010-12-01 08:26:00')).toBe('2010-12-01T08:26:00.000Z');
    expect(ukLocalToUtc('2011-06-15 12:00:00')).toBe('2011-06-15T11:00:00.000Z');
  });

  it('switches at 01:00 UTC on the last Sundays of March and October (2011: 27 March, 30 October)', () => {
    expect(ukSummerTime(2011)).toEqual({ startMs: Date.parse('2011-03-27T01:00:00Z'), endMs: Date.parse('2011-10-30T01:00:00Z') });
    expect(ukLocalToUtc('2011-03-27 00:59:00')).toBe('2011-03-27T00:59:00.000Z');
    expect(ukLocalToUtc('2011-03-27 02:00:00')).toBe('2011-03-27T01:00:00.000Z');
    expect(ukLocalToUtc('2011-10-30 00:59:00')).toBe('2011-10-29T23:59:00.000Z');
    expect(ukLocalToUtc('2011-10-30 02:00:00')).toBe('2011-10-30T02:00:00.000Z');
  });

  it('reads the repeated hour of October as its first (BST) occurrence and the missing hour of March as GMT', () => {
    expect(ukLocalToUtc('2011-10-30 01:30:00')).toBe('2011-10-30T00:30:00.000Z');
    expect(ukLocalToUtc('2011-03-27 01:30:00')).toBe('2011-03-27T01:30:00.000Z');
  });

  it('agrees with the platform time-zone database for every half hour of 2010–2012', () => {
    const mismatches: string[] = [];
    for (let ms = Date.parse('2010-01-01T00:00:00Z'); ms < Date.parse('2013-01-01T00:00:00Z'); ms += 1_800_000) {
      const wall = londonWallClock(ms);
      const back = ukLocalToUtc(wall);
      // In the repeated October hour the wall clock names two instants; we read it as the first.
      const repeated = wall.slice(11, 13) === '01' && wall.slice(5, 7) === '10' && back !== null && Date.parse(back) === ms - 3_600_000;
      if (back !== new Date(ms).toISOString() && !repeated) mismatches.push(`${wall} → ${back}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('refuses what is not a date-time', () => {
    expect(ukLocalToUtc('2011-02-30 10:00:00')).toBeNull();
    expect(ukLocalToUtc('01/12/2010 08:26')).toBeNull();
    expect(ukLocalToUtc('')).toBeNull();
  });
});

describe('serviceNowToUtc (D/M/YYYY HH:MM, day first)', () => {
  it('reads the day first, without leading zeros', () => {
    expect(serviceNowToUtc('29/2/2016 01:16')).toBe('2016-02-29T01:16:00.000Z');
    expect(serviceNowToUtc('5/3/2016 12:00')).toBe('2016-03-05T12:00:00.000Z');
    expect(serviceNowToUtc('12/11/2016 23:59')).toBe('2016-11-12T23:59:00.000Z');
  });

  it('refuses the missing marker and impossible dates (a month-first reading of 29/2 would be one)', () => {
    expect(serviceNowToUtc('?')).toBeNull();
    expect(serviceNowToUtc('2/29/2016 01:16')).toBeNull();
    expect(serviceNowToUtc('29/2/2017 01:16')).toBeNull();
  });
});

describe('memoizedText', () => {
  it('answers as the function does, computing each distinct text once, null answers included', () => {
    const seen: string[] = [];
    const upper = memoizedText((t: string) => {
      seen.push(t);
      return t === 'none-xq7' ? null : t.toUpperCase();
    });
    expect(['ab', 'cd', 'ab', 'none-xq7', 'none-xq7', 'cd'].map(upper)).toEqual(['AB', 'CD', 'AB', null, null, 'CD']);
    expect(seen).toEqual(['ab', 'cd', 'none-xq7']);
  });

  it('forgets everything when full, and still answers right', () => {
    let calls = 0;
    const length = memoizedText((t: string) => {
      calls += 1;
      return t.length;
    }, 2);
    expect(['a', 'bb', 'ccc', 'a', 'ccc'].map(length)).toEqual([1, 2, 3, 1, 3]);
    expect(calls).toBe(4);
  });

  it('ukLocalToUtcMemoized agrees with ukLocalToUtc', () => {
    for (const t of ['2010-12-01 08:26:00', '2011-06-15 12:00:00', '2011-02-30 10:00:00', 'not a date', '2011-06-15 12:00:00']) {
      expect(ukLocalToUtcMemoized(t)).toBe(ukLocalToUtc(t));
    }
  });
});

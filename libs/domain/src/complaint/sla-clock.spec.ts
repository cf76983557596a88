import { describe, expect, it } from '@jest/globals';
import { addSlaMinutes, slaMinutesBetween } from './sla-clock';
import type { BusinessCalendar, BusinessInterval } from './sla-clock';

/*
 * Given a calendar, when N business minutes are added to a start (or counted between two instants), then the
 * deadline (or count) is the one a service desk would read off the wall clock in the calendar's zone.
 * Europe/Vilnius is +02:00 in winter, +03:00 in summer; in 2027 it springs forward on Sun 28 March at
 * 03:00 local (01:00Z) and falls back on Sun 31 October at 04:00 local (01:00Z). 1 January 2027 is a Friday.
 */

const NINE_TO_FIVE: readonly BusinessInterval[] = [['09:00', '17:00']];
const WEEKDAYS_NINE_TO_FIVE: BusinessCalendar = {
  timezone: 'Europe/Vilnius',
  businessHours: { mon: NINE_TO_FIVE, tue: NINE_TO_FIVE, wed: NINE_TO_FIVE, thu: NINE_TO_FIVE, fri: NINE_TO_FIVE, sat: [], sun: [] },
};

function given(calendar: BusinessCalendar): {
  whenAdding(minutes: number, start: string): { thenDueAt(expected: string): void };
  whenCounting(from: string, to: string): { thenMinutes(expected: number): void };
} {
  return {
    whenAdding: (minutes, start) => ({
      thenDueAt: (expected) => {
        expect(addSlaMinutes(calendar, 'business', new Date(start), minutes).toISOString()).toBe(new Date(expected).toISOString());
      },
    }),
    whenCounting: (from, to) => ({
      thenMinutes: (expected) => {
        expect(slaMinutesBetween(calendar, 'business', new Date(from), new Date(to))).toBe(expected);
      },
    }),
  };
}

describe('SLA clock, business calendar', () => {
  it('the issue example: a P3 filed Friday 16:00 with 8 business hours Mon–Fri 09:00–17:00 is due Monday 16:00', () => {
    given(WEEKDAYS_NINE_TO_FIVE).whenAdding(480, '2027-01-08T16:00:00+02:00').thenDueAt('2027-01-11T16:00:00+02:00');
  });

  it('runs across a night: 60 minutes from 16:30 is 09:30 the next morning', () => {
    given(WEEKDAYS_NINE_TO_FIVE).whenAdding(60, '2027-01-12T16:30:00+02:00').thenDueAt('2027-01-13T09:30:00+02:00');
  });

  it('a deadline that uses up the day exactly is the closing time, not the next opening', () => {
    given(WEEKDAYS_NINE_TO_FIVE).whenAdding(60, '2027-01-08T16:00:00+02:00').thenDueAt('2027-01-08T17:00:00+02:00');
  });

  it.each([
    ['before opening the same day', '2027-01-12T07:15:00+02:00', '2027-01-12T09:30:00+02:00'],
    ['at closing time (end exclusive)', '2027-01-12T17:00:00+02:00', '2027-01-13T09:30:00+02:00'],
    ['on a Friday evening', '2027-01-08T18:00:00+02:00', '2027-01-11T09:30:00+02:00'],
    ['on a Saturday', '2027-01-09T10:00:00+02:00', '2027-01-11T09:30:00+02:00'],
    ['at the opening itself (start inclusive)', '2027-01-12T09:00:00+02:00', '2027-01-12T09:30:00+02:00'],
  ])('starting %s, the minutes begin at the next opening', (_when, start, due) => {
    given(WEEKDAYS_NINE_TO_FIVE).whenAdding(30, start).thenDueAt(due);
  });

  it('skips holidays, which are dates in the calendar zone', () => {
    const calendar = { ...WEEKDAYS_NINE_TO_FIVE, holidays: ['2027-01-01'] };
    given(calendar).whenAdding(120, '2026-12-31T16:00:00+02:00').thenDueAt('2027-01-04T10:00:00+02:00');
    given(calendar).whenCounting('2026-12-31T00:00:00+02:00', '2027-01-05T00:00:00+02:00').thenMinutes(2 * 480);
  });

  it('a holiday is judged in the calendar zone, not in UTC', () => {
    // 2027-01-04 00:30 in Vilnius is still 2027-01-03 in UTC: the Monday holiday must still close that Monday.
    const calendar: BusinessCalendar = { ...WEEKDAYS_NINE_TO_FIVE, businessHours: { mon: [['00:00', '24:00']] }, holidays: ['2027-01-04'] };
    given(calendar).whenAdding(60, '2027-01-03T23:00:00+02:00').thenDueAt('2027-01-11T01:00:00+02:00');
  });

  it('a split day counts the morning and the afternoon, not the lunch break', () => {
    const calendar: BusinessCalendar = { timezone: 'Europe/Vilnius', businessHours: { tue: [['09:00', '12:00'], ['13:00', '17:00']] } };
    given(calendar).whenAdding(120, '2027-01-12T11:00:00+02:00').thenDueAt('2027-01-12T14:00:00+02:00');
    given(calendar).whenAdding(30, '2027-01-12T12:30:00+02:00').thenDueAt('2027-01-12T13:30:00+02:00');
    given(calendar).whenCounting('2027-01-12T00:00:00+02:00', '2027-01-13T00:00:00+02:00').thenMinutes(420);
    // Tuesday only: the next Tuesday follows.
    given(calendar).whenAdding(480, '2027-01-12T09:00:00+02:00').thenDueAt('2027-01-19T10:00:00+02:00');
  });

  it('zero minutes is the start itself, also outside business hours', () => {
    given(WEEKDAYS_NINE_TO_FIVE).whenAdding(0, '2027-01-09T10:00:00+02:00').thenDueAt('2027-01-09T10:00:00+02:00');
  });

  describe('DST spring-forward (Vilnius, Sun 2027-03-28, 03:00 → 04:00)', () => {
    it('a deadline over the weekend keeps the local wall time: Friday 16:00 + 8 h is Monday 16:00 EEST', () => {
      given(WEEKDAYS_NINE_TO_FIVE).whenAdding(480, '2027-03-26T16:00:00+02:00').thenDueAt('2027-03-29T16:00:00+03:00');
    });

    it('a day open around the clock has 23 hours', () => {
      const calendar: BusinessCalendar = { timezone: 'Europe/Vilnius', businessHours: { sun: [['00:00', '24:00']] } };
      given(calendar).whenCounting('2027-03-27T00:00:00+02:00', '2027-03-30T00:00:00+03:00').thenMinutes(23 * 60);
      given(calendar).whenAdding(23 * 60, '2027-03-28T00:00:00+02:00').thenDueAt('2027-03-29T00:00:00+03:00');
    });

    it('an interval opening in the skipped hour opens when the clocks jump (03:00 does not exist)', () => {
      const calendar: BusinessCalendar = { timezone: 'Europe/Vilnius', businessHours: { sun: [['03:00', '05:00']] } };
      given(calendar).whenCounting('2027-03-28T00:00:00+02:00', '2027-03-29T00:00:00+03:00').thenMinutes(60);
      given(calendar).whenAdding(30, '2027-03-27T12:00:00+02:00').thenDueAt('2027-03-28T04:30:00+03:00');
    });
  });

  describe('DST fall-back (Vilnius, Sun 2027-10-31, 04:00 → 03:00)', () => {
    it('a deadline over the weekend keeps the local wall time: Friday 16:00 + 8 h is Monday 16:00 EET', () => {
      given(WEEKDAYS_NINE_TO_FIVE).whenAdding(480, '2027-10-29T16:00:00+03:00').thenDueAt('2027-11-01T16:00:00+02:00');
    });

    it('a day open around the clock has 25 hours', () => {
      const calendar: BusinessCalendar = { timezone: 'Europe/Vilnius', businessHours: { sun: [['00:00', '24:00']] } };
      given(calendar).whenCounting('2027-10-30T00:00:00+03:00', '2027-11-02T00:00:00+02:00').thenMinutes(25 * 60);
      given(calendar).whenAdding(25 * 60, '2027-10-31T00:00:00+03:00').thenDueAt('2027-11-01T00:00:00+02:00');
    });

    it('an interval over the repeated hour counts it twice, as the clock on the wall does', () => {
      const calendar: BusinessCalendar = { timezone: 'Europe/Vilnius', businessHours: { sun: [['03:00', '05:00']] } };
      given(calendar).whenCounting('2027-10-31T00:00:00+03:00', '2027-11-01T00:00:00+02:00').thenMinutes(180);
      given(calendar).whenAdding(90, '2027-10-31T03:00:00+03:00').thenDueAt('2027-10-31T03:30:00+02:00');
    });
  });

  it('works west of UTC too (New York, where a local day spans two UTC dates)', () => {
    const calendar: BusinessCalendar = { ...WEEKDAYS_NINE_TO_FIVE, timezone: 'America/New_York' };
    given(calendar).whenAdding(480, '2027-01-08T16:00:00-05:00').thenDueAt('2027-01-11T16:00:00-05:00');
  });

  describe('slaMinutesBetween', () => {
    it('counts only business minutes and is 0 when `to` is not after `from`', () => {
      given(WEEKDAYS_NINE_TO_FIVE).whenCounting('2027-01-08T16:00:00+02:00', '2027-01-11T10:00:00+02:00').thenMinutes(120);
      given(WEEKDAYS_NINE_TO_FIVE).whenCounting('2027-01-09T10:00:00+02:00', '2027-01-10T10:00:00+02:00').thenMinutes(0);
      given(WEEKDAYS_NINE_TO_FIVE).whenCounting('2027-01-11T10:00:00+02:00', '2027-01-08T16:00:00+02:00').thenMinutes(0);
    });

    it('is the inverse of addSlaMinutes, from any start, over holidays, split days and both DST changes', () => {
      const calendar: BusinessCalendar = {
        timezone: 'Europe/Vilnius',
        businessHours: { ...WEEKDAYS_NINE_TO_FIVE.businessHours, tue: [['09:00', '12:00'], ['13:00', '17:00']], sun: [['02:00', '05:00']] },
        holidays: ['2027-01-01', '2027-03-29', '2027-11-01'],
      };
      const starts = ['2026-12-31T16:20:00+02:00', '2027-03-26T23:59:00+02:00', '2027-03-28T03:30:00+03:00', '2027-10-30T12:00:00+03:00', '2027-10-31T03:15:00+02:00'];
      for (const start of starts) {
        for (const minutes of [1, 59, 60, 181, 480, 1440, 10080]) {
          const due = addSlaMinutes(calendar, 'business', new Date(start), minutes);
          expect({ start, minutes, counted: slaMinutesBetween(calendar, 'business', new Date(start), due) }).toEqual({ start, minutes, counted: minutes });
        }
      }
    });
  });

  it('24x7 counts every minute, whatever the calendar says', () => {
    const start = new Date('2027-01-09T10:00:00+02:00');
    expect(addSlaMinutes(WEEKDAYS_NINE_TO_FIVE, '24x7', start, 90).toISOString()).toBe('2027-01-09T09:30:00.000Z');
    expect(slaMinutesBetween(WEEKDAYS_NINE_TO_FIVE, '24x7', start, new Date('2027-01-09T11:30:00+02:00'))).toBe(90);
  });

  it('a calendar that is never open is refused rather than searched for ever', () => {
    expect(() => addSlaMinutes({ timezone: 'Europe/Vilnius', businessHours: {} }, 'business', new Date(), 1)).toThrow('SLA business calendar has no business hours');
  });
});

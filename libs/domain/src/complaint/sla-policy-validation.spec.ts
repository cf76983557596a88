import { describe, expect, it } from '@jest/globals';
import { computeSlaDeadlines } from './sla-policy';
import type { SlaPolicy } from './sla-policy';
import { checkSlaPolicy, validateSlaPolicy } from './sla-policy-validation';

const NINE_TO_FIVE = [['09:00', '17:00']];

/** The example policy, whole. */
function examplePolicy(): Record<string, unknown> {
  return {
    version: 'sla-2027-01',
    timezone: 'Europe/Vilnius',
    businessHours: {
      mon: NINE_TO_FIVE, tue: [['09:00', '12:00'], ['13:00', '17:00']], wed: NINE_TO_FIVE, thu: NINE_TO_FIVE, fri: NINE_TO_FIVE, sat: [], sun: [],
    },
    holidays: ['2027-01-01'],
    targets: {
      P1: { firstResponseMinutes: 60, resolutionMinutes: 240, calendar: '24x7' },
      P2: { firstResponseMinutes: 240, resolutionMinutes: 1440 },
      P3: { firstResponseMinutes: 480, resolutionMinutes: 2400, calendar: 'business' },
      P4: { firstResponseMinutes: 960, resolutionMinutes: 4800, calendar: 'business' },
    },
    pauseWhen: ['awaiting-customer'],
    escalations: [
      { name: 'warn', kind: 'resolution', atPercent: 75, notify: 'owner' },
      { name: 'breach', kind: 'resolution', atPercent: 100, notify: 'supervisor' },
    ],
  };
}

/** Given a policy with `change` applied, then checking it names exactly these fields. */
function fieldsOf(change: (policy: Record<string, unknown>) => void, unknownFields: 'drop' | 'refuse' = 'refuse'): string[] {
  const policy = examplePolicy();
  change(policy);
  return (checkSlaPolicy(policy, { unknownFields }).problems ?? []).map((p) => p.field);
}

describe('SLA policy validation, the whole shape', () => {
  it('accepts the issue example and keeps every field', () => {
    const checked = checkSlaPolicy(JSON.parse(JSON.stringify(examplePolicy())) as unknown, { unknownFields: 'refuse' });
    expect(checked.problems).toBeUndefined();
    expect(checked.policy).toEqual(examplePolicy());
  });

  it('a business target of the accepted policy is computed in business time (Friday 16:00 + 8 h is Monday 16:00)', () => {
    const policy = validateSlaPolicy(examplePolicy());
    expect(computeSlaDeadlines(policy, 'P3', new Date('2027-01-08T16:00:00+02:00')).firstResponseDueAt).toBe('2027-01-11T14:00:00.000Z');
  });

  it.each<[string, (p: Record<string, unknown>) => void, string[]]>([
    ['an unknown IANA timezone', (p) => { p['timezone'] = 'Europe/Atlantis'; }, ['timezone']],
    ['a timezone that is not a string', (p) => { p['timezone'] = 2; }, ['timezone']],
    ['a malformed start time', (p) => { p['businessHours'] = { mon: [['9:00', '17:00']] }; }, ['businessHours.mon[0][0]']],
    ['a malformed end time', (p) => { p['businessHours'] = { mon: [['09:00', '17:60']] }; }, ['businessHours.mon[0][1]']],
    ['24:00 as a start', (p) => { p['businessHours'] = { mon: [['24:00', '24:00']] }; }, ['businessHours.mon[0][0]']],
    ['an interval that is not a pair', (p) => { p['businessHours'] = { mon: [['09:00']] }; }, ['businessHours.mon[0]']],
    ['a reversed interval', (p) => { p['businessHours'] = { tue: [['09:00', '12:00'], ['17:00', '13:00']] }; }, ['businessHours.tue[1]']],
    ['an empty interval', (p) => { p['businessHours'] = { tue: [['09:00', '09:00']] }; }, ['businessHours.tue[0]']],
    ['overlapping intervals', (p) => { p['businessHours'] = { tue: [['09:00', '12:00'], ['11:30', '17:00']] }; }, ['businessHours.tue[1]']],
    ['overlapping intervals given out of order', (p) => { p['businessHours'] = { tue: [['13:00', '17:00'], ['09:00', '13:30']] }; }, ['businessHours.tue[1]']],
    ['an unknown weekday', (p) => { p['businessHours'] = { mon: NINE_TO_FIVE, monday: NINE_TO_FIVE }; }, ['businessHours.monday']],
    ['a day that is not a list', (p) => { p['businessHours'] = { mon: '09:00-17:00' }; }, ['businessHours.mon']],
    ['business hours that are not an object', (p) => { p['businessHours'] = []; }, ['businessHours']],
    ['a bad holiday date', (p) => { p['holidays'] = ['2027-01-01', '2027-02-30', '01/05/2027']; }, ['holidays[1]', 'holidays[2]']],
    ['holidays that are not a list', (p) => { p['holidays'] = '2027-01-01'; }, ['holidays']],
    ['a missing priority', (p) => { delete (p['targets'] as Record<string, unknown>)['P2']; }, ['targets.P2']],
    ['an unknown calendar', (p) => { (p['targets'] as Record<string, Record<string, unknown>>)['P1']!['calendar'] = 'office'; }, ['targets.P1.calendar']],
    ['a business calendar without a timezone', (p) => { delete p['timezone']; }, ['timezone']],
    ['a business calendar that never opens', (p) => { p['businessHours'] = { sat: [], sun: [] }; }, ['businessHours']],
    ['a business calendar without business hours', (p) => { delete p['businessHours']; }, ['businessHours']],
    ['an unknown pause state', (p) => { p['pauseWhen'] = ['awaiting-customer', 'on-hold']; }, ['pauseWhen[1]']],
    ['pauseWhen that is not a list', (p) => { p['pauseWhen'] = 'awaiting-customer'; }, ['pauseWhen']],
    ['an escalation step without a name', (p) => { p['escalations'] = [{ name: ' ', kind: 'resolution', atPercent: 75, notify: 'owner' }]; }, ['escalations[0].name']],
    ['two escalation steps with one name', (p) => {
      p['escalations'] = [{ name: 'warn', kind: 'resolution', atPercent: 75, notify: 'owner' }, { name: 'warn', kind: 'first-response', atPercent: 50, notify: 'owner' }];
    }, ['escalations[1].name']],
    ['an unknown escalation kind', (p) => { p['escalations'] = [{ name: 'warn', kind: 'response', atPercent: 75, notify: 'owner' }]; }, ['escalations[0].kind']],
    ['atPercent 0, 101 and 7.5', (p) => {
      p['escalations'] = [0, 101, 7.5].map((atPercent, i) => ({ name: `s${i}`, kind: 'resolution', atPercent, notify: 'owner' }));
    }, ['escalations[0].atPercent', 'escalations[1].atPercent', 'escalations[2].atPercent']],
    ['an empty notify', (p) => { p['escalations'] = [{ name: 'warn', kind: 'resolution', atPercent: 75, notify: '' }]; }, ['escalations[0].notify']],
    ['a step that is not an object', (p) => { p['escalations'] = ['warn']; }, ['escalations[0]']],
    ['escalations that are not a list', (p) => { p['escalations'] = {}; }, ['escalations']],
    ['a misspelt top-level field', (p) => { p['holiday'] = ['2027-01-02']; }, ['holiday']],
    ['an unknown target field', (p) => { (p['targets'] as Record<string, Record<string, unknown>>)['P1']!['calender'] = 'business'; }, ['targets.P1.calender']],
    ['an unknown escalation field', (p) => { p['escalations'] = [{ name: 'w', kind: 'resolution', atPercent: 75, notify: 'owner', role: 'x' }]; }, ['escalations[0].role']],
  ])('refuses %s, naming the field', (_case, change, fields) => {
    expect(fieldsOf(change)).toEqual(fields);
  });

  it('every message starts with the field it names', () => {
    const policy = { ...examplePolicy(), timezone: 'Mars/Olympus', holidays: ['tomorrow'], businessHours: { tue: [['13:00', '12:00']] } };
    for (const p of checkSlaPolicy(policy).problems ?? []) expect(p.message.startsWith(p.field)).toBe(true);
  });

  it('the configuration file drops unknown fields, as before', () => {
    expect(fieldsOf((p) => { p['description'] = 'ops 2027'; }, 'drop')).toEqual([]);
  });

  it('the configuration file names the new problems in the same one-line message', () => {
    const policy = { ...examplePolicy(), timezone: 'Europe/Atlantis', businessHours: { mon: [['09:00', '12:00'], ['11:00', '17:00']] } };
    expect(() => validateSlaPolicy(policy)).toThrow(
      'SLA policy: timezone must be an IANA time zone such as "Europe/Vilnius", got "Europe/Atlantis"; businessHours.mon[1] overlaps businessHours.mon[0]',
    );
  });

  it('adjacent intervals touch without overlapping (end exclusive), and 24:00 ends a day', () => {
    const policy = { ...examplePolicy(), businessHours: { mon: [['00:00', '12:00'], ['12:00', '24:00']] } };
    expect(checkSlaPolicy(policy).problems).toBeUndefined();
  });

  it('a policy of the first shape (no calendar) stays valid and reads back unchanged', () => {
    const first: SlaPolicy = {
      version: 'v1',
      targets: {
        P1: { firstResponseMinutes: 1, resolutionMinutes: 2 }, P2: { firstResponseMinutes: 1, resolutionMinutes: 2 },
        P3: { firstResponseMinutes: 1, resolutionMinutes: 2 }, P4: { firstResponseMinutes: 1, resolutionMinutes: 2 },
      },
    };
    expect(checkSlaPolicy(first, { unknownFields: 'refuse' }).policy).toStrictEqual(first);
  });
});

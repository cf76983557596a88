import { describe, expect, it } from '@jest/globals';
import { addMinutes, normalizeInstant, parseInstant } from './instant';

describe('instants', () => {
  it.each([
    ['2026-03-02T09:00:00Z', '2026-03-02T09:00:00.000Z'],
    ['2026-03-02T10:00:00+01:00', '2026-03-02T09:00:00.000Z'],
    ['2026-03-02T09:00Z', '2026-03-02T09:00:00.000Z'],
    ['2026-03-02T09:00:00.123456Z', '2026-03-02T09:00:00.123Z'],
  ])('normalises %j to canonical UTC', (value, expected) => {
    expect(normalizeInstant(value, 'occurredAt')).toBe(expected);
  });

  it.each(['2026-03-02', '2026-03-02T09:00:00', 'March 2, 2026', '2026-13-45T09:00:00Z', ''])(
    'refuses %j, which has no unambiguous instant',
    (value) => {
      expect(() => parseInstant(value, 'occurredAt')).toThrow('occurredAt must be an ISO-8601 date-time with a time zone');
    },
  );

  it('adds minutes', () => {
    expect(addMinutes(new Date('2026-03-02T09:00:00.000Z'), 90).toISOString()).toBe('2026-03-02T10:30:00.000Z');
  });
});

import { describe, expect, it } from '@jest/globals';
import { DEFAULT_LOYALTY_POLICY, pointsFor, purchaseIntervals, quintileScore, tierFor } from './loyalty-policy';

describe('loyalty policy', () => {
  it('gives one point per whole pound of net spend, rounded down, never negative', () => {
    expect(pointsFor(DEFAULT_LOYALTY_POLICY, { amount: 23080, scale: 3, currency: 'GBP' })).toBe(23);
    expect(pointsFor(DEFAULT_LOYALTY_POLICY, { amount: 99, scale: 2, currency: 'GBP' })).toBe(0);
    expect(pointsFor(DEFAULT_LOYALTY_POLICY, { amount: -500, scale: 2, currency: 'GBP' })).toBe(0);
    expect(pointsFor({ ...DEFAULT_LOYALTY_POLICY, pointsPerUnit: 2.5 }, { amount: 1000, scale: 2, currency: 'GBP' })).toBe(25);
  });

  it('maps points to the highest tier reached', () => {
    expect(tierFor(DEFAULT_LOYALTY_POLICY, 0)).toBe('bronze');
    expect(tierFor(DEFAULT_LOYALTY_POLICY, 499)).toBe('bronze');
    expect(tierFor(DEFAULT_LOYALTY_POLICY, 500)).toBe('silver');
    expect(tierFor(DEFAULT_LOYALTY_POLICY, 10_000)).toBe('platinum');
  });

  it('scores quintiles 1..5 and gives ties the same score', () => {
    expect([0, 1, 2, 3, 4].map((below) => quintileScore(below, 5))).toEqual([1, 2, 3, 4, 5]);
    expect(quintileScore(0, 1)).toBe(1);
    expect(quintileScore(99, 100)).toBe(5);
    expect(quintileScore(0, 0)).toBe(0);
  });

  it('computes mean and median days between orders and the next expected purchase', () => {
    expect(purchaseIntervals(['2026-01-01T00:00:00Z'])).toEqual({ orders: 1, meanDays: null, medianDays: null, nextExpectedAt: null });
    expect(purchaseIntervals(['2026-01-11T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-13T00:00:00Z', '2026-01-31T00:00:00Z'])).toEqual({
      orders: 4, meanDays: 10, medianDays: 10, nextExpectedAt: '2026-02-10T00:00:00.000Z',
    });
  });
});

import { ALL_PROJECTIONS } from '@crm/read-models';
import { DEFAULT_PROJECTION_COST, groupProjections, PROJECTION_COST } from './projector-groups';

const names = ALL_PROJECTIONS.map((p) => p.name);
const costOf = (group: readonly string[]): number => group.reduce((sum, n) => sum + (PROJECTION_COST[n] ?? DEFAULT_PROJECTION_COST), 0);

describe('groupProjections (the projector threads\' shares)', () => {
  it('has a measured cost for every projection the product runs', () => {
    expect(names.filter((n) => PROJECTION_COST[n] === undefined)).toEqual([]);
  });

  it('puts the two heavy read models on different threads and balances the rest by cost, not by count', () => {
    const [a = [], b = []] = groupProjections(names, 2);
    expect(a.includes('customer_timelines')).not.toBe(b.includes('customer_timelines'));
    expect(a.includes('customer_profiles')).toBe(b.includes('customer_timelines'));
    const total = costOf(names);
    // Within one light projection of an even split.
    expect(Math.abs(costOf(a) - costOf(b))).toBeLessThanOrEqual(Math.max(...names.filter((n) => !['customer_timelines', 'customer_profiles'].includes(n)).map((n) => PROJECTION_COST[n] ?? 0)));
    expect(costOf(a) + costOf(b)).toBe(total);
  });

  it('runs every projection exactly once, in ALL_PROJECTIONS order within a thread', () => {
    for (const threads of [1, 2, 3, 4, 10]) {
      const groups = groupProjections(names, threads);
      expect(groups).toHaveLength(threads);
      expect(groups.flat().sort()).toEqual([...names].sort());
      for (const g of groups) expect(g).toEqual(names.filter((n) => g.includes(n)));
    }
  });

  it('never makes an empty thread: more threads than projections is as many threads as projections', () => {
    expect(groupProjections(['a', 'b'], 5)).toEqual([['a'], ['b']]);
    expect(groupProjections(names, 0)).toEqual([names]);
  });

  it('is deterministic (every replica computes the same split) and weighs by the given cost', () => {
    expect(groupProjections(names, 3)).toEqual(groupProjections([...names], 3));
    const cost = (n: string): number => ({ heavy: 10 }[n] ?? 1);
    expect(groupProjections(['x1', 'heavy', 'x2', 'x3', 'x4'], 2, cost)).toEqual([['heavy'], ['x1', 'x2', 'x3', 'x4']]);
    // By count this would be 3 and 2; by cost, the one heavy projection is worth a thread.
    expect(groupProjections(['a', 'b', 'c', 'd'], 2, () => 1)).toEqual([['a', 'c'], ['b', 'd']]);
  });
});

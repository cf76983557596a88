/**
 * How the projections of one projector are shared out among its threads (PROJECTOR_THREADS): by cost, not by count.
 * Two read models cost as much to build as the other eight together, so "five and five" would leave one thread
 * with both heavy ones and the other idle half the time.
 */

/**
 * Relative cost of building each read model from the log: seconds to rebuild it alone over the bench's 1M-event
 * history on this machine class (bench/README.md, projection-rebuild; 2026-12-06). Only the proportions matter.
 * A projection missing here (a new read model) counts as DEFAULT_PROJECTION_COST until measured.
 */
export const PROJECTION_COST: Readonly<Record<string, number>> = {
  customer_timelines: 40,
  customer_profiles: 40,
  loyalty: 7,
  customer_streams: 5,
  cross_sell: 4,
  complaints: 4,
  follow_ups: 4,
  monthly_revenue: 3,
  customer_merges: 2,
  sla_breaches: 2,
};

export const DEFAULT_PROJECTION_COST = 5;

/**
 * `names` split into at most `threads` non-empty groups of nearly equal total cost (largest first, each to the
 * lightest group so far: within 4/3 of the best split, and exact for the heavy-two-and-many-light shape we have).
 * Deterministic: equal costs keep the order of `names`, and group 0 (the one that also runs the SLA watcher) is the
 * one the heaviest projection starts, so every thread of every replica computes the same split.
 */
export function groupProjections(
  names: readonly string[], threads: number, cost: (name: string) => number = costOf,
): string[][] {
  const count = Math.max(1, Math.min(Math.floor(threads), names.length));
  const groups = Array.from({ length: count }, () => ({ names: [] as string[], cost: 0 }));
  const byCost = names.map((name, i) => ({ name, i, cost: cost(name) })).sort((a, b) => b.cost - a.cost || a.i - b.i);
  for (const p of byCost) {
    // The first lightest: ties go to the lower index, so the split does not depend on anything but the input.
    const lightest = groups.reduce((best, g) => (g.cost < best.cost ? g : best));
    lightest.names.push(p.name);
    lightest.cost += p.cost;
  }
  // Within a group, the projections keep their order in `names` (as one runner would list them).
  const order = new Map(names.map((n, i) => [n, i]));
  return groups.filter((g) => g.names.length > 0).map((g) => g.names.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)));
}

function costOf(name: string): number {
  return PROJECTION_COST[name] ?? DEFAULT_PROJECTION_COST;
}

import type { Money } from '../shared/money';
import type { ExchangeRate } from './exchange-rates';

/**
 * Versioned loyalty policy. Points are a function of net spend (purchases minus returns) in the policy currency, so a
 * return claws back exactly the points its amount earned, and a policy change needs no rebuild of any read model.
 */
export interface LoyaltyPolicy {
  readonly version: string;
  /** Spend in this currency earns points and counts as RFM monetary value; other currencies are reported apart. */
  readonly currency: string;
  /** Points per whole unit of net spend (e.g. 1 point per £1). */
  readonly pointsPerUnit: number;
  /** Ascending by minPoints; the first tier must start at 0. */
  readonly tiers: ReadonlyArray<{ readonly name: string; readonly minPoints: number }>;
  /**
   * What other currencies are worth in `currency`, by the day from which each rate applies (docs/decisions.md,
   * "Loyalty across currencies"). Spend in a currency without a rate for its day is reported as not converted.
   */
  readonly rates: readonly ExchangeRate[];
}

export const DEFAULT_LOYALTY_POLICY: LoyaltyPolicy = {
  version: 'loyalty-2026-01',
  currency: 'GBP',
  pointsPerUnit: 1,
  tiers: [
    { name: 'bronze', minPoints: 0 },
    { name: 'silver', minPoints: 500 },
    { name: 'gold', minPoints: 2000 },
    { name: 'platinum', minPoints: 10000 },
  ],
  rates: [],
};

/** Whole points, rounded down; never negative (returns cannot push a customer below zero). */
export function pointsFor(policy: LoyaltyPolicy, netSpend: Money): number {
  const units = BigInt(netSpend.amount) * BigInt(Math.round(policy.pointsPerUnit * 1000));
  const points = units / (10n ** BigInt(netSpend.scale) * 1000n);
  return points > 0n ? Number(points) : 0;
}

export function tierFor(policy: LoyaltyPolicy, points: number): string {
  let tier = policy.tiers[0]?.name ?? 'none';
  for (const t of policy.tiers) if (points >= t.minPoints) tier = t.name;
  return tier;
}

/**
 * RFM score 1–5 by quintile: `below` customers have a strictly worse value, `total` have any. Ties share a score.
 * Recency callers pass "customers who bought longer ago" as `below`.
 */
export function quintileScore(below: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(5, 1 + Math.floor((5 * below) / total));
}

export interface PurchaseIntervals {
  readonly orders: number;
  readonly meanDays: number | null;
  readonly medianDays: number | null;
  /** Last purchase + median interval; null with fewer than two orders. */
  readonly nextExpectedAt: string | null;
}

const DAY_MS = 86_400_000;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Days between consecutive orders (by order time; orders at the same instant count as one visit each). */
export function purchaseIntervals(orderTimes: readonly string[]): PurchaseIntervals {
  const times = orderTimes.map((t) => Date.parse(t)).sort((a, b) => a - b);
  if (times.length < 2) return { orders: times.length, meanDays: null, medianDays: null, nextExpectedAt: null };
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(((times[i] ?? 0) - (times[i - 1] ?? 0)) / DAY_MS);
  const sorted = [...gaps].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const last = times[times.length - 1] ?? 0;
  return {
    orders: times.length,
    meanDays: round2(mean),
    medianDays: round2(median),
    nextExpectedAt: new Date(last + median * DAY_MS).toISOString(),
  };
}

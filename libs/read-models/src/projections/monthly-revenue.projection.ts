import { add, rescale, subtract, type Money } from '@crm/domain';
import type { DocumentChange, ProjectedEvent, Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { asCrmEvent } from './crm-event';

export const MONTHLY_REVENUE = 'monthly_revenue';

/**
 * Revenue per calendar month (UTC) and currency: `gross` = totals of the purchases that happened in the month,
 * `returns` = totals of the returns that happened in the month (whatever month their order was in), `net` = gross −
 * returns. Exact Money throughout (docs/analytics.md).
 */
export interface MonthlyRevenueDoc extends Doc {
  period: string;
  currency: string;
  gross: Money;
  returns: Money;
  net: Money;
  orders: number;
  returnCount: number;
}

export const monthlyRevenueId = (period: string, currency: string): string => `${period}:${currency}`;

/** `2011-03-31T23:30:00.000Z` → `2011-03`: the month of the instant in UTC. */
export const monthOf = (instant: string): string => instant.slice(0, 7);

function plus(a: Money, b: Money): Money {
  const scale = Math.max(a.scale, b.scale);
  return add(rescale(a, scale), rescale(b, scale));
}

function zeroLike(m: Money): Money {
  return { amount: 0, scale: m.scale, currency: m.currency };
}

function bump(current: Doc | null, period: string, money: Money, kind: 'purchase' | 'return'): Omit<MonthlyRevenueDoc, '_id' | '_position'> {
  const doc = current as MonthlyRevenueDoc | null;
  const gross = doc?.gross ?? zeroLike(money);
  const returns = doc?.returns ?? zeroLike(money);
  const nextGross = kind === 'purchase' ? plus(gross, money) : gross;
  const nextReturns = kind === 'return' ? plus(returns, money) : returns;
  // One scale for the three amounts of a month: the largest of its parts so far.
  const scale = Math.max(nextGross.scale, nextReturns.scale);
  const grossAt = rescale(nextGross, scale);
  const returnsAt = rescale(nextReturns, scale);
  return {
    period,
    currency: money.currency,
    gross: grossAt,
    returns: returnsAt,
    net: subtract(grossAt, returnsAt),
    orders: (doc?.orders ?? 0) + (kind === 'purchase' ? 1 : 0),
    returnCount: (doc?.returnCount ?? 0) + (kind === 'return' ? 1 : 0),
  };
}

export const monthlyRevenueProjection: Projection = {
  name: 'monthly_revenue',
  version: 1,
  eventTypes: ['PurchaseRecorded', 'ReturnRecorded'],
  opens: {},
  collections: [{ name: MONTHLY_REVENUE, indexes: [{ fields: [['period', 1], ['currency', 1]] }] }],
  changes(event: ProjectedEvent): DocumentChange[] {
    const e = asCrmEvent(event);
    if (e.type !== 'PurchaseRecorded' && e.type !== 'ReturnRecorded') return [];
    const period = monthOf(e.data.occurredAt);
    const kind = e.type === 'PurchaseRecorded' ? 'purchase' : 'return';
    return [{
      collection: MONTHLY_REVENUE,
      id: monthlyRevenueId(period, e.data.total.currency),
      evolve: (current) => bump(current, period, e.data.total, kind),
    }];
  },
};

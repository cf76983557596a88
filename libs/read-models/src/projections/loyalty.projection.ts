import { add, ORDER_EVENT_TYPES, rescale, type Money } from '@crm/domain';
import type { DocumentChange, ProjectedEvent, Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { asCrmEvent } from './crm-event';

export const LOYALTY = 'loyalty';

export interface SpendTotals {
  gross: Money;
  returns: Money;
  net: Money;
}

export interface LoyaltyDoc extends Doc {
  customerId: string;
  /** Per currency; points and RFM use the loyalty policy's currency only (see docs/read-models.md). */
  spend: Record<string, SpendTotals>;
  /** Distinct orders with a purchase (frequency), with their business time (recency, intervals). */
  orders: Array<{ orderId: string; occurredAt: string }>;
  orderCount: number;
  firstPurchaseAt: string;
  lastPurchaseAt: string;
  returnCount: number;
  /** Net spend in major units per currency, as numbers: sort keys only, never used for amounts. */
  netValue: Record<string, number>;
}

function plus(a: Money, b: Money): Money {
  const scale = Math.max(a.scale, b.scale);
  return add(rescale(a, scale), rescale(b, scale));
}

const negate = (m: Money): Money => ({ ...m, amount: -m.amount });
const asNumber = (m: Money): number => m.amount / 10 ** m.scale;

function addSpend(doc: Partial<LoyaltyDoc>, money: Money, kind: 'purchase' | 'return'): Pick<LoyaltyDoc, 'spend' | 'netValue'> {
  const zeroOf = (c: string): Money => ({ amount: 0, scale: money.scale, currency: c });
  const current = doc.spend?.[money.currency] ?? { gross: zeroOf(money.currency), returns: zeroOf(money.currency), net: zeroOf(money.currency) };
  const next: SpendTotals =
    kind === 'purchase'
      ? { ...current, gross: plus(current.gross, money), net: plus(current.net, money) }
      : { ...current, returns: plus(current.returns, money), net: plus(current.net, negate(money)) };
  return {
    spend: { ...(doc.spend ?? {}), [money.currency]: next },
    netValue: { ...(doc.netValue ?? {}), [money.currency]: asNumber(next.net) },
  };
}

/** Spend, orders and returns per customer: the facts points, tiers, RFM and purchase intervals are computed from. */
export const loyaltyProjection: Projection = {
  name: 'loyalty',
  version: 1,
  eventTypes: ORDER_EVENT_TYPES,
  collections: [
    {
      name: LOYALTY,
      indexes: [
        { fields: [['netValue.GBP', -1]] },
        { fields: [['orderCount', 1]] },
        { fields: [['lastPurchaseAt', 1]] },
      ],
    },
  ],
  changes(event: ProjectedEvent): DocumentChange[] {
    const e = asCrmEvent(event);
    if (e.type === 'PurchaseRecorded') {
      const { customerId, orderId, occurredAt, total } = e.data;
      return [{
        collection: LOYALTY,
        id: customerId,
        evolve: (current) => {
          const doc = (current ?? { customerId, orders: [], returnCount: 0 }) as Partial<LoyaltyDoc>;
          const orders = [...(doc.orders ?? []), { orderId, occurredAt }].sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1));
          return {
            ...doc,
            customerId,
            ...addSpend(doc, total, 'purchase'),
            orders,
            orderCount: orders.length,
            firstPurchaseAt: orders[0]?.occurredAt ?? occurredAt,
            lastPurchaseAt: orders[orders.length - 1]?.occurredAt ?? occurredAt,
            returnCount: doc.returnCount ?? 0,
          };
        },
      }];
    }
    if (e.type === 'ReturnRecorded') {
      const { customerId, total } = e.data;
      return [{
        collection: LOYALTY,
        id: customerId,
        evolve: (current) => {
          const doc = (current ?? { customerId, orders: [], orderCount: 0, returnCount: 0 }) as Partial<LoyaltyDoc>;
          return { ...doc, customerId, ...addSpend(doc, total, 'return'), returnCount: (doc.returnCount ?? 0) + 1 };
        },
      }];
    }
    return [];
  },
};

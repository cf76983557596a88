import {
  add, LOYALTY_POLICY_EVENT_TYPES, ORDER_EVENT_TYPES, rescale, utcDay, valueSpend, type LoyaltyPolicy, type LoyaltyPolicyPublished, type Money,
} from '@crm/domain';
import type { Change, ProjectedEvent, Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { asCrmEvent } from './crm-event';

export const LOYALTY = 'loyalty';
/** The loyalty policy in force as of the projection's position: one document, POLICY_DOC, absent until one is published. */
export const LOYALTY_POLICY_IN_FORCE = 'loyalty_policy';
export const POLICY_DOC = 'current';

export interface SpendTotals {
  gross: Money;
  returns: Money;
  net: Money;
}

export interface LoyaltyDoc extends Doc {
  customerId: string;
  /** Per currency as bought; points and RFM count them in the points currency at the policy's rates (`valued`). */
  spend: Record<string, SpendTotals>;
  /** Distinct orders with a purchase (frequency), with their business time (recency, intervals). */
  orders: Array<{ orderId: string; occurredAt: string }>;
  orderCount: number;
  firstPurchaseAt: string;
  lastPurchaseAt: string;
  returnCount: number;
  /** Net spend in major units per currency, as numbers: sort keys only, never used for amounts. */
  netValue: Record<string, number>;
  /**
   * Net spend per currency per UTC day of purchase; a return counts on its purchase's day (docs/decisions.md,
   * "Loyalty across currencies"). What the policy's rates apply to.
   */
  netByDay: Record<string, Record<string, Money>>;
  /** Spend valued under the published policy in force (absent while none is published: the configured one applies). */
  valued?: LoyaltyValuation;
}

export interface LoyaltyValuation {
  policyVersion: string;
  /** The points currency. */
  currency: string;
  /** Net spend of every currency that has a rate for its day, in `currency`. */
  net: Money;
  /** `net` in major units as a number: the sort key of top spenders and RFM monetary, never used for amounts. */
  value: number;
  /** Per currency, net spend on days without a rate, in its own currency. */
  unconverted: Money[];
}

/** The published policy in force, as the projection keeps it. */
export interface LoyaltyPolicyDoc extends Doc {
  policy: LoyaltyPolicy;
}

/** The valuation of a customer's spend under `policy` (published or configured): points and RFM monetary use its `net`. */
export function valuationOf(policy: LoyaltyPolicy, netByDay: LoyaltyDoc['netByDay'] | undefined): LoyaltyValuation {
  const { net, unconverted } = valueSpend(policy, netByDay ?? {});
  return { policyVersion: policy.version, currency: policy.currency, net, value: asNumber(net), unconverted };
}

const POLICY_READ = [{ collection: LOYALTY_POLICY_IN_FORCE, id: POLICY_DOC }] as const;

/** The valuation under the published policy read beside the change, or nothing while none is published. */
function revalued(netByDay: LoyaltyDoc['netByDay'], read: ReadonlyArray<Doc | null> = []): { valued?: LoyaltyValuation } {
  const policyDoc = read[0] as LoyaltyPolicyDoc | null | undefined;
  return policyDoc ? { valued: valuationOf(policyDoc.policy, netByDay) } : {};
}

function addByDay(doc: Partial<LoyaltyDoc>, money: Money, day: string, sign: 1 | -1): LoyaltyDoc['netByDay'] {
  const days = doc.netByDay?.[money.currency] ?? {};
  const current = days[day] ?? { amount: 0, scale: money.scale, currency: money.currency };
  const next = plus(current, sign === 1 ? money : negate(money));
  return { ...(doc.netByDay ?? {}), [money.currency]: { ...days, [day]: next } };
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
  // v2: spend per day and the valuation under the published loyalty policy (rates), issue 16.
  version: 2,
  eventTypes: [...ORDER_EVENT_TYPES, ...LOYALTY_POLICY_EVENT_TYPES],
  opens: {},
  collections: [
    {
      name: LOYALTY,
      indexes: [
        { fields: [['netValue.GBP', -1]] },
        { fields: [['valued.value', -1]] },
        { fields: [['orderCount', 1]] },
        { fields: [['lastPurchaseAt', 1]] },
      ],
    },
    { name: LOYALTY_POLICY_IN_FORCE, indexes: [] },
  ],
  changes(event: ProjectedEvent): Change[] {
    if (event.type === 'LoyaltyPolicyPublished') {
      // Re-values every customer under the new version: rates may have been added for days already projected, and
      // a rebuild, which meets the same events in the same order, ends with the same valuation (docs/decisions.md).
      const { policy } = (event.data as LoyaltyPolicyPublished['data']);
      return [
        { collection: LOYALTY_POLICY_IN_FORCE, id: POLICY_DOC, evolve: () => ({ policy }) },
        { collection: LOYALTY, where: {}, evolve: (doc: Doc) => ({ ...doc, valued: valuationOf(policy, (doc as Partial<LoyaltyDoc>).netByDay) }) },
      ];
    }
    const e = asCrmEvent(event);
    if (e.type === 'PurchaseRecorded') {
      const { customerId, orderId, occurredAt, total } = e.data;
      return [{
        collection: LOYALTY,
        id: customerId,
        reads: POLICY_READ,
        evolve: (current, read) => {
          const doc = (current ?? { customerId, orders: [], returnCount: 0 }) as Partial<LoyaltyDoc>;
          const orders = [...(doc.orders ?? []), { orderId, occurredAt }].sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1));
          const netByDay = addByDay(doc, total, utcDay(occurredAt), 1);
          return {
            ...doc,
            customerId,
            ...addSpend(doc, total, 'purchase'),
            netByDay,
            ...revalued(netByDay, read),
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
      const { customerId, orderId, occurredAt, total } = e.data;
      return [{
        collection: LOYALTY,
        id: customerId,
        reads: POLICY_READ,
        evolve: (current, read) => {
          const doc = (current ?? { customerId, orders: [], orderCount: 0, returnCount: 0 }) as Partial<LoyaltyDoc>;
          // Clawed back at the rate of the purchase's day, so a return takes back exactly what its purchase earned.
          const purchasedAt = doc.orders?.find((o) => o.orderId === orderId)?.occurredAt ?? occurredAt;
          const netByDay = addByDay(doc, total, utcDay(purchasedAt), -1);
          return {
            ...doc, customerId, ...addSpend(doc, total, 'return'), netByDay, ...revalued(netByDay, read), returnCount: (doc.returnCount ?? 0) + 1,
          };
        },
      }];
    }
    return [];
  },
};

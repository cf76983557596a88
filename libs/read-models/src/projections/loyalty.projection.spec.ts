import { describe, expect, it } from '@jest/globals';
import {
  CUSTOMER_ID,
  complaintFiled,
  contactLogged,
  customerRegistered,
  history,
  type Fact,
  loyaltyPolicyPublished,
  money,
  project,
  purchaseRecorded,
  returnRecorded,
} from '../../test-support/project';
import { DEFAULT_LOYALTY_POLICY, type LoyaltyPolicy } from '@crm/domain';
import { LOYALTY, LOYALTY_POLICY_IN_FORCE, loyaltyProjection, POLICY_DOC } from './loyalty.projection';

const MAR_05 = '2026-03-05T12:00:00.000Z';
const MAR_10 = '2026-03-10T12:00:00.000Z';
const MAR_12 = '2026-03-12T12:00:00.000Z';

describe('loyalty projection', () => {
  it('starts a customer at their first purchase, in the purchase’s own scale', () => {
    const loyalty = project(loyaltyProjection, history(purchaseRecorded(MAR_10, money(1, 3), { orderId: 'o-1' })));

    expect(loyalty.get(LOYALTY, CUSTOMER_ID)).toEqual({
      _id: CUSTOMER_ID,
      _position: 1,
      customerId: CUSTOMER_ID,
      spend: { GBP: { gross: money(1, 3), returns: money(0, 3), net: money(1, 3) } },
      netValue: { GBP: 0.001 },
      netByDay: { GBP: { '2026-03-10': money(1, 3) } },
      orders: [{ orderId: 'o-1', occurredAt: MAR_10 }],
      orderCount: 1,
      firstPurchaseAt: MAR_10,
      lastPurchaseAt: MAR_10,
      returnCount: 0,
    });
  });

  it('adds purchases of different scales exactly, at the larger scale, and sorts orders by business time', () => {
    const loyalty = project(loyaltyProjection, history(
      purchaseRecorded(MAR_10, money(1, 3), { orderId: 'o-1' }),   // 0.001
      purchaseRecorded(MAR_05, money(255, 2), { orderId: 'o-2' }), // 2.55, happened earlier, recorded later
    ));

    expect(loyalty.get(LOYALTY, CUSTOMER_ID)).toEqual({
      _id: CUSTOMER_ID,
      _position: 2,
      customerId: CUSTOMER_ID,
      spend: { GBP: { gross: money(2551, 3), returns: money(0, 3), net: money(2551, 3) } },
      netValue: { GBP: 2.551 },
      netByDay: { GBP: { '2026-03-10': money(1, 3), '2026-03-05': money(255, 2) } },
      orders: [{ orderId: 'o-2', occurredAt: MAR_05 }, { orderId: 'o-1', occurredAt: MAR_10 }],
      orderCount: 2,
      firstPurchaseAt: MAR_05,
      lastPurchaseAt: MAR_10,
      returnCount: 0,
    });
  });

  it('keeps currencies apart and lets a return claw back net spend in its own currency only', () => {
    const loyalty = project(loyaltyProjection, history(
      purchaseRecorded(MAR_10, money(1, 3), { orderId: 'o-1' }),
      purchaseRecorded(MAR_05, money(255, 2), { orderId: 'o-2' }),
      purchaseRecorded(MAR_12, money(1999, 2, 'EUR'), { orderId: 'o-3' }),
      returnRecorded('2026-03-15T12:00:00.000Z', money(255, 2), { orderId: 'o-2', returnId: 'r-1' }),
    ));

    expect(loyalty.get(LOYALTY, CUSTOMER_ID)).toEqual({
      _id: CUSTOMER_ID,
      _position: 4,
      customerId: CUSTOMER_ID,
      spend: {
        GBP: { gross: money(2551, 3), returns: money(2550, 3), net: money(1, 3) },
        EUR: { gross: money(1999, 2, 'EUR'), returns: money(0, 2, 'EUR'), net: money(1999, 2, 'EUR') },
      },
      netValue: { GBP: 0.001, EUR: 19.99 },
      // The return of o-2 counts on o-2's day (5 March), not on its own (15 March).
      netByDay: { GBP: { '2026-03-10': money(1, 3), '2026-03-05': money(0, 2) }, EUR: { '2026-03-12': money(1999, 2, 'EUR') } },
      orders: [
        { orderId: 'o-2', occurredAt: MAR_05 },
        { orderId: 'o-1', occurredAt: MAR_10 },
        { orderId: 'o-3', occurredAt: MAR_12 },
      ],
      orderCount: 3,
      firstPurchaseAt: MAR_05,
      lastPurchaseAt: MAR_12,
      returnCount: 1,
    });
  });

  it('lets returns take net spend below zero and counts every return', () => {
    const loyalty = project(loyaltyProjection, history(
      purchaseRecorded(MAR_10, money(450, 2), { orderId: 'o-1' }),
      returnRecorded('2026-03-11T12:00:00.000Z', money(300, 2), { orderId: 'o-1', returnId: 'r-1' }),
      returnRecorded('2026-03-12T12:00:00.000Z', money(1505, 3), { orderId: 'o-1', returnId: 'r-2' }),
    ));

    expect(loyalty.get(LOYALTY, CUSTOMER_ID)).toEqual({
      _id: CUSTOMER_ID,
      _position: 3,
      customerId: CUSTOMER_ID,
      spend: { GBP: { gross: money(450, 2), returns: money(4505, 3), net: money(-5, 3) } },
      netValue: { GBP: -0.005 },
      netByDay: { GBP: { '2026-03-10': money(-5, 3) } },
      orders: [{ orderId: 'o-1', occurredAt: MAR_10 }],
      orderCount: 1,
      firstPurchaseAt: MAR_10,
      lastPurchaseAt: MAR_10,
      returnCount: 2,
    });
  });

  it('keeps one document per customer and ignores customer and complaint events', () => {
    const loyalty = project(loyaltyProjection, history(
      customerRegistered(MAR_05),
      contactLogged(MAR_05, { contactId: 'c-1' }),
      complaintFiled(MAR_05),
      purchaseRecorded(MAR_10, money(100, 2), { orderId: 'o-1' }),
      purchaseRecorded(MAR_12, money(7, 0, 'JPY'), { orderId: 'o-2', customerId: 'cust-2' }),
    ));

    expect(loyalty.all(LOYALTY)).toEqual([
      {
        _id: CUSTOMER_ID, _position: 4, customerId: CUSTOMER_ID,
        spend: { GBP: { gross: money(100, 2), returns: money(0, 2), net: money(100, 2) } }, netValue: { GBP: 1 },
        netByDay: { GBP: { '2026-03-10': money(100, 2) } },
        orders: [{ orderId: 'o-1', occurredAt: MAR_10 }], orderCount: 1, firstPurchaseAt: MAR_10, lastPurchaseAt: MAR_10, returnCount: 0,
      },
      {
        _id: 'cust-2', _position: 5, customerId: 'cust-2',
        spend: { JPY: { gross: money(7, 0, 'JPY'), returns: money(0, 0, 'JPY'), net: money(7, 0, 'JPY') } }, netValue: { JPY: 7 },
        netByDay: { JPY: { '2026-03-12': money(7, 0, 'JPY') } },
        orders: [{ orderId: 'o-2', occurredAt: MAR_12 }], orderCount: 1, firstPurchaseAt: MAR_12, lastPurchaseAt: MAR_12, returnCount: 0,
      },
    ]);
  });
});

describe('loyalty projection across currencies', () => {
  const EUR_085 = { currency: 'EUR', rate: '0.85', from: '2026-01-01' };
  const withEuro: LoyaltyPolicy = { ...DEFAULT_LOYALTY_POLICY, version: 'loyalty-eur', rates: [EUR_085] };
  const withDollar: LoyaltyPolicy = { ...withEuro, version: 'loyalty-usd', rates: [EUR_085, { currency: 'USD', rate: '0.80', from: '2026-03-01' }] };
  const JAN_01 = '2026-01-01T00:00:00.000Z';
  const valuedOf = (facts: Fact[]): unknown => project(loyaltyProjection, history(...facts)).get(LOYALTY, CUSTOMER_ID)?.['valued'];

  it('given a published rate, when 900 EUR are bought, then they are valued at 765.00 GBP under that version', () => {
    expect(valuedOf([loyaltyPolicyPublished(JAN_01, withEuro), purchaseRecorded(MAR_10, money(90000, 2, 'EUR'), { orderId: 'o-1' })])).toEqual({
      policyVersion: 'loyalty-eur', currency: 'GBP', net: money(76500, 2), value: 765, unconverted: [],
    });
  });

  it('keeps the policy in force in its own collection', () => {
    const docs = project(loyaltyProjection, history(loyaltyPolicyPublished(JAN_01, withEuro), loyaltyPolicyPublished(MAR_05, withDollar, 'loyalty-eur')));
    expect(docs.get(LOYALTY_POLICY_IN_FORCE, POLICY_DOC)).toEqual({ _id: POLICY_DOC, _position: 2, policy: withDollar });
  });

  it('given a currency without a rate, then its spend is not converted and shown in its own currency', () => {
    expect(valuedOf([
      loyaltyPolicyPublished(JAN_01, withEuro),
      purchaseRecorded(MAR_10, money(1000, 2), { orderId: 'o-1' }),
      purchaseRecorded(MAR_12, money(5000, 2, 'USD'), { orderId: 'o-2' }),
    ])).toEqual({ policyVersion: 'loyalty-eur', currency: 'GBP', net: money(1000, 2), value: 10, unconverted: [money(5000, 2, 'USD')] });
  });

  it('claws a return back at the rate of its purchase’s day, so a full return leaves nothing, even across a rate change', () => {
    const euroUntilMarch: LoyaltyPolicy = { ...withEuro, rates: [EUR_085, { currency: 'EUR', rate: '0.95', from: '2026-03-11' }] };
    expect(valuedOf([
      loyaltyPolicyPublished(JAN_01, euroUntilMarch),
      purchaseRecorded(MAR_10, money(90000, 2, 'EUR'), { orderId: 'o-1' }),
      returnRecorded(MAR_12, money(30000, 2, 'EUR'), { orderId: 'o-1', returnId: 'r-1' }),
    ])).toEqual({ policyVersion: 'loyalty-eur', currency: 'GBP', net: money(51000, 2), value: 510, unconverted: [] }); // 600 × 0.85
  });

  it('re-values spend projected before a rate was published: the live result is the one a rebuild reaches', () => {
    const dollarsFirst = [
      loyaltyPolicyPublished(JAN_01, withEuro),
      purchaseRecorded(MAR_10, money(5000, 2, 'USD'), { orderId: 'o-1' }),
      loyaltyPolicyPublished(MAR_12, withDollar, 'loyalty-eur'),
    ];
    expect(valuedOf(dollarsFirst)).toEqual({ policyVersion: 'loyalty-usd', currency: 'GBP', net: money(4000, 2), value: 40, unconverted: [] });
    // The projection as an incremental run leaves it (event by event) equals one pass over the whole log.
    const events = history(...dollarsFirst);
    const stepwise = events.reduce((docs, event) => docs.apply([event]), project(loyaltyProjection, []));
    expect(stepwise.snapshot()).toEqual(project(loyaltyProjection, events).snapshot());
  });

  it('values nothing while no policy is published (the configured policy applies at query time)', () => {
    expect(valuedOf([purchaseRecorded(MAR_10, money(90000, 2, 'EUR'), { orderId: 'o-1' })])).toBeUndefined();
  });
});

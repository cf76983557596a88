import { describe, expect, it } from '@jest/globals';
import {
  CUSTOMER_ID,
  complaintFiled,
  contactLogged,
  customerRegistered,
  history,
  money,
  project,
  purchaseRecorded,
  returnRecorded,
} from '../../test-support/project';
import { LOYALTY, loyaltyProjection } from './loyalty.projection';

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
        orders: [{ orderId: 'o-1', occurredAt: MAR_10 }], orderCount: 1, firstPurchaseAt: MAR_10, lastPurchaseAt: MAR_10, returnCount: 0,
      },
      {
        _id: 'cust-2', _position: 5, customerId: 'cust-2',
        spend: { JPY: { gross: money(7, 0, 'JPY'), returns: money(0, 0, 'JPY'), net: money(7, 0, 'JPY') } }, netValue: { JPY: 7 },
        orders: [{ orderId: 'o-2', occurredAt: MAR_12 }], orderCount: 1, firstPurchaseAt: MAR_12, lastPurchaseAt: MAR_12, returnCount: 0,
      },
    ]);
  });
});

import { describe, expect, it } from '@jest/globals';
import { history, money, project, purchaseRecorded, returnRecorded } from '../../test-support/project';
import { MONTHLY_REVENUE, monthlyRevenueProjection } from './monthly-revenue.projection';

describe('monthly revenue projection', () => {
  it('adds purchases of a month exactly, at the largest scale, and counts orders', () => {
    const docs = project(monthlyRevenueProjection, history(
      purchaseRecorded('2011-03-01T09:00:00.000Z', money(255, 2), { orderId: 'o-1' }), // 2.55
      purchaseRecorded('2011-03-31T23:30:00.000Z', money(1, 3), { orderId: 'o-2' }), // 0.001, 00:30 BST on 1 April
    ));
    expect(docs.all(MONTHLY_REVENUE)).toEqual([{
      _id: '2011-03:GBP', _position: 2, period: '2011-03', currency: 'GBP',
      gross: money(2551, 3), returns: money(0, 3), net: money(2551, 3), orders: 2, returnCount: 0,
    }]);
  });

  it('counts a return in the month it happened, not the month of its order, and nets it out there', () => {
    const docs = project(monthlyRevenueProjection, history(
      purchaseRecorded('2011-01-20T10:00:00.000Z', money(1000, 2), { orderId: 'o-1' }),
      returnRecorded('2011-02-02T10:00:00.000Z', money(250, 2), { orderId: 'o-1' }),
    ));
    expect(docs.get(MONTHLY_REVENUE, '2011-01:GBP')).toMatchObject({ gross: money(1000, 2), returns: money(0, 2), net: money(1000, 2), orders: 1 });
    expect(docs.get(MONTHLY_REVENUE, '2011-02:GBP')).toMatchObject({
      gross: money(0, 2), returns: money(250, 2), net: money(-250, 2), orders: 0, returnCount: 1,
    });
  });

  it('keeps currencies apart', () => {
    const docs = project(monthlyRevenueProjection, history(
      purchaseRecorded('2011-01-20T10:00:00.000Z', money(1000, 2), { orderId: 'o-1' }),
      purchaseRecorded('2011-01-21T10:00:00.000Z', money(700, 2, 'EUR'), { orderId: 'o-2' }),
    ));
    expect(docs.all(MONTHLY_REVENUE).map((d) => [d._id, d['net']])).toEqual([
      ['2011-01:EUR', money(700, 2, 'EUR')],
      ['2011-01:GBP', money(1000, 2)],
    ]);
  });
});

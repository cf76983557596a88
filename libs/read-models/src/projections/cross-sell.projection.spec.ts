import { describe, expect, it } from '@jest/globals';
import { history, money, project, purchaseRecorded } from '../../test-support/project';
import { CROSS_SELL_ORDERS, CROSS_SELL_SKUS, CROSS_SELL_TOTALS, crossSellProjection, orderIdsOf, type CrossSellSkuDoc } from './cross-sell.projection';

const line = (sku: string) => ({ sku, description: sku, quantity: 1, unitPrice: money(100, 2), lineTotal: money(100, 2) });
const order = (orderId: string, skus: string[]) =>
  purchaseRecorded('2011-01-01T10:00:00.000Z', money(100 * skus.length, 2), { orderId, lines: skus.map(line) });

describe('cross-sell projection', () => {
  const docs = project(crossSellProjection, history(
    order('o-1', ['MUG', 'TEAPOT', 'MUG']), // the same sku on two lines counts once
    order('o-2', ['MUG', 'SPOON']),
    order('o-3', ['SPOON']),
  ));

  it('keeps each order’s distinct skus', () => {
    expect(docs.get(CROSS_SELL_ORDERS, 'o-1')).toMatchObject({ orderId: 'o-1', skus: ['MUG', 'TEAPOT'] });
  });

  it('keeps, per sku, the orders that contain it', () => {
    expect(docs.all(CROSS_SELL_SKUS).map((d) => [d._id, d['orderCount'], orderIdsOf(d as CrossSellSkuDoc)])).toEqual([
      ['MUG', 2, ['o-1', 'o-2']],
      ['SPOON', 2, ['o-2', 'o-3']],
      ['TEAPOT', 1, ['o-1']],
    ]);
  });

  it('counts every order', () => {
    expect(docs.get(CROSS_SELL_TOTALS, 'all')).toMatchObject({ orderCount: 3 });
  });
});

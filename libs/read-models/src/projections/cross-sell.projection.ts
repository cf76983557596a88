import type { DocumentChange, ProjectedEvent, Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { asCrmEvent } from './crm-event';

/**
 * Baskets for cross-sell (docs/analytics.md): per sku the orders that contain it, per order its distinct skus, and
 * the number of orders. Pairs are counted at query time for the one sku asked about, so nothing here grows with the
 * square of the catalogue. A sku document holds every order id containing that sku: ~2,200 ids (≈ 30 kB) for the most
 * common sku of the online-retail history; the limit is the store's document size (stated in docs/analytics.md).
 */
export const CROSS_SELL_SKUS = 'cross_sell_skus';
export const CROSS_SELL_ORDERS = 'cross_sell_orders';
export const CROSS_SELL_TOTALS = 'cross_sell_totals';
export const CROSS_SELL_TOTALS_ID = 'all';

export interface CrossSellSkuDoc extends Doc {
  sku: string;
  orderCount: number;
  /**
   * The order ids, space-separated (ids never hold spaces: the API's id pattern). One string rather than an array:
   * the document is rewritten whenever an order adds to it, and copying, serialising and parsing one string costs a
   * fraction of an array of thousands of strings (it made the rebuild of this projection ~4× faster).
   */
  orderIds: string;
}

/** The order ids of a sku document. */
export const orderIdsOf = (doc: Pick<CrossSellSkuDoc, 'orderIds'> | null): string[] => (doc?.orderIds ? doc.orderIds.split(' ') : []);

export interface CrossSellOrderDoc extends Doc {
  orderId: string;
  skus: string[];
}

export interface CrossSellTotalsDoc extends Doc {
  orderCount: number;
}

export const crossSellProjection: Projection = {
  name: 'cross_sell',
  version: 1,
  eventTypes: ['PurchaseRecorded'],
  opens: {},
  collections: [
    { name: CROSS_SELL_SKUS, indexes: [{ fields: [['orderCount', -1]] }] },
    { name: CROSS_SELL_ORDERS, indexes: [] },
    { name: CROSS_SELL_TOTALS, indexes: [] },
  ],
  changes(event: ProjectedEvent): DocumentChange[] {
    const e = asCrmEvent(event);
    if (e.type !== 'PurchaseRecorded') return [];
    const { orderId } = e.data;
    const skus = [...new Set(e.data.lines.map((line) => line.sku))].sort();
    if (skus.length === 0) return [];
    // The runner applies an event to a document at most once (its position guard), and an order stream holds one
    // PurchaseRecorded, so appending the order id needs no membership test.
    return [
      { collection: CROSS_SELL_ORDERS, id: orderId, replaces: true, evolve: () => ({ orderId, skus }) },
      ...skus.map((sku): DocumentChange => ({
        collection: CROSS_SELL_SKUS,
        id: sku,
        evolve: (current) => {
          const doc = current as CrossSellSkuDoc | null;
          return { sku, orderCount: (doc?.orderCount ?? 0) + 1, orderIds: doc?.orderIds ? `${doc.orderIds} ${orderId}` : orderId };
        },
      })),
      {
        collection: CROSS_SELL_TOTALS,
        id: CROSS_SELL_TOTALS_ID,
        evolve: (current) => ({ orderCount: ((current as CrossSellTotalsDoc | null)?.orderCount ?? 0) + 1 }),
      },
    ];
  },
};

import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import { parseMoney } from '../shared/money';
import type { Money } from '../shared/money';
import type { RecordPurchase, RecordReturn } from './order-commands';
import { orderDecider } from './order-decider';
import type { PurchaseRecorded, ReturnLine, ReturnRecorded } from './order-events';

const spec = DeciderSpecification.for(orderDecider);
const gbp = (value: string): Money => parseMoney(value, 'GBP');
const PURCHASED_AT = '2026-02-14T10:00:00.000Z';
const RETURNED_AT = '2026-02-20T16:00:00.000Z';

function recordPurchase(lines: RecordPurchase['data']['lines'], overrides: Partial<RecordPurchase['data']> = {}): RecordPurchase {
  return {
    type: 'RecordPurchase',
    data: { orderId: 'INV-536365', customerId: 'cust-1', occurredAt: PURCHASED_AT, currency: 'GBP', lines, ...overrides },
  };
}

/** The decided purchase, used as history for the return specs. */
function purchased(lines: RecordPurchase['data']['lines']): PurchaseRecorded {
  const [event] = orderDecider.decide(recordPurchase(lines), orderDecider.initialState(), new Date(PURCHASED_AT));
  if (event?.type !== 'PurchaseRecorded') throw new Error('expected a purchase');
  return event;
}

function recordReturn(lines: RecordReturn['data']['lines'], returnId = 'ret-1'): RecordReturn {
  return { type: 'RecordReturn', data: { orderId: 'INV-536365', returnId, occurredAt: RETURNED_AT, reason: 'damaged', lines } };
}

function returned(returnId: string, lines: ReturnLine[], total: Money): ReturnRecorded {
  return {
    type: 'ReturnRecorded',
    data: { orderId: 'INV-536365', customerId: 'cust-1', returnId, occurredAt: RETURNED_AT, reason: 'damaged', lines, total },
  };
}

const mug = { sku: 'MUG', description: 'White mug', quantity: 6, unitPrice: gbp('4.50') };
const screw = { sku: 'SCREW', description: 'Wood screw', quantity: 3, unitPrice: gbp('0.001') };

describe('RecordPurchase', () => {
  it('totals lines of mixed scales exactly, at the largest scale: 3 × 0.001 + 2 × 4.50 = 9.003', () => {
    spec
      .given([])
      .when(recordPurchase([screw, { ...mug, quantity: 2 }]))
      .then([
        {
          type: 'PurchaseRecorded',
          data: {
            orderId: 'INV-536365',
            customerId: 'cust-1',
            occurredAt: PURCHASED_AT,
            currency: 'GBP',
            lines: [
              { ...screw, lineTotal: { amount: 3, scale: 3, currency: 'GBP' } },
              { ...mug, quantity: 2, lineTotal: { amount: 900, scale: 2, currency: 'GBP' } },
            ],
            total: { amount: 9003, scale: 3, currency: 'GBP' },
          },
        },
      ]);
  });

  it('accepts the same sku on several lines, as real invoices have', () => {
    spec
      .given([])
      .when(recordPurchase([mug, { ...mug, quantity: 1, unitPrice: gbp('3.99') }]))
      .thenState((state, events) => {
        expect(events[0]).toMatchObject({ data: { total: { amount: 3099, scale: 2 } } });
        expect(state.exists && state.lines.map((line) => [line.sku, line.quantity])).toEqual([
          ['MUG', 6],
          ['MUG', 1],
        ]);
      });
  });

  it('refuses an order id that exists', () => {
    spec.given([purchased([mug])]).when(recordPurchase([mug])).thenThrows('order-already-exists', { orderId: 'INV-536365' });
  });

  it.each([0, -1, 1.5])('refuses a quantity of %p', (quantity) => {
    spec.given([]).when(recordPurchase([{ ...mug, quantity }])).thenThrows('invalid-money', { reason: 'invalid-quantity', sku: 'MUG', quantity });
  });

  it('refuses a unit price in another currency', () => {
    spec
      .given([])
      .when(recordPurchase([{ ...mug, unitPrice: parseMoney('4.50', 'EUR') }]))
      .thenThrows('invalid-money', { reason: 'currency-mismatch', sku: 'MUG' });
  });

  it('refuses a malformed unit price', () => {
    spec
      .given([])
      .when(recordPurchase([{ ...mug, unitPrice: { amount: 4.5, scale: 2, currency: 'GBP' } }]))
      .thenThrows('invalid-money', { reason: 'unsafe-amount' });
  });

  it('refuses a line total that is not a safe integer', () => {
    spec
      .given([])
      .when(recordPurchase([{ ...mug, quantity: 9_000_000_000_000, unitPrice: gbp('1000.00') }]))
      .thenThrows('invalid-money', { reason: 'unsafe-amount' });
  });
});

describe('RecordReturn', () => {
  it('refunds at the unit price paid', () => {
    spec
      .given([purchased([screw, mug])])
      .when(recordReturn([{ sku: 'MUG', quantity: 2 }]))
      .then([returned('ret-1', [{ sku: 'MUG', quantity: 2, unitPrice: gbp('4.50'), lineTotal: gbp('9.00') }], gbp('9.00'))]);
  });

  it('allows returning everything that was bought', () => {
    spec
      .given([purchased([screw, mug])])
      .when(recordReturn([{ sku: 'SCREW', quantity: 3 }, { sku: 'MUG', quantity: 6 }]))
      .then([
        returned(
          'ret-1',
          [
            { sku: 'SCREW', quantity: 3, unitPrice: gbp('0.001'), lineTotal: gbp('0.003') },
            { sku: 'MUG', quantity: 6, unitPrice: gbp('4.50'), lineTotal: gbp('27.00') },
          ],
          gbp('27.003'),
        ),
      ]);
  });

  it('counts earlier returns: a second return up to what is left', () => {
    spec
      .given([purchased([mug]), returned('ret-1', [{ sku: 'MUG', quantity: 4, unitPrice: gbp('4.50'), lineTotal: gbp('18.00') }], gbp('18.00'))])
      .when(recordReturn([{ sku: 'MUG', quantity: 2 }], 'ret-2'))
      .then([returned('ret-2', [{ sku: 'MUG', quantity: 2, unitPrice: gbp('4.50'), lineTotal: gbp('9.00') }], gbp('9.00'))]);
  });

  it('refuses a second return beyond what is left', () => {
    spec
      .given([purchased([mug]), returned('ret-1', [{ sku: 'MUG', quantity: 4, unitPrice: gbp('4.50'), lineTotal: gbp('18.00') }], gbp('18.00'))])
      .when(recordReturn([{ sku: 'MUG', quantity: 3 }], 'ret-2'))
      .thenThrows('return-exceeds-purchase', { sku: 'MUG', requested: 3, returnable: 2 });
  });

  it('refuses more than was bought', () => {
    spec
      .given([purchased([mug])])
      .when(recordReturn([{ sku: 'MUG', quantity: 7 }]))
      .thenThrows('return-exceeds-purchase', { orderId: 'INV-536365', sku: 'MUG', requested: 7, returnable: 6 });
  });

  it('adds up lines of the same sku within one return', () => {
    spec
      .given([purchased([mug])])
      .when(recordReturn([{ sku: 'MUG', quantity: 4 }, { sku: 'MUG', quantity: 3 }]))
      .thenThrows('return-exceeds-purchase', { sku: 'MUG', requested: 7, returnable: 6 });
  });

  it('refuses a sku that was not bought', () => {
    spec
      .given([purchased([mug])])
      .when(recordReturn([{ sku: 'TEAPOT', quantity: 1 }]))
      .thenThrows('return-exceeds-purchase', { sku: 'TEAPOT', requested: 1, returnable: 0 });
  });

  it('refuses the whole return when one line is refused', () => {
    spec
      .given([purchased([mug, screw])])
      .when(recordReturn([{ sku: 'MUG', quantity: 1 }, { sku: 'SCREW', quantity: 4 }]))
      .thenThrows('return-exceeds-purchase', { sku: 'SCREW' });
  });

  it.each([0, -2, 1.5])('refuses a quantity of %p', (quantity) => {
    spec.given([purchased([mug])]).when(recordReturn([{ sku: 'MUG', quantity }])).thenThrows('invalid-money', { reason: 'invalid-quantity' });
  });

  it('refuses an order that does not exist', () => {
    spec.given([]).when(recordReturn([{ sku: 'MUG', quantity: 1 }])).thenThrows('order-not-found', { orderId: 'INV-536365' });
  });

  describe('a sku bought on two lines at two prices', () => {
    const twoPrices = purchased([
      { sku: 'MUG', description: 'White mug', quantity: 2, unitPrice: gbp('4.50') },
      { sku: 'MUG', description: 'White mug (promo)', quantity: 3, unitPrice: gbp('3.995') },
    ]);

    it('is returnable up to the sum of both lines', () => {
      spec.given([twoPrices]).when(recordReturn([{ sku: 'MUG', quantity: 6 }])).thenThrows('return-exceeds-purchase', { returnable: 5 });
    });

    it('is refunded line by line in invoice order, at the price paid for each unit', () => {
      spec
        .given([twoPrices])
        .when(recordReturn([{ sku: 'MUG', quantity: 3 }]))
        .then([
          returned(
            'ret-1',
            [
              { sku: 'MUG', quantity: 2, unitPrice: gbp('4.50'), lineTotal: gbp('9.00') },
              { sku: 'MUG', quantity: 1, unitPrice: gbp('3.995'), lineTotal: gbp('3.995') },
            ],
            gbp('12.995'),
          ),
        ]);
    });

    it('continues where the previous return stopped', () => {
      spec
        .given([
          twoPrices,
          returned(
            'ret-1',
            [
              { sku: 'MUG', quantity: 2, unitPrice: gbp('4.50'), lineTotal: gbp('9.00') },
              { sku: 'MUG', quantity: 1, unitPrice: gbp('3.995'), lineTotal: gbp('3.995') },
            ],
            gbp('12.995'),
          ),
        ])
        .when(recordReturn([{ sku: 'MUG', quantity: 2 }], 'ret-2'))
        .then([returned('ret-2', [{ sku: 'MUG', quantity: 2, unitPrice: gbp('3.995'), lineTotal: gbp('7.990') }], gbp('7.990'))]);
    });
  });

  it('merges portions of one sku bought on two lines at the same price', () => {
    spec
      .given([purchased([{ ...mug, quantity: 1 }, screw, { ...mug, quantity: 2 }])])
      .when(recordReturn([{ sku: 'MUG', quantity: 3 }]))
      .then([returned('ret-1', [{ sku: 'MUG', quantity: 3, unitPrice: gbp('4.50'), lineTotal: gbp('13.50') }], gbp('13.50'))]);
  });

  it('treats a reused return id as a bug, not a business refusal', () => {
    const state = [purchased([mug]), returned('ret-1', [{ sku: 'MUG', quantity: 1, unitPrice: gbp('4.50'), lineTotal: gbp('4.50') }], gbp('4.50'))].reduce(
      orderDecider.evolve,
      orderDecider.initialState(),
    );
    expect(() => orderDecider.decide(recordReturn([{ sku: 'MUG', quantity: 1 }]), state, new Date(RETURNED_AT))).toThrow('return ret-1 is already recorded');
  });
});

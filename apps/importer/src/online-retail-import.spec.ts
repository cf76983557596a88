import { describe, expect, it } from '@jest/globals';
import {
  classifyRetailRow, planCancellation, PurchaseIndex, RETAIL_COLUMNS, retailCustomerId, retailOrderId, retailReturnId,
} from './online-retail-import';

const AT = Object.fromEntries(RETAIL_COLUMNS.map((c, i) => [c, i])) as Record<(typeof RETAIL_COLUMNS)[number], number>;
const row = (over: Partial<Record<(typeof RETAIL_COLUMNS)[number], string>> = {}): string[] => {
  const base = {
    InvoiceNo: '536365', StockCode: '85123A', Description: 'WHITE HANGING HEART T-LIGHT HOLDER', Quantity: '6',
    InvoiceDate: '2010-12-01 08:26:00', UnitPrice: '2.55', CustomerID: '17850', Country: 'United Kingdom', ...over,
  };
  return RETAIL_COLUMNS.map((c) => base[c]);
};

describe('online-retail ids', () => {
  it('are derived from the source ids, so a second import finds the same streams', () => {
    expect(retailCustomerId('17850')).toBe('or-17850');
    expect(retailOrderId('536365')).toBe('or-536365');
    expect(retailReturnId('C536379', 2)).toBe('or-C536379-2');
  });
});

describe('classifyRetailRow', () => {
  it('keeps a sale line as written (description spaces, price text)', () => {
    expect(classifyRetailRow(row({ Description: ' MUG ', UnitPrice: '0.001' }), AT)).toEqual({
      invoiceNo: '536365', sku: '85123A', description: ' MUG ', quantity: 6, localAt: '2010-12-01 08:26:00', unitPrice: '0.001', customerId: '17850',
    });
  });

  it('reads quantities as Number reads them, long ones included', () => {
    expect(classifyRetailRow(row({ Quantity: '-0012', InvoiceNo: 'C536379' }), AT)).toMatchObject({ quantity: -12 });
    expect(classifyRetailRow(row({ Quantity: '12345678901234567890' }), AT)).toMatchObject({ quantity: Number('12345678901234567890') });
    expect(classifyRetailRow(row({ UnitPrice: '-0.5' }), AT)).toEqual({ skip: 'negative-price' });
  });

  it('keeps zero-price lines (free samples are real lines of the invoice)', () => {
    expect(classifyRetailRow(row({ UnitPrice: '0' }), AT)).toMatchObject({ unitPrice: '0' });
  });

  it.each([
    ['a bad-debt adjustment', { InvoiceNo: 'A563185', UnitPrice: '-11062.06', CustomerID: '' }, 'bad-debt-adjustment'],
    ['a negative price', { UnitPrice: '-1.00' }, 'negative-price'],
    ['a stock adjustment (negative quantity on a sale invoice)', { Quantity: '-12', CustomerID: '' }, 'stock-adjustment'],
    ['a zero quantity', { Quantity: '0' }, 'zero-quantity'],
    ['a cancellation that adds', { InvoiceNo: 'C536379', Quantity: '3' }, 'cancellation-with-positive-quantity'],
    ['no customer id', { CustomerID: '' }, 'no-customer-id'],
    ['a quantity that is not an integer', { Quantity: '1.5' }, 'malformed-row'],
    ['an unreadable date', { InvoiceDate: '12/1/2010 8:26' }, 'malformed-row'],
    ['an unreadable price', { UnitPrice: '£2.55' }, 'malformed-row'],
    // The classifier reads digits and signs character by character: the edges of the two patterns.
    ['a lone minus as quantity', { Quantity: '-' }, 'malformed-row'],
    ['an empty quantity', { Quantity: '' }, 'malformed-row'],
    ['a quantity with a plus sign', { Quantity: '+6' }, 'malformed-row'],
    ['a price ending in a dot', { UnitPrice: '2.' }, 'malformed-row'],
    ['a price starting with a dot', { UnitPrice: '.55' }, 'malformed-row'],
    ['a price with two dots', { UnitPrice: '2.5.5' }, 'malformed-row'],
    ['an empty invoice number', { InvoiceNo: '' }, 'malformed-row'],
  ])('skips %s', (_what, over, reason) => {
    expect(classifyRetailRow(row(over), AT)).toEqual({ skip: reason });
  });

  it('skips a row with a missing column', () => {
    expect(classifyRetailRow(row().slice(0, 7), AT)).toEqual({ skip: 'malformed-row' });
  });
});

describe('matching cancellations to purchases', () => {
  const ms = (iso: string): number => Date.parse(iso);
  const index = (): PurchaseIndex => {
    const i = new PurchaseIndex();
    i.add('17850', 'MUG', 'or-1', ms('2010-12-01T08:00:00Z'), 6);
    i.add('17850', 'MUG', 'or-2', ms('2010-12-02T08:00:00Z'), 4);
    i.add('17850', 'MUG', 'or-2', ms('2010-12-02T08:00:00Z'), 1); // same sku twice on one invoice
    i.add('17850', 'MUG', 'or-3', ms('2010-12-09T08:00:00Z'), 10); // after the cancellation below
    return i;
  };

  it('takes from the latest earlier order first and splits across orders when needed', () => {
    const i = index();
    expect(i.allocate('17850', 'MUG', ms('2010-12-05T00:00:00Z'), 7)).toEqual([
      { orderId: 'or-2', quantity: 5 },
      { orderId: 'or-1', quantity: 2 },
    ]);
    expect(i.allocate('17850', 'MUG', ms('2010-12-05T00:00:00Z'), 4)).toEqual([{ orderId: 'or-1', quantity: 4 }]);
    expect(i.allocate('17850', 'MUG', ms('2010-12-05T00:00:00Z'), 1)).toBe('return-exceeds-purchase');
  });

  it('keeps what each order holds whatever the order its lines are added in', () => {
    const i = new PurchaseIndex();
    i.add('17850', 'MUG', 'or-2', ms('2010-12-02T08:00:00Z'), 4);
    i.add('17850', 'MUG', 'or-1', ms('2010-12-01T08:00:00Z'), 6); // an earlier order, added later
    i.add('17850', 'MUG', 'or-2', ms('2010-12-02T08:00:00Z'), 1); // back to an order added before
    i.add('17850', 'MUG', 'or-0', ms('2010-11-30T08:00:00Z'), 2);
    expect(i.allocate('17850', 'MUG', ms('2010-12-05T00:00:00Z'), 13)).toEqual([
      { orderId: 'or-2', quantity: 5 },
      { orderId: 'or-1', quantity: 6 },
      { orderId: 'or-0', quantity: 2 },
    ]);
    expect(i.allocate('17850', 'MUG', ms('2010-12-05T00:00:00Z'), 1)).toBe('return-exceeds-purchase');
  });

  it('counts a purchase in the same minute as before the cancellation', () => {
    expect(index().allocate('17850', 'MUG', ms('2010-12-01T08:00:00Z'), 6)).toEqual([{ orderId: 'or-1', quantity: 6 }]);
  });

  it('takes nothing when the line cannot be covered, and says why', () => {
    const i = index();
    expect(i.allocate('17850', 'MUG', ms('2010-12-05T00:00:00Z'), 12)).toBe('return-exceeds-purchase');
    expect(i.allocate('17850', 'MUG', ms('2010-12-05T00:00:00Z'), 11)).toHaveLength(2); // nothing was taken before
    expect(i.allocate('17850', 'TEAPOT', ms('2010-12-05T00:00:00Z'), 1)).toBe('return-without-purchase');
    expect(i.allocate('17850', 'MUG', ms('2010-11-30T00:00:00Z'), 1)).toBe('return-without-purchase');
    expect(i.allocate('99999', 'MUG', ms('2010-12-05T00:00:00Z'), 1)).toBe('return-without-purchase');
  });

  it('plans one return per order a cancellation reaches, numbered in the order they are reached', () => {
    const line = (sku: string, quantity: number, r: number) => ({
      row: r, sku, description: sku, quantity: -quantity, localAt: '2010-12-05 10:00:00', unitPrice: '1', country: 'United Kingdom',
    });
    const plan = planCancellation(
      { invoiceNo: 'C540000', customerId: '17850', localAt: '2010-12-05 10:00:00', rows: [line('MUG', 7, 1), line('TEAPOT', 1, 2), line('MUG', 1, 3)] },
      index(),
    );
    expect(plan.returns.map((r) => [r.returnId, r.orderId, r.occurredAt, r.lines])).toEqual([
      ['or-C540000-1', 'or-2', '2010-12-05T10:00:00.000Z', [{ sku: 'MUG', quantity: 5 }]],
      ['or-C540000-2', 'or-1', '2010-12-05T10:00:00.000Z', [{ sku: 'MUG', quantity: 2 }, { sku: 'MUG', quantity: 1 }]],
    ]);
    expect(plan.rejected.map((r) => [r.row.row, r.reason])).toEqual([[2, 'return-without-purchase']]);
  });
});

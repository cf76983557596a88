import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '@crm/event-store';
import { runImport } from '../../apps/importer/src/run-import';
import type { ImportSummary } from '../../apps/importer/src/summary';
import { readCsvObjects, thousandths } from '../support/plain-csv';
import { makeTempDir } from '../support/temp-dir';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/**
 * The online-retail sample (20,000 lines, 1–9 December 2010) imported through the importer and read back over HTTP.
 * Every expected value is computed here, from the CSV, by a plain script that shares no code with the importer.
 */
const SAMPLE = join(__dirname, '..', '..', '..', 'shared', 'data', 'online-retail', 'online-retail-sample.csv');
const present = existsSync(SAMPLE);
if (!present) console.warn(`import-online-retail e2e skipped: ${SAMPLE} is missing`);

const DAY_MS = 86_400_000;

interface Expected {
  rows: number;
  withoutCustomer: number;
  invoices: number;
  customers: number;
  cancellationLines: number;
  purchaseLines: number;
  grossByMonth: Map<string, number>;
  returnsByMonth: Map<string, number>;
  returnedLines: number;
  returnWithoutPurchase: number;
  returnExceedsPurchase: number;
  netByCustomer: Map<string, number>;
  invoiceTimesByCustomer: Map<string, number[]>;
  skusByInvoice: Map<string, Set<string>>;
}

/**
 * Plain reading of the rules in docs/import.md: a sale line is a row of a non-C, non-A invoice with a customer id,
 * quantity > 0 and price ≥ 0; an order is an invoice with at least one; a cancellation line takes back from the
 * customer's latest order (at or before it) with that sku left, split over earlier ones, all or nothing, refunded at
 * the price of the order's lines in invoice order. The sample is all in December 2010 (GMT), so local time is UTC.
 */
function computeExpected(): Expected {
  const { rows } = readCsvObjects(SAMPLE);
  const sale = (r: Record<string, string>): boolean =>
    !/^[CA]/.test(r['InvoiceNo'] ?? '') && r['CustomerID'] !== '' && Number(r['Quantity']) > 0 && !(r['UnitPrice'] ?? '').startsWith('-');
  if (!rows.every((r) => (r['InvoiceDate'] ?? '').startsWith('2010-12-'))) throw new Error('the sample is expected to be December 2010 only');

  type OrderLine = { sku: string; quantity: number; price: number; returned: number };
  type Order = { invoiceNo: string; at: string; customer: string; lines: OrderLine[] };
  const orders = new Map<string, Order>();
  const grossByMonth = new Map<string, number>();
  const netByCustomer = new Map<string, number>();
  let purchaseLines = 0;
  for (const r of rows.filter(sale)) {
    const inv = r['InvoiceNo'] ?? '';
    const at = r['InvoiceDate'] ?? '';
    const order = orders.get(inv) ?? { invoiceNo: inv, at, customer: r['CustomerID'] ?? '', lines: [] };
    if (at < order.at) order.at = at;
    const line = { sku: r['StockCode'] ?? '', quantity: Number(r['Quantity']), price: thousandths(r['UnitPrice'] ?? ''), returned: 0 };
    order.lines.push(line);
    orders.set(inv, order);
    purchaseLines += 1;
  }
  for (const o of orders.values()) {
    const total = o.lines.reduce((s, l) => s + l.quantity * l.price, 0);
    grossByMonth.set(o.at.slice(0, 7), (grossByMonth.get(o.at.slice(0, 7)) ?? 0) + total);
    netByCustomer.set(o.customer, (netByCustomer.get(o.customer) ?? 0) + total);
  }

  const cancellations = rows.filter((r) => (r['InvoiceNo'] ?? '').startsWith('C') && r['CustomerID'] !== '');
  const cancellationInvoices = new Map<string, { at: string; rows: Array<Record<string, string>> }>();
  for (const r of cancellations) {
    const c = cancellationInvoices.get(r['InvoiceNo'] ?? '') ?? { at: r['InvoiceDate'] ?? '', rows: [] };
    if ((r['InvoiceDate'] ?? '') < c.at) c.at = r['InvoiceDate'] ?? '';
    c.rows.push(r);
    cancellationInvoices.set(r['InvoiceNo'] ?? '', c);
  }
  const returnsByMonth = new Map<string, number>();
  let returnedLines = 0;
  let returnWithoutPurchase = 0;
  let returnExceedsPurchase = 0;
  const inTimeOrder = [...cancellationInvoices.entries()].sort(([a, x], [b, y]) => (x.at < y.at ? -1 : x.at > y.at ? 1 : a < b ? -1 : 1));
  for (const [, c] of inTimeOrder) {
    for (const r of c.rows) {
      const customer = r['CustomerID'] ?? '';
      const sku = r['StockCode'] ?? '';
      let wanted = -Number(r['Quantity']);
      const candidates = [...orders.values()]
        .filter((o) => o.customer === customer && o.at <= c.at && o.lines.some((l) => l.sku === sku))
        .sort((a, b) => (a.at !== b.at ? (a.at < b.at ? 1 : -1) : a.invoiceNo < b.invoiceNo ? 1 : -1));
      const left = (o: Order): number => o.lines.filter((l) => l.sku === sku).reduce((s, l) => s + l.quantity - l.returned, 0);
      if (candidates.length === 0) {
        returnWithoutPurchase += 1;
        continue;
      }
      if (candidates.reduce((s, o) => s + left(o), 0) < wanted) {
        returnExceedsPurchase += 1;
        continue;
      }
      returnedLines += 1;
      for (const o of candidates) {
        for (const l of o.lines.filter((x) => x.sku === sku)) {
          const take = Math.min(wanted, l.quantity - l.returned);
          if (take <= 0) continue;
          l.returned += take;
          wanted -= take;
          returnsByMonth.set(c.at.slice(0, 7), (returnsByMonth.get(c.at.slice(0, 7)) ?? 0) + take * l.price);
          netByCustomer.set(customer, (netByCustomer.get(customer) ?? 0) - take * l.price);
        }
      }
    }
  }

  const invoiceTimesByCustomer = new Map<string, number[]>();
  const skusByInvoice = new Map<string, Set<string>>();
  for (const o of orders.values()) {
    invoiceTimesByCustomer.set(o.customer, [...(invoiceTimesByCustomer.get(o.customer) ?? []), Date.parse(`${o.at.replace(' ', 'T')}Z`)]);
    skusByInvoice.set(o.invoiceNo, new Set(o.lines.map((l) => l.sku)));
  }
  const customers = new Set([...rows.filter(sale), ...cancellations].map((r) => r['CustomerID']));
  return {
    rows: rows.length,
    withoutCustomer: rows.filter((r) => r['CustomerID'] === '').length,
    invoices: orders.size,
    customers: customers.size,
    cancellationLines: cancellations.length,
    purchaseLines,
    grossByMonth,
    returnsByMonth,
    returnedLines,
    returnWithoutPurchase,
    returnExceedsPurchase,
    netByCustomer,
    invoiceTimesByCustomer,
    skusByInvoice,
  };
}

(present ? describe : describe.skip)('importing the online-retail sample', () => {
  let expected: Expected;
  let dataDir: { dir: string; remove: () => void };
  let first: ImportSummary;
  let t: TestApp;
  let head = 0;
  const read = async (path: string, token: string = TOKENS.analyst): Promise<any> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${head}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.asOfPosition).toBeGreaterThanOrEqual(head);
    return res.body;
  };

  beforeAll(async () => {
    expected = computeExpected();
    dataDir = makeTempDir('crm-import-retail-');
    first = await runImport({ kind: 'online-retail', file: SAMPLE, dataDir: dataDir.dir, env: { SQLITE_SYNCHRONOUS: 'NORMAL' } });
    head = first.eventsAppended;
    t = await startTestApp({ now: new Date('2011-12-10T00:00:00Z'), env: { DATA_DIR: dataDir.dir } });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    dataDir?.remove();
  });

  it('imports every invoice with a customer id as one order, and counts what it skipped and why', () => {
    expect(first.rows).toBe(expected.rows);
    expect(first.notes['rowsWithoutCustomerId']).toBe(expected.withoutCustomer);
    expect(first.counts).toMatchObject({
      customersRegistered: expected.customers,
      ordersRecorded: expected.invoices,
      purchaseLines: expected.purchaseLines,
      cancellationRowsImported: expected.returnedLines,
    });
    expect(first.skipped['return-without-purchase']).toBe(expected.returnWithoutPurchase);
    expect(first.skipped['return-exceeds-purchase']).toBe(expected.returnExceedsPurchase);
    expect(expected.returnedLines + expected.returnWithoutPurchase + expected.returnExceedsPurchase).toBe(expected.cancellationLines);
    // Every row is either imported or in the rejects file with its reason.
    const skipped = Object.values(first.skipped).reduce((a, b) => a + b, 0);
    expect(first.rejectedRows).toBe(skipped);
    expect(expected.purchaseLines + expected.returnedLines + skipped).toBe(expected.rows);
    expect(first.rejectsFile).toMatch(/import-rejects-online-retail-.*\.csv$/);
  });

  it('reports gross, returns and net per month exactly (thousandths of a pound)', async () => {
    const body = await read('/analytics/revenue?by=month');
    const months = [...new Set([...expected.grossByMonth.keys(), ...expected.returnsByMonth.keys()])].sort();
    expect(body.items.map((i: { period: string; currency: string; gross: string; returns: string; net: string; orders: number }) => ({
      period: i.period, currency: i.currency, gross: thousandths(i.gross), returns: thousandths(i.returns), net: thousandths(i.net), orders: i.orders,
    }))).toEqual(months.map((period) => {
      const gross = expected.grossByMonth.get(period) ?? 0;
      const returns = expected.returnsByMonth.get(period) ?? 0;
      return { period, currency: 'GBP', gross, returns, net: gross - returns, orders: expected.invoices };
    }));
  });

  it('ranks the top spenders by net spend after returns (GET /loyalty/top)', async () => {
    const top3 = [...expected.netByCustomer.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
    // The external ref names the person in the source system: agents see it, analysts do not (docs/privacy.md).
    const body = await read('/loyalty/top?limit=3', TOKENS.agent);
    expect(body.items.map((i: { customerId: string; externalRef: string; monetary: { amount: string } }) => [i.customerId, i.externalRef, thousandths(i.monetary.amount)]))
      .toEqual(top3.map(([id, net]) => [`or-${id}`, `online-retail:${id}`, net]));
    const forAnalysts = await read('/loyalty/top?limit=3');
    expect(forAnalysts.items.map((i: { customerId: string; externalRef?: string }) => [i.customerId, i.externalRef])).toEqual(top3.map(([id]) => [`or-${id}`, undefined]));
  });

  it('gives purchase intervals and RFM recency of a frequent buyer against a reference date', async () => {
    const [customer, times] = [...expected.invoiceTimesByCustomer.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))[0]!;
    const sorted = [...times].sort((a, b) => a - b);
    const gaps = sorted.slice(1).map((x, i) => (x - sorted[i]!) / DAY_MS);
    const byGap = [...gaps].sort((a, b) => a - b);
    const mid = Math.floor(byGap.length / 2);
    const median = byGap.length % 2 ? byGap[mid]! : (byGap[mid - 1]! + byGap[mid]!) / 2;
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const body = await read(`/customers/or-${customer}/loyalty?referenceDate=2010-12-10`);
    expect(body.purchaseIntervals).toEqual({
      orders: sorted.length,
      meanDays: Math.round(mean * 100) / 100,
      medianDays: Math.round(median * 100) / 100,
      nextExpectedAt: new Date(sorted.at(-1)! + median * DAY_MS).toISOString(),
    });
    expect(body.rfm).toMatchObject({
      frequency: sorted.length,
      recencyDays: Math.floor((Date.parse('2010-12-10T00:00:00Z') - sorted.at(-1)!) / DAY_MS),
      monetary: { currency: 'GBP' },
    });
    expect(thousandths(body.rfm.monetary.amount)).toBe(expected.netByCustomer.get(customer));
  });

  it('finds the skus bought together with the most common sku, with support, confidence and lift', async () => {
    const ordersWith = new Map<string, number>();
    for (const skus of expected.skusByInvoice.values()) for (const s of skus) ordersWith.set(s, (ordersWith.get(s) ?? 0) + 1);
    const [sku, nX] = [...ordersWith.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]!;
    const total = expected.skusByInvoice.size;
    const together = new Map<string, number>();
    for (const skus of expected.skusByInvoice.values()) {
      if (!skus.has(sku)) continue;
      for (const s of skus) if (s !== sku) together.set(s, (together.get(s) ?? 0) + 1);
    }
    const want = [...together.entries()]
      .map(([other, both]) => ({ sku: other, orders: both, support: both / total, confidence: both / nX, lift: (both / nX) / ((ordersWith.get(other) ?? 0) / total) }))
      .sort((a, b) => b.confidence - a.confidence || b.lift - a.lift || (a.sku < b.sku ? -1 : 1))
      .slice(0, 5);
    const body = await read(`/analytics/cross-sell?sku=${encodeURIComponent(sku)}&limit=5`);
    expect(body).toMatchObject({ sku, orders: nX, totalOrders: total });
    expect(body.items.map((i: { sku: string; orders: number }) => [i.sku, i.orders])).toEqual(want.map((w) => [w.sku, w.orders]));
    body.items.forEach((item: { support: number; confidence: number; lift: number }, i: number) => {
      expect(item.support).toBeCloseTo(want[i]!.support, 6);
      expect(item.confidence).toBeCloseTo(want[i]!.confidence, 6);
      expect(item.lift).toBeCloseTo(want[i]!.lift, 3);
    });
  });

  it('refuses bad analytics parameters with a validation problem naming the field', async () => {
    for (const [path, field] of [['/analytics/cross-sell', 'sku'], ['/analytics/revenue?by=week', 'by'], ['/analytics/revenue?from=2011-13', 'from'], ['/analytics/sla?from=yesterday', 'from'], ['/analytics/sla?from=2011-02-01&to=2011-01-01', 'to']] as const) {
      const res = await t.request('GET', path, { token: TOKENS.analyst });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ type: 'validation-error', errors: [{ field }] });
    }
  });

  it('appends nothing when the same file is imported again', async () => {
    const second = await runImport({ kind: 'online-retail', file: SAMPLE, dataDir: dataDir.dir, env: { SQLITE_SYNCHRONOUS: 'NORMAL' } });
    expect(second.eventsAppended).toBe(0);
    expect(second.counts).toMatchObject({
      customersExisting: expected.customers,
      ordersAlreadyImported: expected.invoices,
      returnsAlreadyImported: first.counts['returnsRecorded'],
    });
    const store = new SqliteEventStore({ filename: join(dataDir.dir, 'events.db') });
    try {
      expect(await store.headPosition()).toBe(head);
    } finally {
      await store.close();
    }
  }, 30_000);
});

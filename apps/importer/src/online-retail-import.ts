import { statSync } from 'node:fs';
import { orderStream, parseMoney, type Money, type OrderCommand } from '@crm/domain';
import { scanCsvRecords, textHash, type CsvRecord } from './csv';
import { ImportInputError } from './import-errors';
import { AggregateCache } from '@crm/event-store';
import { execute, inChunks, registerCustomer, skippingDecider, type ImportContext } from './import-context';
import { ukLocalToUtcMemoized as ukLocalToUtc } from './source-times';

/**
 * UCI "Online Retail" (one row per invoice line) → the commands the API takes: RegisterCustomer per CustomerID,
 * RecordPurchase per invoice, RecordReturn per cancellation invoice and bought order. docs/import.md has every
 * decision; the reasons below are the only ways a row is skipped.
 */
export const RETAIL_COLUMNS = ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country'] as const;
type Column = (typeof RETAIL_COLUMNS)[number];

export const RETAIL_SKIP_REASONS = [
  /** Wrong number of columns, a quantity that is not an integer, an unreadable date or price. */
  'malformed-row',
  /** `A…` invoices ("Adjust bad debt"): accounting entries, not sales. */
  'bad-debt-adjustment',
  'negative-price',
  /** Negative quantity on an invoice that is not a cancellation: stock write-offs ("damaged", "lost"…). */
  'stock-adjustment',
  'zero-quantity',
  /** A `C…` invoice line with a positive quantity: a cancellation must take something back. */
  'cancellation-with-positive-quantity',
  'no-customer-id',
  /** An invoice whose rows name two different customers: which one bought is unknowable. */
  'invoice-customer-mismatch',
  /** Cancellation line of a sku this customer had not bought (in this file) at or before the cancellation. */
  'return-without-purchase',
  /** Cancellation line for more units than this customer bought (in this file) and had not yet returned. */
  'return-exceeds-purchase',
] as const;
export type RetailSkipReason = (typeof RETAIL_SKIP_REASONS)[number];

export const CURRENCY = 'GBP';
export const retailCustomerId = (sourceId: string): string => `or-${sourceId}`;
export const retailOrderId = (invoiceNo: string): string => `or-${invoiceNo}`;
export const retailReturnId = (cancellationNo: string, n: number): string => `or-${cancellationNo}-${n}`;

export interface RetailLine {
  readonly invoiceNo: string;
  readonly sku: string;
  readonly description: string;
  readonly quantity: number;
  /** UK local, as written: `YYYY-MM-DD HH:MM:SS`. */
  readonly localAt: string;
  readonly unitPrice: string;
  readonly customerId: string;
}

/**
 * A source row as classification reads it: an array of fields (classifyRetailRow) or the importer's lazily read CsvRecord
 * (retailRowOf), where `text` makes a string only of the fields a kept row keeps. Checks of digits, signs and emptiness
 * read characters, not strings.
 */
interface RetailRowSource {
  readonly count: number;
  text(i: number): string;
  /** Length of the field as read (its emptiness is what counts). */
  rawLength(i: number): number;
  /** Code unit `k` of the field, NaN past its end. */
  charCodeAt(i: number, k: number): number;
}

const MINUS = 0x2d;
const DOT = 0x2e;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** The field as /^-?\d+$/ reads it, as a number; null when it is not one. */
function integerField(row: RetailRowSource, i: number): number | null {
  const n = row.rawLength(i);
  let k = row.charCodeAt(i, 0) === MINUS ? 1 : 0;
  if (k >= n) return null;
  let value = 0;
  for (; k < n; k += 1) {
    const c = row.charCodeAt(i, k);
    if (!isDigit(c)) return null;
    value = value * 10 + (c - 0x30);
  }
  // Beyond 2^53 the running sum may round differently from Number(): let Number read such a field.
  if (n > 15) value = Math.abs(Number(row.text(i)));
  return row.charCodeAt(i, 0) === MINUS ? -value : value;
}

/** Whether the field reads as /^-?\d+(\.\d+)?$/. */
function isDecimalField(row: RetailRowSource, i: number): boolean {
  const n = row.rawLength(i);
  let k = row.charCodeAt(i, 0) === MINUS ? 1 : 0;
  const digitsFrom = (from: number): number => {
    let j = from;
    while (j < n && isDigit(row.charCodeAt(i, j))) j += 1;
    return j;
  };
  const integerEnd = digitsFrom(k);
  if (integerEnd === k) return false;
  k = integerEnd;
  if (k === n) return true;
  if (row.charCodeAt(i, k) !== DOT) return false;
  const fractionEnd = digitsFrom(k + 1);
  return fractionEnd > k + 1 && fractionEnd === n;
}

/** One source row → a line to import, or the reason it is skipped (the first rule that applies, in this order). */
export function classifyRetailRow(fields: readonly string[], at: Readonly<Record<Column, number>>): RetailLine | { skip: RetailSkipReason } {
  return classify({
    count: fields.length,
    text: (i) => fields[i] ?? '',
    rawLength: (i) => (fields[i] ?? '').length,
    charCodeAt: (i, k) => (fields[i] ?? '').charCodeAt(k),
  }, at);
}

function classify(row: RetailRowSource, at: Readonly<Record<Column, number>>): RetailLine | { skip: RetailSkipReason } {
  if (row.count !== RETAIL_COLUMNS.length) return { skip: 'malformed-row' };
  const quantity = integerField(row, at.Quantity);
  if (row.rawLength(at.InvoiceNo) === 0 || quantity === null || !isDecimalField(row, at.UnitPrice)) return { skip: 'malformed-row' };
  const localAt = row.text(at.InvoiceDate);
  if (ukLocalToUtc(localAt) === null) return { skip: 'malformed-row' };
  const first = row.charCodeAt(at.InvoiceNo, 0);
  const cancellation = first === 0x43; // 'C'
  if (first === 0x41) return { skip: 'bad-debt-adjustment' }; // 'A'
  if (row.charCodeAt(at.UnitPrice, 0) === MINUS) return { skip: 'negative-price' };
  if (!cancellation && quantity < 0) return { skip: 'stock-adjustment' };
  if (quantity === 0) return { skip: 'zero-quantity' };
  if (cancellation && quantity > 0) return { skip: 'cancellation-with-positive-quantity' };
  if (row.rawLength(at.CustomerID) === 0) return { skip: 'no-customer-id' };
  return {
    invoiceNo: row.text(at.InvoiceNo), sku: row.text(at.StockCode), description: row.text(at.Description), quantity, localAt,
    unitPrice: row.text(at.UnitPrice), customerId: row.text(at.CustomerID),
  };
}

/**
 * The distinct values of one column, one flat string each, found by the record's characters: a hit makes no string
 * at all. The ~406k kept rows repeat a few thousand skus, descriptions and customers and ~23k dates and invoice
 * numbers, and rows of an invoice are mostly adjacent (same invoice, date, customer, country as the row before): the
 * previous value is tried first. A copy is flat, so it does not keep alive the 64 kB chunk of text it was read from.
 */
class ColumnValues {
  private last = '';
  private table: Array<string | undefined> = new Array<string | undefined>(1024);
  private size = 0;

  of(record: CsvRecord, i: number): string {
    if (record.equals(i, this.last)) return this.last;
    const mask = this.table.length - 1;
    let slot = record.hash(i) & mask;
    for (;;) {
      const known = this.table[slot];
      if (known === undefined) break;
      if (record.equals(i, known)) return (this.last = known);
      slot = (slot + 1) & mask;
    }
    const copy = Buffer.from(record.field(i), 'utf8').toString('utf8');
    this.table[slot] = copy;
    this.size += 1;
    if (this.size * 2 > this.table.length) this.grow();
    return (this.last = copy);
  }

  private grow(): void {
    const old = this.table;
    this.table = new Array<string | undefined>(old.length * 2);
    const mask = this.table.length - 1;
    for (const value of old) {
      if (value === undefined) continue;
      let slot = textHash(value) & mask;
      while (this.table[slot] !== undefined) slot = (slot + 1) & mask;
      this.table[slot] = value;
    }
  }
}

/**
 * A kept row: only what the commands need, plus what it takes to write the row back out if it is rejected later
 * (the invoice holds its number and customer). Repeated strings are interned: the full file keeps ~406k rows until
 * the returns are matched, and this is what keeps that within a few hundred MB.
 */
interface SourceRow {
  readonly row: number;
  readonly sku: string;
  readonly description: string;
  readonly quantity: number;
  readonly localAt: string;
  readonly unitPrice: string;
  readonly country: string;
}

/** The rows of one invoice, wherever they are in the file (they are not always adjacent). */
interface Invoice {
  readonly invoiceNo: string;
  readonly customerId: string;
  /** The earliest InvoiceDate of its rows (43 invoices of the full file span two minutes). */
  localAt: string;
  readonly rows: SourceRow[];
}

/**
 * Purchases by customer and sku, for matching cancellation lines to the orders they take back. Compact on purpose
 * (~380k entries for the full file): per customer a map from sku to a flat array of [order ordinal, units still
 * returnable] pairs, with the orders' ids and times in shared tables.
 */
export class PurchaseIndex {
  private readonly byCustomer = new Map<string, Map<string, number[]>>();
  private readonly orderIds: string[] = [];
  private readonly orderAtMs: number[] = [];
  private readonly ordinals = new Map<string, number>();

  add(customerId: string, sku: string, orderId: string, atMs: number, quantity: number): void {
    let ordinal = this.ordinals.get(orderId);
    if (ordinal === undefined) {
      ordinal = this.orderIds.length;
      this.ordinals.set(orderId, ordinal);
      this.orderIds.push(orderId);
      this.orderAtMs.push(atMs);
    }
    let skus = this.byCustomer.get(customerId);
    if (!skus) this.byCustomer.set(customerId, (skus = new Map()));
    const pairs = skus.get(sku);
    if (!pairs) {
      skus.set(sku, [ordinal, quantity]);
      return;
    }
    // Pairs are kept in ordinal order. The importer adds orders in time order, each order's lines together, so the
    // pair to grow or to follow is the last one: no walk over every earlier order of a customer who buys a sku
    // again and again (wholesalers: hundreds of orders).
    const last = pairs[pairs.length - 2] ?? -1;
    if (ordinal === last) {
      pairs[pairs.length - 1] = (pairs[pairs.length - 1] ?? 0) + quantity;
      return;
    }
    if (ordinal > last) {
      pairs.push(ordinal, quantity);
      return;
    }
    let i = 0;
    while (i < pairs.length && (pairs[i] ?? 0) < ordinal) i += 2;
    if (pairs[i] === ordinal) pairs[i + 1] = (pairs[i + 1] ?? 0) + quantity;
    else pairs.splice(i, 0, ordinal, quantity);
  }

  /**
   * Takes `quantity` units of `sku` back from the customer's orders at or before `atMs` (the cancellation time;
   * timestamps have minute resolution, so "the same minute" counts as before): latest order first (then the higher
   * invoice number), splitting across orders when one does not hold enough. All or nothing: a line that cannot be
   * covered takes nothing.
   */
  allocate(customerId: string, sku: string, atMs: number, quantity: number): Array<{ orderId: string; quantity: number }> | RetailSkipReason {
    const pairs = this.byCustomer.get(customerId)?.get(sku) ?? [];
    const eligible: Array<{ at: number; slot: number }> = [];
    let available = 0;
    for (let i = 0; i < pairs.length; i += 2) {
      const at = this.orderAtMs[pairs[i] ?? 0] ?? Number.POSITIVE_INFINITY;
      if (at > atMs) continue;
      eligible.push({ at, slot: i });
      available += pairs[i + 1] ?? 0;
    }
    if (eligible.length === 0) return 'return-without-purchase';
    if (available < quantity) return 'return-exceeds-purchase';
    const idOf = (slot: number): string => this.orderIds[pairs[slot] ?? 0] ?? '';
    eligible.sort((a, b) => b.at - a.at || (idOf(a.slot) < idOf(b.slot) ? 1 : idOf(a.slot) > idOf(b.slot) ? -1 : 0));
    const taken: Array<{ orderId: string; quantity: number }> = [];
    let left = quantity;
    for (const { slot } of eligible) {
      if (left === 0) break;
      const take = Math.min(left, pairs[slot + 1] ?? 0);
      if (take === 0) continue;
      pairs[slot + 1] = (pairs[slot + 1] ?? 0) - take;
      left -= take;
      taken.push({ orderId: idOf(slot), quantity: take });
    }
    return taken;
  }
}

export interface PlannedReturn {
  readonly orderId: string;
  readonly returnId: string;
  readonly cancellationNo: string;
  readonly occurredAt: string;
  readonly lines: Array<{ sku: string; quantity: number }>;
  /** Source rows this return takes back (a row split across orders is in each of them). */
  readonly rows: SourceRow[];
  readonly invoice: Pick<Invoice, 'invoiceNo' | 'customerId'>;
}

/**
 * One cancellation invoice → one RecordReturn per order it takes back from (`or-<C…>-1`, `-2`… in the order the
 * lines first reach each order), and the rows that cannot be matched.
 */
export function planCancellation(
  invoice: Pick<Invoice, 'invoiceNo' | 'customerId' | 'localAt' | 'rows'>,
  index: PurchaseIndex,
): { returns: PlannedReturn[]; rejected: Array<{ row: SourceRow; reason: RetailSkipReason }> } {
  const occurredAt = ukLocalToUtc(invoice.localAt) ?? '';
  const atMs = Date.parse(occurredAt);
  const byOrder = new Map<string, PlannedReturn>();
  const rejected: Array<{ row: SourceRow; reason: RetailSkipReason }> = [];
  for (const row of invoice.rows) {
    const taken = index.allocate(invoice.customerId, row.sku, atMs, -row.quantity);
    if (typeof taken === 'string') {
      rejected.push({ row, reason: taken });
      continue;
    }
    for (const { orderId, quantity } of taken) {
      let planned = byOrder.get(orderId);
      if (!planned) {
        planned = {
          orderId,
          returnId: retailReturnId(invoice.invoiceNo, byOrder.size + 1),
          cancellationNo: invoice.invoiceNo,
          occurredAt,
          lines: [],
          rows: [],
          invoice,
        };
        byOrder.set(orderId, planned);
      }
      planned.lines.push({ sku: row.sku, quantity });
      if (!planned.rows.includes(row)) planned.rows.push(row);
    }
  }
  return { returns: [...byOrder.values()], rejected };
}

const byTimeThenNumber = (a: Invoice, b: Invoice): number =>
  a.localAt < b.localAt ? -1 : a.localAt > b.localAt ? 1 : a.invoiceNo < b.invoiceNo ? -1 : a.invoiceNo > b.invoiceNo ? 1 : 0;

/**
 * Reads the whole file first (grouping rows by invoice: a few hundred MB at most for the 541,909-line file, measured
 * in docs/import.md), then appends in three phases, each as concurrent chunks of distinct streams:
 * customers, purchases in time order, returns in time order (a return needs its purchase in the store).
 */
export async function importOnlineRetail(ctx: ImportContext, file: string): Promise<{ rows: number }> {
  const purchases = new Map<string, Invoice>();
  const cancellations = new Map<string, Invoice>();
  let header: string[] | undefined;
  let at: Record<Column, number> | undefined;
  let rows = 0;
  const skip = (row: number, fields: readonly string[], reason: string): void => {
    ctx.skipped.add(reason);
    ctx.rejects.add(row, reason, fields);
  };

  const kb = Math.ceil(statSync(file).size / 1024);
  ctx.progress.phase('read', kb, 'kB');
  let withoutCustomer = 0;
  const values = RETAIL_COLUMNS.map(() => new ColumnValues());
  let record: CsvRecord | undefined;
  const row: RetailRowSource = {
    get count() {
      return record?.count ?? 0;
    },
    text: (i) => (record && values[i] ? values[i].of(record, i) : ''),
    rawLength: (i) => record?.rawLength(i) ?? 0,
    charCodeAt: (i, k) => record?.charCodeAt(i, k) ?? Number.NaN,
  };
  let invoice: Invoice | undefined;
  await scanCsvRecords(file, (r) => {
    if (!header) {
      header = r.fields();
      at = columnIndexes(header);
      ctx.rejects.setHeader(header);
      return;
    }
    record = r;
    rows += 1;
    const line = classify(row, at!);
    if (r.count === RETAIL_COLUMNS.length && r.rawLength(at!.CustomerID) === 0) withoutCustomer += 1;
    if ('skip' in line) {
      skip(rows, r.fields(), line.skip);
      return;
    }
    // Rows of an invoice are mostly adjacent; the values are the columns' shared copies, so === compares them.
    if (invoice?.invoiceNo !== line.invoiceNo) {
      const groups = line.invoiceNo.startsWith('C') ? cancellations : purchases;
      invoice = groups.get(line.invoiceNo);
      if (!invoice) {
        invoice = { invoiceNo: line.invoiceNo, customerId: line.customerId, localAt: line.localAt, rows: [] };
        groups.set(invoice.invoiceNo, invoice);
      }
    }
    if (invoice.customerId !== line.customerId) {
      skip(rows, r.fields(), 'invoice-customer-mismatch');
      return;
    }
    if (line.localAt < invoice.localAt) invoice.localAt = line.localAt;
    invoice.rows.push({
      row: rows, sku: line.sku, description: line.description, quantity: line.quantity, localAt: line.localAt, unitPrice: line.unitPrice,
      country: values[at!.Country]!.of(r, at!.Country),
    });
  }, (bytes) => ctx.progress.update(Math.floor(bytes / 1024)));
  record = undefined;
  values.length = 0; // the distinct-value tables: the kept rows hold what they need
  if (!header) throw new ImportInputError(`${file} is empty`);
  ctx.notes['rowsWithoutCustomerId'] = withoutCustomer;
  ctx.notes['readPeakRssMb'] = Math.round(process.resourceUsage().maxRSS / 1024);

  // Customers: once each, at their first invoice (their first appearance in the history).
  const firstSeen = new Map<string, Invoice>();
  for (const invoice of [...purchases.values(), ...cancellations.values()].sort(byTimeThenNumber)) {
    if (!firstSeen.has(invoice.customerId)) firstSeen.set(invoice.customerId, invoice);
  }
  const refusedCustomers = new Map<string, string>();
  ctx.progress.phase('customers', firstSeen.size, 'customers');
  await inChunks([...firstSeen.entries()], ctx.concurrency, async ([sourceId, invoice]) => {
    const outcome = await registerCustomer(ctx, {
      customerId: retailCustomerId(sourceId),
      name: `Online retail customer ${sourceId}`,
      externalRef: `online-retail:${sourceId}`,
      occurredAt: ukLocalToUtc(invoice.localAt) ?? '',
      causationId: `online-retail:customer:${sourceId}`,
    });
    if (outcome === 'registered') ctx.counts.add('customersRegistered');
    else if (outcome === 'existing') ctx.counts.add('customersExisting');
    else refusedCustomers.set(sourceId, `customer-${outcome.code}`);
  }, (done) => ctx.progress.update(done), 2);

  const rejectInvoice = (invoice: Invoice, reason: string): void => {
    for (const r of invoice.rows) skip(r.row, sourceFields(invoice, r, at!), reason);
  };

  // ~400k lines carry ~1.6k distinct price texts: each is read once, and its lines share the (frozen) amount.
  const prices = new Map<string, Readonly<Money> | { readonly refused: unknown }>();
  const priceOf = (text: string): Money => {
    let price = prices.get(text);
    if (price === undefined) {
      try {
        price = Object.freeze(parseMoney(text, CURRENCY));
      } catch (error) {
        price = { refused: error };
      }
      prices.set(text, price);
    }
    if ('refused' in price) throw price.refused;
    return price;
  };
  // Purchases, in time order; the index of what each customer bought feeds the matching of cancellations.
  const index = new PurchaseIndex();
  // One decider object for purchases and returns, so that the folded states below serve both phases.
  const orderDecider = skippingDecider(ctx.deciders.order, (command, state) =>
    command.type === 'RecordPurchase' ? state.exists : state.exists && state.returnIds.includes(command.data.returnId));
  // The states the purchases leave, kept for the orders a cancellation may reach (their customer cancelled something):
  // a return is then decided on its order's state and the append's expected revision proves it current, instead of
  // reading the purchase back (3,820 reads of ~5 kB events, parsed and opened, for the full file).
  const cancellingCustomers = new Set([...cancellations.values()].map((c) => c.customerId));
  const orderStates = new AggregateCache(purchases.size + 1);
  const ordered = [...purchases.values()].sort(byTimeThenNumber);
  purchases.clear();
  ctx.progress.phase('purchases', ordered.length, 'orders');
  await inChunks(ordered, ctx.concurrency, async (invoice) => {
    const refused = refusedCustomers.get(invoice.customerId);
    if (refused) return rejectInvoice(invoice, refused);
    const occurredAt = ukLocalToUtc(invoice.localAt) ?? '';
    const orderId = retailOrderId(invoice.invoiceNo);
    let command: OrderCommand;
    try {
      command = {
        type: 'RecordPurchase',
        data: {
          orderId,
          customerId: retailCustomerId(invoice.customerId),
          occurredAt,
          currency: CURRENCY,
          lines: invoice.rows.map((line) => ({
            sku: line.sku, description: line.description, quantity: line.quantity, unitPrice: priceOf(line.unitPrice),
          })),
        },
      };
    } catch {
      return rejectInvoice(invoice, 'invalid-money');
    }
    const outcome = await execute(ctx, {
      decider: orderDecider, streamId: orderStream(orderId), command, occurredAt, causationId: `online-retail:${invoice.invoiceNo}`, firstOnStream: true,
      cache: cancellingCustomers.has(invoice.customerId) ? orderStates : undefined,
    });
    if (outcome.kind === 'refused') return rejectInvoice(invoice, outcome.code);
    ctx.counts.add(outcome.kind === 'appended' ? 'ordersRecorded' : 'ordersAlreadyImported');
    ctx.counts.add('purchaseLines', invoice.rows.length);
    const atMs = Date.parse(occurredAt);
    for (const line of invoice.rows) index.add(invoice.customerId, line.sku, orderId, atMs, line.quantity);
    // Imported: nothing will write these rows out again. Dropped now, the ~400k rows shrink as the orders go in,
    // instead of all staying alive until the phase ends.
    invoice.rows.length = 0;
  }, (done) => ctx.progress.update(done), 2);
  ordered.length = 0;

  // Returns, in time order. Returns on one order go one after another (the domain refunds each at the price of the
  // units it takes, line by line, so their order matters); different orders go concurrently.
  const planned: PlannedReturn[] = [];
  for (const invoice of [...cancellations.values()].sort(byTimeThenNumber)) {
    const refused = refusedCustomers.get(invoice.customerId);
    if (refused) {
      rejectInvoice(invoice, refused);
      continue;
    }
    const plan = planCancellation(invoice, index);
    for (const { row, reason } of plan.rejected) skip(row.row, sourceFields(invoice, row, at!), reason);
    planned.push(...plan.returns);
  }
  ctx.progress.phase('returns', planned.length, 'returns');
  let done = 0;
  const returnedRows = new Set<number>();
  let chunk: PlannedReturn[] = [];
  const streams = new Set<string>();
  const flush = async (): Promise<void> => {
    await Promise.all(chunk.map(async (r) => {
      const command: OrderCommand = {
        type: 'RecordReturn',
        data: { orderId: r.orderId, returnId: r.returnId, occurredAt: r.occurredAt, reason: `cancellation ${r.cancellationNo}`, lines: r.lines },
      };
      const outcome = await execute(ctx, {
        decider: orderDecider, streamId: orderStream(r.orderId), command, occurredAt: r.occurredAt, causationId: `online-retail:${r.cancellationNo}`,
        cache: orderStates,
      });
      if (outcome.kind === 'refused') {
        for (const row of r.rows) skip(row.row, sourceFields(r.invoice, row, at!), outcome.code);
        return;
      }
      ctx.counts.add(outcome.kind === 'appended' ? 'returnsRecorded' : 'returnsAlreadyImported');
      ctx.counts.add('returnLines', r.lines.length);
      for (const row of r.rows) returnedRows.add(row.row);
    }));
    done += chunk.length;
    ctx.progress.update(done);
    chunk = [];
    streams.clear();
  };
  for (const r of planned) {
    if (streams.has(r.orderId) || chunk.length >= ctx.concurrency) await flush();
    chunk.push(r);
    streams.add(r.orderId);
  }
  await flush();
  ctx.counts.add('cancellationRowsImported', returnedRows.size);
  ctx.progress.finish();
  return { rows };
}

/** A kept row written back in the source's column order, for the rejects file. */
function sourceFields(invoice: Pick<Invoice, 'invoiceNo' | 'customerId'>, r: SourceRow, at: Readonly<Record<Column, number>>): string[] {
  const fields: string[] = [];
  const values: Record<Column, string> = {
    InvoiceNo: invoice.invoiceNo, StockCode: r.sku, Description: r.description, Quantity: String(r.quantity),
    InvoiceDate: r.localAt, UnitPrice: r.unitPrice, CustomerID: invoice.customerId, Country: r.country,
  };
  for (const c of RETAIL_COLUMNS) fields[at[c]] = values[c];
  return fields;
}

function columnIndexes(header: readonly string[]): Record<Column, number> {
  const missing = RETAIL_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new ImportInputError(`not an online-retail file: missing column(s) ${missing.join(', ')}`);
  return Object.fromEntries(RETAIL_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<Column, number>;
}

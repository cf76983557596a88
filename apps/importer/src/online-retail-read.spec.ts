import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InMemoryEventStore } from '@crm/event-store';
import { makeTempDir } from '../../../test/support/temp-dir';
import { CsvParser, csvLine } from './csv';
import { runImport } from './run-import';

/**
 * The read phase scans records lazily (CsvRecord) and keeps one copy per distinct value, found by the field's
 * characters: what it keeps and what it rejects must be what the fields say, quoted or not, repeated or not.
 */
describe('online-retail read phase over quoted, repeated and broken rows', () => {
  const tmp = makeTempDir('crm-import-read-');
  afterEach(() => tmp.remove());

  const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
  const ROWS = [
    // Doubled quotes and a comma inside, twice (the second is found among the kept values, not made again).
    '536365,85123A,"MUG, ""BIG"" 7d2e",6,2010-12-01 08:26:00,2.55,17850,United Kingdom',
    '536365,85123B,"MUG, ""BIG"" 7d2e",1,2010-12-01 08:26:00,"2.55",17850,"United Kingdom"',
    // The same value quoted and unquoted; a CRLF line end.
    '536366,22633,HAND WARMER 9f41,6,2010-12-01 08:28:00,1.85,"17851",France\r',
    '536367,22633,"HAND WARMER 9f41",2,2010-12-01 08:30:00,1.85,17851,France',
    // Rejected: no customer (quoted empty), a missing column, a quantity that is not an integer, another customer.
    '536368,22960,"two\nlines",1,2010-12-01 08:31:00,0.85,"",United Kingdom',
    '536369,22960,JAM,1,2010-12-01 08:31:00,0.85,17850',
    '536370,22960,JAM,1.5,2010-12-01 08:31:00,0.85,17850,United Kingdom',
    '536365,22961,JAM JAR,1,2010-12-01 08:26:00,0.85,17852,United Kingdom',
  ];

  it('keeps the values the fields hold and writes rejected rows back as read', async () => {
    const file = join(tmp.dir, 'retail.csv');
    writeFileSync(file, `${[HEADER, ...ROWS].join('\n')}\n`);
    const rejectsFile = join(tmp.dir, 'rejects.csv');
    const store = new InMemoryEventStore(() => new Date('2026-12-01T00:00:00.000Z'));
    const summary = await runImport({
      kind: 'online-retail', file, dataDir: join(tmp.dir, 'data'), eventStore: store, rejectsFile, env: { SQLITE_SYNCHRONOUS: 'NORMAL' },
    });

    expect(summary.skipped).toEqual({ 'no-customer-id': 1, 'malformed-row': 2, 'invoice-customer-mismatch': 1 });
    const purchases = (await store.readAll()).filter((e) => e.type === 'PurchaseRecorded').map((e) => e.data as {
      orderId: string; lines: Array<{ sku: string; description: string; quantity: number; unitPrice: { amount: number; scale: number } }>;
    });
    expect(purchases.map((p) => [p.orderId, p.lines.map((l) => [l.sku, l.description, l.quantity, l.unitPrice.amount])])).toEqual([
      ['or-536365', [['85123A', 'MUG, "BIG" 7d2e', 6, 255], ['85123B', 'MUG, "BIG" 7d2e', 1, 255]]],
      ['or-536366', [['22633', 'HAND WARMER 9f41', 6, 185]]],
      ['or-536367', [['22633', 'HAND WARMER 9f41', 2, 185]]],
    ]);

    // Each rejected row as the array parser reads it, behind its row number and reason.
    const parsed = new CsvParser();
    const sourceRecords = [...parsed.push(`${[HEADER, ...ROWS].join('\n')}\n`), ...parsed.end()];
    const expected = [
      ['source_row', 'reason', ...sourceRecords[0]!],
      ['5', 'no-customer-id', ...sourceRecords[5]!],
      ['6', 'malformed-row', ...sourceRecords[6]!],
      ['7', 'malformed-row', ...sourceRecords[7]!],
      ['8', 'invoice-customer-mismatch', ...sourceRecords[8]!],
    ];
    expect(readFileSync(rejectsFile, 'utf8')).toBe(expected.map((r) => csvLine(r)).join(''));
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InMemoryEventStore } from '@crm/event-store';
import { makeTempDir } from '../../../test/support/temp-dir';
import { runImport } from './run-import';

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
const ROWS = [
  '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom',
  '536366,71053,WHITE METAL LANTERN,6,2010-12-01 08:28:00,3.39,17851,United Kingdom',
  '536367,84406B,CREAM CUPID HEARTS COAT HANGER,8,2010-12-01 08:34:00,2.75,17852,United Kingdom',
  '536368,22752,SET 7 BABUSHKA NESTING BOXES,2,2010-12-01 08:35:00,7.65,17850,United Kingdom',
  '536369,21730,GLASS STAR FROSTED T-LIGHT HOLDER,6,2010-12-01 08:36:00,4.25,17853,United Kingdom',
  'C536370,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-01 09:00:00,2.55,17850,United Kingdom',
];

/**
 * The importer decides a stream's first command of the run on an empty state without reading the stream, as long
 * as no stream so assumed has turned out to exist (import-context.ts `firstOnStream`). An import resumed after an
 * interruption, or into a store where some of its customers already exist, must still find every fact once.
 */
describe('an import resumed over what an earlier, interrupted run wrote', () => {
  const tmp = makeTempDir('crm-import-resumed-');
  afterEach(() => tmp.remove());

  const file = (name: string, rows: readonly string[]): string => {
    const path = join(tmp.dir, name);
    writeFileSync(path, `${[HEADER, ...rows].join('\n')}\n`);
    return path;
  };

  it('appends only what is missing: one registration per customer, one purchase per order, nothing twice', async () => {
    const store = new InMemoryEventStore(() => new Date('2026-12-01T00:00:00.000Z'));
    const options = { kind: 'online-retail' as const, dataDir: join(tmp.dir, 'data'), eventStore: store, env: { SQLITE_SYNCHRONOUS: 'NORMAL' } };

    const partial = await runImport({ ...options, file: file('partial.csv', ROWS.slice(0, 2)) });
    expect(partial.eventsAppended).toBe(4); // 2 customers, 2 orders

    const resumed = await runImport({ ...options, file: file('full.csv', ROWS), concurrency: 2 });
    expect(resumed.counts).toMatchObject({
      customersExisting: 2, customersRegistered: 2, ordersAlreadyImported: 2, ordersRecorded: 3, returnsRecorded: 1,
    });
    expect(resumed.eventsAppended).toBe(2 + 3 + 1);

    const events = await store.readAll();
    const creations = events.filter((e) => e.type === 'CustomerRegistered' || e.type === 'PurchaseRecorded');
    expect(creations.every((e) => e.revision === 0)).toBe(true);
    expect(new Set(creations.map((e) => e.streamId)).size).toBe(creations.length);
    expect(creations).toHaveLength(4 + 5);

    const again = await runImport({ ...options, file: file('full-again.csv', ROWS) });
    expect(again.eventsAppended).toBe(0);
  });
});

import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaVersionOf } from '@crm/domain';
import { InMemoryEventStore } from '@crm/event-store';
import { makeTempDir } from '../../../test/support/temp-dir';
import { runImport } from './run-import';

// Today every type the importer writes is at version 1, which a default of 1 gets right by chance. The domain's
// versions are raised here for the types it writes, so only an importer that asks the domain writes them right.
jest.mock('@crm/domain', () => {
  const actual = jest.requireActual<typeof import('@crm/domain')>('@crm/domain');
  const raised: Record<string, number> = { CustomerRegistered: 3, PurchaseRecorded: 4 };
  return { ...actual, schemaVersionOf: (type: string): number => raised[type] ?? actual.schemaVersionOf(type) };
});

const CSV = [
  'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
  '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom',
  '536366,71053,WHITE METAL LANTERN,6,2010-12-01 08:28:00,3.39,17851,United Kingdom',
].join('\n');

describe('the importer writes the metadata every writer writes', () => {
  const tmp = makeTempDir('crm-import-metadata-');
  afterEach(() => tmp.remove());

  it('stamps each event with the schema version the domain gives its type', async () => {
    const file = join(tmp.dir, 'retail.csv');
    writeFileSync(file, `${CSV}\n`);
    const store = new InMemoryEventStore(() => new Date('2026-12-01T00:00:00.000Z'));

    await runImport({ kind: 'online-retail', file, dataDir: join(tmp.dir, 'data'), eventStore: store, env: { SQLITE_SYNCHRONOUS: 'NORMAL' } });

    const events = await store.readAll();
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['CustomerRegistered', 'PurchaseRecorded']));
    expect(events.map((e) => [e.type, e.metadata['schemaVersion']])).toEqual(events.map((e) => [e.type, schemaVersionOf(e.type)]));
    expect(events.filter((e) => e.metadata['schemaVersion'] !== 1)).toHaveLength(events.length);
    for (const e of events) {
      expect(e.metadata).toMatchObject({ eventId: e.eventId, actor: { id: 'importer', role: 'system' }, correlationId: expect.stringMatching(/^import-online-retail-/) });
    }
  });
});

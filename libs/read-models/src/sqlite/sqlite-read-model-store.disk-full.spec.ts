import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { describe, expect, it } from '@jest/globals';
import { storageFaultOf } from '@crm/event-store';
import { ReadModelStoreUnavailable } from '../store/errors';
import { SqliteReadModelStore } from './sqlite-read-model-store';

/** SQLITE_FULL made by SQLite itself (`max_page_count` at the file's size), as in the event store's disk-full spec. */
describe('SqliteReadModelStore on a full disk', () => {
  it('a batch fails as ReadModelStoreUnavailable, leaves the checkpoint where it was, and applies once there is room', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-rm-full-'));
    const store = new SqliteReadModelStore(join(dir, 'rm.db'));
    try {
      await store.ensureCollection('docs', []);
      await store.applyBatch([], { projection: 'p', position: 1 });
      const db = (store as unknown as { db: Database.Database }).db;
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      const big = Array.from({ length: 50 }, (_, i) => ({ collection: 'docs', id: `d-${i}`, position: 2, doc: { _id: `d-${i}`, _position: 2, text: 'x'.repeat(2000) } }));
      const failure = await store.applyBatch(big, { projection: 'p', position: 2 }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ReadModelStoreUnavailable);
      expect(storageFaultOf(failure)).toBe('disk');
      expect((await store.getCheckpoint('p'))?.position).toBe(1);
      expect(await store.get('docs', 'd-0')).toBeNull();
      db.pragma('max_page_count = 1073741823');
      await store.applyBatch(big, { projection: 'p', position: 2 });
      expect((await store.getCheckpoint('p'))?.position).toBe(2);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

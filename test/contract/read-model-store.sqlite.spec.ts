import Database from 'better-sqlite3';
import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { SqliteReadModelStore } from '@crm/read-models';
import { makeTempDir } from '../support/temp-dir';
import { describeReadModelStoreContract } from './read-model-store.contract';

describeReadModelStoreContract('sqlite', async () => {
  const tmp = makeTempDir();
  const store = new SqliteReadModelStore(join(tmp.dir, 'read-models.db'));
  return {
    store,
    dispose: async () => {
      await store.close();
      tmp.remove();
    },
  };
});

describe('sqlite read-model store: indexes', () => {
  const plan = (db: Database.Database, sql: string, ...params: unknown[]): string =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');

  it('ends a non-unique index with the id, so a sorted find is read in index order (no temporary sort), and replaces an older index without it', async () => {
    const tmp = makeTempDir();
    const file = join(tmp.dir, 'read-models.db');
    const store = new SqliteReadModelStore(file);
    const raw = new Database(file);
    try {
      await store.ensureCollection('entries', []);
      raw.exec("CREATE INDEX rm_entries__customerId_a__sortKey_d ON rm_entries (json_extract(doc, '$.customerId') ASC, json_extract(doc, '$.sortKey') DESC)");

      await store.ensureCollection('entries', [{ fields: [['customerId', 1], ['sortKey', -1]] }, { fields: [['ref', 1]], unique: true }]);

      const indexes = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rm_entries' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[]);
      expect(indexes).toEqual(['rm_entries__customerId_a__sortKey_d___id_a', 'rm_entries__ref_a']);
      const sorted = "SELECT id, position, doc FROM rm_entries WHERE json_extract(doc, '$.customerId') = ? ORDER BY json_extract(doc, '$.sortKey') DESC, id ASC LIMIT 2";
      expect(plan(raw, sorted, 'c-1')).toContain('USING INDEX rm_entries__customerId_a__sortKey_d___id_a');
      expect(plan(raw, sorted, 'c-1')).not.toContain('TEMP B-TREE');
    } finally {
      raw.close();
      await store.close();
      tmp.remove();
    }
  });
});

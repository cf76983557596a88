import Database from 'better-sqlite3';
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { READ_MODEL_PAGE_SIZE, SqliteReadModelStore } from '@crm/read-models';
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

describe('sqlite read-model store: page size', () => {
  it('creates a new file with 16 KiB pages, and opens a file of an earlier release with its own 4 KiB pages as it is', async () => {
    const tmp = makeTempDir();
    const fresh = join(tmp.dir, 'fresh.db');
    const older = join(tmp.dir, 'older.db');
    const made = new Database(older);
    made.pragma('journal_mode = WAL'); // as an earlier release left it: WAL, SQLite's default page size
    made.exec("CREATE TABLE rm_profiles (id TEXT PRIMARY KEY, position INTEGER NOT NULL, doc TEXT NOT NULL); INSERT INTO rm_profiles VALUES ('c-1', 1, '{\"name\":\"Ada\"}')");
    made.close();
    const stores = [new SqliteReadModelStore(fresh), new SqliteReadModelStore(older)];
    try {
      const pageSize = (file: string): number => {
        const db = new Database(file, { readonly: true });
        try {
          return db.pragma('page_size', { simple: true }) as number;
        } finally {
          db.close();
        }
      };
      expect(READ_MODEL_PAGE_SIZE).toBe(16_384);
      expect(pageSize(fresh)).toBe(READ_MODEL_PAGE_SIZE);
      expect(pageSize(older)).toBe(4096);
      // The older file still reads and takes writes.
      expect(await stores[1]!.get('profiles', 'c-1')).toMatchObject({ _id: 'c-1', name: 'Ada' });
      await stores[1]!.applyBatch([{ collection: 'profiles', id: 'c-2', position: 2, doc: { _id: 'c-2', _position: 2, name: 'Grace' } }], { projection: 'p', position: 2 });
      expect(await stores[1]!.get('profiles', 'c-2')).toMatchObject({ name: 'Grace' });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      tmp.remove();
    }
  });
});

describe('sqlite read-model store: compact after an erasure', () => {
  it('truncates the WAL, and says false instead of waiting on the event loop while another connection reads', async () => {
    const tmp = makeTempDir();
    const file = join(tmp.dir, 'read-models.db');
    const store = new SqliteReadModelStore(file);
    const other = new Database(file); // e.g. the projector thread's connection
    try {
      await store.ensureCollection('profiles', []);
      await store.applyBatch([{ collection: 'profiles', id: 'c-1', position: 1, doc: { _id: 'c-1', _position: 1, name: 'Eleanor Rigby' } }], { projection: 'p', position: 1 });
      await store.applyBatch([{ collection: 'profiles', id: 'c-1', position: 2, doc: { _id: 'c-1', _position: 2, name: '[erased]' } }], { projection: 'p', position: 2 });
      // A read transaction on the other connection pins the WAL: a TRUNCATE checkpoint cannot finish meanwhile.
      const reading = other.prepare('SELECT count(*) FROM rm_profiles').pluck();
      other.exec('BEGIN');
      reading.get();
      const started = Date.now();
      expect(await store.compact(100)).toBe(false);
      // Waiting on SQLite's busy handler would take the busy timeout (5 s) per try; the bound only tells the two apart,
      // with room for a loaded CI machine (it was 1 s, for a 100 ms wait).
      expect(Date.now() - started).toBeLessThan(4000);
      other.exec('COMMIT');
      expect(await store.compact(100)).toBe(true);
      expect(readFileSync(`${file}-wal`).length).toBe(0);
      expect(readFileSync(file).includes('Eleanor Rigby')).toBe(false);
    } finally {
      other.close();
      await store.close();
      tmp.remove();
    }
  });
});

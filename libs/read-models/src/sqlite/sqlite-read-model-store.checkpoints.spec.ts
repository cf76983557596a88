import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SqliteReadModelStore } from './sqlite-read-model-store';

/**
 * In WAL mode the database file changes only when a checkpoint copies pages back into it: a file that grows while the
 * store's own connection has SQLite's automatic checkpoint off shows the worker thread's checkpoints.
 */
describe('SqliteReadModelStore background WAL checkpoints', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-rm-checkpoint-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function fileGrowth(backgroundCheckpoints: boolean): Promise<{ before: number; after: number; docs: number }> {
    const file = join(dir, `rm-${backgroundCheckpoints}.db`);
    const store = new SqliteReadModelStore(file, { backgroundCheckpoints });
    try {
      await store.ensureCollection('docs', []);
      const before = statSync(file).size;
      // 10 batches of 10 documents of ~2 KB: ~200 KB of WAL pages, below the 1,000 pages (16 MB) at which SQLite
      // would checkpoint inside a commit by itself.
      for (let b = 1; b <= 10; b++) {
        const writes = Array.from({ length: 10 }, (_, i) => ({
          collection: 'docs', id: `d-${b}-${i}`, position: b, doc: { _id: `d-${b}-${i}`, _position: b, text: 'x'.repeat(2000) },
        }));
        await store.applyBatch(writes, { projection: 'p', position: b });
      }
      const deadline = Date.now() + 3000;
      while (statSync(file).size <= before + 150_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return { before, after: statSync(file).size, docs: (await store.find('docs', {})).length };
    } finally {
      await store.close();
    }
  }

  it('copies committed documents into the database file from a worker thread, not inside the commits', async () => {
    const { before, after, docs } = await fileGrowth(true);
    expect(docs).toBe(100);
    expect(after).toBeGreaterThan(before + 150_000);
  });

  it('(control) leaves them in the WAL below the automatic threshold when switched off', async () => {
    const { before, after, docs } = await fileGrowth(false);
    expect(docs).toBe(100);
    expect(after).toBeLessThan(before + 150_000);
  });

  it('starts no thread for a connection that only queries', async () => {
    const file = join(dir, 'reader.db');
    const writer = new SqliteReadModelStore(file, { backgroundCheckpoints: false });
    await writer.ensureCollection('docs', []);
    await writer.applyBatch([{ collection: 'docs', id: 'a', position: 1, doc: { _id: 'a', _position: 1, n: 1 } }], { projection: 'p', position: 1 });
    const reader = new SqliteReadModelStore(file);
    try {
      await reader.ensureCollection('docs', []);
      expect(await reader.get('docs', 'a')).toMatchObject({ n: 1 });
      expect((reader as unknown as { checkpointer?: unknown }).checkpointer).toBeUndefined();
      await reader.applyBatch([], { projection: 'q', position: 1 });
      expect((reader as unknown as { checkpointer?: unknown }).checkpointer).toBeDefined();
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});

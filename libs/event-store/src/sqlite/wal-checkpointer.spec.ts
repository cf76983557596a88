import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { SqliteEventStore } from './sqlite-event-store';
import { WalCheckpointer } from './wal-checkpointer';

/**
 * In WAL mode the database file changes only when a checkpoint copies pages back into it. With SQLite's automatic
 * checkpoint switched off, a growing database file therefore shows the worker thread's checkpoints.
 */
describe('SqliteEventStore background WAL checkpoints', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-checkpoint-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const bigEvent = (i: number) => ({ eventId: `e-${i}`, type: 'ContactLogged', data: { text: 'x'.repeat(2000), i }, metadata: {} });

  async function fileGrowth(backgroundCheckpoints: boolean): Promise<{ before: number; after: number; events: number }> {
    const file = join(dir, `events-${backgroundCheckpoints}.db`);
    const store = new SqliteEventStore({ filename: file, backgroundCheckpoints });
    try {
      const before = statSync(file).size;
      // 120 appends of ~2 KB (a few WAL pages each): below the 1,000 pages at which SQLite would checkpoint by itself.
      for (let i = 0; i < 120; i++) await store.appendToStream(`s-${i % 10}`, [bigEvent(i)]);
      const deadline = Date.now() + 3000;
      while (statSync(file).size <= before + 100_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return { before, after: statSync(file).size, events: await store.headPosition() };
    } finally {
      await store.close();
    }
  }

  it('copies committed pages into the database file from the worker, without a commit doing it', async () => {
    const { before, after, events } = await fileGrowth(true);
    expect(events).toBe(120);
    expect(after).toBeGreaterThan(before + 100_000);
  });

  it('(control) leaves them in the WAL below the automatic threshold when switched off', async () => {
    const { before, after } = await fileGrowth(false);
    expect(after).toBeLessThan(before + 100_000);
  });

  it('reads everything back after a close and a reopen', async () => {
    const file = join(dir, 'reopen.db');
    const store = new SqliteEventStore({ filename: file });
    for (let i = 0; i < 50; i++) await store.appendToStream('s-1', [bigEvent(i)]);
    await store.close();
    const again = new SqliteEventStore({ filename: file });
    try {
      expect((await again.readStream('s-1')).map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    } finally {
      await again.close();
    }
  });
});

describe('closing a store with a background checkpointer', () => {
  it('keeps the process alive until the close is done (a script that awaits close() goes on afterwards)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-checkpoint-exit-'));
    try {
      // A child process whose only pending work is the close: it must print after it.
      const script = `
        const { SqliteEventStore } = require(${JSON.stringify(join(__dirname, 'sqlite-event-store'))});
        const store = new SqliteEventStore({ filename: ${JSON.stringify(join(dir, 'e.db'))} });
        store.appendToStream('s', [{ eventId: 'e1', type: 'T', data: {}, metadata: {} }])
          .then(() => store.close())
          .then(() => process.stdout.write('closed'));
      `;
      const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
        cwd: join(__dirname, '..', '..', '..', '..'), encoding: 'utf8', timeout: 60_000,
      });
      expect(out).toBe('closed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('background checkpoints in a process started with a require hook', () => {
  it('still run: the worker does not load the parent\'s -r modules into its 8 MB heap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-checkpoint-hook-'));
    try {
      // ts-node's hook preloaded into the checkpoint worker ran it out of its heap at start; the store then fell back
      // to SQLite's own checkpoints inside commits (the benches and `ts-node` scripts run this way), without a word.
      const file = join(dir, 'e.db');
      const script = `
        const { statSync } = require('node:fs');
        const { SqliteEventStore } = require(${JSON.stringify(join(__dirname, 'sqlite-event-store'))});
        (async () => {
          const store = new SqliteEventStore({ filename: ${JSON.stringify(file)} });
          const before = statSync(${JSON.stringify(file)}).size;
          for (let i = 0; i < 120; i++) {
            await store.appendToStream('s-' + (i % 10), [{ eventId: 'e-' + i, type: 'T', data: { text: 'x'.repeat(2000) }, metadata: {} }]);
          }
          const deadline = Date.now() + 5000;
          while (statSync(${JSON.stringify(file)}).size <= before + 100000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
          const grown = statSync(${JSON.stringify(file)}).size > before + 100000;
          await store.close();
          process.stdout.write(grown ? 'checkpointed' : 'not checkpointed');
        })();
      `;
      const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
        cwd: join(__dirname, '..', '..', '..', '..'), encoding: 'utf8', timeout: 60_000,
      });
      expect(out).toBe('checkpointed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('WalCheckpointer with a bound on the WAL', () => {
  /** A WAL of ~300 frames no checkpoint has copied, written by a connection of its own, and the checkpointer's effect. */
  async function walAfterCheckpoint(truncateAboveFrames: number | undefined): Promise<{ walBefore: number; walAfter: number; rows: number }> {
    const dir = mkdtempSync(join(tmpdir(), 'crm-checkpoint-bound-'));
    const file = join(dir, 'w.db');
    const writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = writer.prepare('INSERT INTO t (body) VALUES (?)');
    // 100 commits of ~8 KB: ~300 WAL frames of 4 KiB, none copied back (automatic checkpoints off).
    for (let i = 0; i < 100; i++) insert.run('x'.repeat(8000));
    const walBefore = statSync(`${file}-wal`).size;
    const checkpointer = new WalCheckpointer(file, () => undefined, { intervalMs: 20, truncateAboveFrames });
    try {
      checkpointer.committed();
      // The PASSIVE checkpoint copies every frame (no reader, no writer); the database file then holds all 100 rows.
      const deadline = Date.now() + 5000;
      while (statSync(file).size < 800_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      return { walBefore, walAfter: statSync(`${file}-wal`).size, rows: writer.prepare('SELECT count(*) FROM t').pluck().get() as number };
    } finally {
      await checkpointer.close();
      writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('empties the WAL file once it holds more frames than the bound', async () => {
    const { walBefore, walAfter, rows } = await walAfterCheckpoint(50);
    expect(walBefore).toBeGreaterThan(800_000);
    expect(walAfter).toBe(0);
    expect(rows).toBe(100);
  });

  it('(control) leaves the copied WAL at its size without a bound: only a writer restarts it', async () => {
    const { walBefore, walAfter, rows } = await walAfterCheckpoint(undefined);
    expect(walAfter).toBe(walBefore);
    expect(rows).toBe(100);
  });
});

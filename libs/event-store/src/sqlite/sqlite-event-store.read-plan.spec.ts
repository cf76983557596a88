import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { EventToAppend } from '../event-store.port';
import { SqliteEventStore } from './sqlite-event-store';

const ev = (type: string, i: number): EventToAppend => ({ eventId: randomUUID(), type, data: { i }, metadata: {} });

/**
 * What SQLite does for a read, not only what it returns: the API reads every merge step (two event types, no limit)
 * at each start, and a walk of the whole log there made `npm start` on a 1M-event store wait for a full scan.
 */
describe('SqliteEventStore read plans', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-read-plan-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.db'), synchronous: 'NORMAL' });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The SQL the store prepares while `read` runs, each with the plan SQLite chose for it. */
  async function plansOf(read: () => Promise<unknown>): Promise<Array<{ sql: string; plan: string }>> {
    const prepared: string[] = [];
    const original = Database.prototype.prepare;
    jest.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, source: string) {
      prepared.push(source);
      return original.call(this, source);
    } as typeof original);
    await read();
    jest.restoreAllMocks();
    const db = new Database(join(dir, 'events.db'), { readonly: true });
    try {
      return prepared.map((sql) => {
        const params = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 0);
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>;
        return { sql, plan: rows.map((r) => r.detail).join('; ') };
      });
    } finally {
      db.close();
    }
  }

  it('an unbounded read of several types walks the type index, not the log', async () => {
    const tag = randomUUID();
    for (let i = 0; i < 30; i++) await store.appendToStream(`s-${tag}-${i}`, [ev(i % 10 === 0 ? `A-${tag}` : i % 10 === 5 ? `B-${tag}` : `noise-${tag}`, i)], { expectedRevision: 'no-stream' });
    let read: Array<{ type: string; data: unknown }> = [];
    const plans = await plansOf(async () => { read = await store.readAll({ eventTypes: [`A-${tag}`, `B-${tag}`] }); });
    expect(read.map((e) => (e.data as { i: number }).i)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(plans.length).toBeGreaterThan(0);
    for (const p of plans) expect(p.plan).toMatch(/USING INDEX events_type_position/);
  });

  it('backwards, the same read interleaves the types newest first', async () => {
    const tag = randomUUID();
    for (let i = 0; i < 12; i++) await store.appendToStream(`s-${tag}-${i}`, [ev(i % 3 === 0 ? `A-${tag}` : i % 3 === 1 ? `B-${tag}` : `noise-${tag}`, i)], { expectedRevision: 'no-stream' });
    const back = await store.readAll({ direction: 'backwards', eventTypes: [`B-${tag}`, `A-${tag}`] });
    expect(back.map((e) => (e.data as { i: number }).i)).toEqual([10, 9, 7, 6, 4, 3, 1, 0]);
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { makeTempDir } from '../../../../test/support/temp-dir';
import { SqliteIdempotencyStore, type StoredResponse } from './idempotency-store';

const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const SCOPE = 'agent-1\nkey-1';
const RESPONSE: StoredResponse = { status: 201, headers: { etag: '"0"' }, body: { id: 'first-id' } };

// What every store does is in test/contract/idempotency-store.contract.ts; here what only SQLite does: a file belongs
// to one process, so a key pending from an earlier boot is recoverable at once (no lease to wait for).
describe('SqliteIdempotencyStore', () => {
  const dirs: Array<{ remove: () => void }> = [];
  const stores: SqliteIdempotencyStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) d.remove();
  });
  const file = (): string => {
    const tmp = makeTempDir('crm-idem-');
    dirs.push(tmp);
    return join(tmp.dir, 'idempotency.db');
  };
  /** A store on `path`, as a process opening DATA_DIR would open it. */
  const open = (path: string): SqliteIdempotencyStore => {
    const store = new SqliteIdempotencyStore(path);
    stores.push(store);
    return store;
  };

  it('recovers at once, with the first request id, a key left pending by an earlier process (a crash)', async () => {
    const path = file();
    await open(path).reserve(SCOPE, 'h', T0, 'req-1');
    // The process dies: no complete, no release. A new one opens the file a moment later.

    const reopened = open(path);

    expect(await reopened.reserve(SCOPE, 'h', T0 + 1, 'req-2')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
    expect(await reopened.reserve(SCOPE, 'h', T0 + 2, 'req-3')).toEqual({ kind: 'in-progress' });
    await reopened.complete(SCOPE, 'h', RESPONSE, T0 + 3);
    expect(await reopened.reserve(SCOPE, 'h', T0 + 4, 'req-4')).toMatchObject({ kind: 'completed' });
  });

  it('keeps a pending key bound to its request: another request with it is refused, as with a completed one', async () => {
    const path = file();
    await open(path).reserve(SCOPE, 'h', T0, 'req-1');

    expect(await open(path).reserve(SCOPE, 'other', T0 + 1, 'req-2')).toEqual({ kind: 'reused' });
  });

  it('opens a file of the earlier schema and recovers its pending rows with a new request id', async () => {
    const path = file();
    const old = new Database(path);
    old.exec(`CREATE TABLE idempotency (scope TEXT PRIMARY KEY, request_hash TEXT NOT NULL, state TEXT NOT NULL, response TEXT, updated_ms INTEGER NOT NULL)`);
    old.prepare(`INSERT INTO idempotency VALUES (?, 'h', 'pending', NULL, ?)`).run(SCOPE, T0);
    old.prepare(`INSERT INTO idempotency VALUES ('agent-1\nold-done', 'h', 'done', ?, ?)`).run(JSON.stringify(RESPONSE), T0);
    old.close();

    const store = open(path);

    expect(await store.reserve(SCOPE, 'h', T0 + 1, 'req-new')).toEqual({ kind: 'reserved', requestId: 'req-new', recovered: true });
    expect(await store.reserve('agent-1\nold-done', 'h', T0 + 1, 'req-x')).toMatchObject({ kind: 'completed', response: RESPONSE });
  });
});

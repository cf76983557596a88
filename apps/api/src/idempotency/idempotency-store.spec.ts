import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { makeTempDir } from '../../../../test/support/temp-dir';
import { SqliteIdempotencyStore, type StoredResponse } from './idempotency-store';

const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const SCOPE = 'agent-1\nkey-1';
const RESPONSE: StoredResponse = { status: 201, headers: { etag: '"0"' }, body: { id: 'first-id' } };

describe('SqliteIdempotencyStore', () => {
  const dirs: Array<{ remove: () => void }> = [];
  const stores: SqliteIdempotencyStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) d.remove();
  });
  const file = (): string => {
    const tmp = makeTempDir('crm-idem-');
    dirs.push(tmp);
    return join(tmp.dir, 'idempotency.db');
  };
  /** A store on `path`, as a process opening DATA_DIR would open it. */
  const open = (path: string, staleAfterMs?: number): SqliteIdempotencyStore => {
    const store = new SqliteIdempotencyStore(path, staleAfterMs);
    stores.push(store);
    return store;
  };

  it('reserves a new key with the request id it is given; a second request meanwhile is told it is in progress', () => {
    const store = open(file());

    expect(store.reserve(SCOPE, 'h', T0, 'req-1')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: false });
    expect(store.reserve(SCOPE, 'h', T0 + 1, 'req-2')).toEqual({ kind: 'in-progress' });
  });

  it('replays a completed key, after a restart too', () => {
    const path = file();
    const store = open(path);
    store.reserve(SCOPE, 'h', T0, 'req-1');
    store.complete(SCOPE, 'h', RESPONSE, T0 + 5);

    expect(store.reserve(SCOPE, 'h', T0 + 10, 'req-2')).toEqual({ kind: 'completed', requestHash: 'h', response: RESPONSE });
    store.close();
    expect(open(path).reserve(SCOPE, 'h', T0 + 10, 'req-3')).toEqual({ kind: 'completed', requestHash: 'h', response: RESPONSE });
  });

  it('recovers at once, with the first request id, a key left pending by an earlier process (a crash)', () => {
    const path = file();
    open(path).reserve(SCOPE, 'h', T0, 'req-1');
    // The process dies: no complete, no release. A new one opens the file a moment later.

    const reopened = open(path);

    expect(reopened.reserve(SCOPE, 'h', T0 + 1, 'req-2')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
    expect(reopened.reserve(SCOPE, 'h', T0 + 2, 'req-3')).toEqual({ kind: 'in-progress' });
    reopened.complete(SCOPE, 'h', RESPONSE, T0 + 3);
    expect(reopened.reserve(SCOPE, 'h', T0 + 4, 'req-4')).toMatchObject({ kind: 'completed' });
  });

  it('recovers a key this process released (a 5xx answer may follow a committed append), never starting afresh', () => {
    const store = open(file());
    store.reserve(SCOPE, 'h', T0, 'req-1');
    store.release(SCOPE);

    expect(store.reserve(SCOPE, 'h', T0 + 1, 'req-2')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
  });

  it('keeps a pending key bound to its request: another request with it is refused, as with a completed one', () => {
    const path = file();
    open(path).reserve(SCOPE, 'h', T0, 'req-1');

    expect(open(path).reserve(SCOPE, 'other', T0 + 1, 'req-2')).toEqual({ kind: 'reused' });
  });

  it('takes over a request of this process that never ended, after the stale timeout (a backstop)', () => {
    const store = open(file(), 1_000);
    store.reserve(SCOPE, 'h', T0, 'req-1');

    expect(store.reserve(SCOPE, 'h', T0 + 999, 'req-2')).toEqual({ kind: 'in-progress' });
    expect(store.reserve(SCOPE, 'h', T0 + 1_000, 'req-3')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
  });

  it('no longer counts a request as running once recording its outcome failed: the next attempt recovers it', () => {
    const store = open(file());
    store.reserve(SCOPE, 'h', T0, 'req-1');
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;

    expect(() => store.complete(SCOPE, 'h', { status: 201, headers: {}, body: circular }, T0 + 1)).toThrow();
    expect(store.reserve(SCOPE, 'h', T0 + 2, 'req-2')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
  });

  it('opens a file of the earlier schema and recovers its pending rows with a new request id', () => {
    const path = file();
    const old = new Database(path);
    old.exec(`CREATE TABLE idempotency (scope TEXT PRIMARY KEY, request_hash TEXT NOT NULL, state TEXT NOT NULL, response TEXT, updated_ms INTEGER NOT NULL)`);
    old.prepare(`INSERT INTO idempotency VALUES (?, 'h', 'pending', NULL, ?)`).run(SCOPE, T0);
    old.prepare(`INSERT INTO idempotency VALUES ('agent-1\nold-done', 'h', 'done', ?, ?)`).run(JSON.stringify(RESPONSE), T0);
    old.close();

    const store = open(path);

    expect(store.reserve(SCOPE, 'h', T0 + 1, 'req-new')).toEqual({ kind: 'reserved', requestId: 'req-new', recovered: true });
    expect(store.reserve('agent-1\nold-done', 'h', T0 + 1, 'req-x')).toMatchObject({ kind: 'completed', response: RESPONSE });
  });
});

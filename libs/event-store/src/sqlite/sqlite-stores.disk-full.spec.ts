import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SqliteKeyStore } from '../crypto/key-store';
import { KeyEncryptionKey } from '../crypto/key-encryption-key';
import { StoreUnavailable } from '../errors';
import { storageFaultOf } from '../storage-faults';
import { SqliteEventStore } from './sqlite-event-store';

/**
 * A full disk, made by SQLite itself: `PRAGMA max_page_count` at the file's current size makes the next write that
 * needs a new page fail with SQLITE_FULL ("database or disk is full"), the same error a full file system gives, and
 * raising it again is the space coming back. Deterministic, no mount needed (test/faults has the real thing).
 */
function connectionOf(store: SqliteEventStore | SqliteKeyStore): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}
function fillUp(db: Database.Database): void {
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
}
function makeRoom(db: Database.Database): void {
  db.pragma('max_page_count = 1073741823');
}

describe('SQLite stores on a full disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-full-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('key store: creating a key fails as StoreUnavailable (not a bare SqliteError), and works again once there is room', async () => {
    const keys = new SqliteKeyStore(join(dir, 'keys.db'), { kek: KeyEncryptionKey.generate(), recheckMs: 0 });
    try {
      await keys.keyFor('before');
      fillUp(connectionOf(keys));
      let failure: unknown;
      for (let i = 0; i < 2000 && failure === undefined; i++) {
        try {
          await keys.keyFor(`subject-${i}`);
        } catch (error) {
          failure = error;
        }
      }
      expect(failure).toBeInstanceOf(StoreUnavailable);
      expect(storageFaultOf(failure)).toBe('disk');
      expect((await keys.existingKeys(['before'])).get('before')).toBeInstanceOf(Buffer); // reads still work
      makeRoom(connectionOf(keys));
      expect(await keys.keyFor('after')).toBeInstanceOf(Buffer);
      expect((await keys.existingKeys(['after'])).get('after')).toBeInstanceOf(Buffer);
    } finally {
      await keys.close();
    }
  });

  it('event store: an append fails as StoreUnavailable, nothing of it is stored, and appends work again once there is room', async () => {
    const store = new SqliteEventStore({ filename: join(dir, 'events.db'), synchronous: 'NORMAL', backgroundCheckpoints: false });
    try {
      await store.appendToStream('s-0', [{ eventId: 'e-0', type: 'T', data: {}, metadata: {} }]);
      const db = connectionOf(store);
      // The WAL holds pages beyond max_page_count's view until checkpointed into the file: start from a checkpointed file.
      db.pragma('wal_checkpoint(TRUNCATE)');
      fillUp(db);
      let failure: unknown;
      let n = 0;
      const padding = 'x'.repeat(900);
      while (failure === undefined && n < 2000) {
        n += 1;
        try {
          await store.appendToStream(`s-${n}`, [{ eventId: `e-${n}`, type: 'T', data: { padding }, metadata: {} }], { expectedRevision: 'no-stream' });
        } catch (error) {
          failure = error;
        }
      }
      expect(failure).toBeInstanceOf(StoreUnavailable);
      expect(storageFaultOf(failure)).toBe('disk');
      expect(await store.readStream(`s-${n}`)).toEqual([]);
      makeRoom(db);
      const after = await store.appendToStream(`s-${n}`, [{ eventId: `e-${n}`, type: 'T', data: {}, metadata: {} }], { expectedRevision: 'no-stream' });
      expect(after.nextExpectedRevision).toBe(0);
    } finally {
      await store.close();
    }
  });
});

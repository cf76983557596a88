import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SqliteKeyStore } from '../crypto/key-store';
import { KeyEncryptionKey } from '../crypto/key-encryption-key';
import { SqliteEventStore } from './sqlite-event-store';

/**
 * Another process holding the write lock (an import committing a group while the server appends), played by a worker
 * thread with its own connection: it takes the lock, writes, and commits `holdMs` later. better-sqlite3 is synchronous,
 * so the holder must not be on this thread (a busy wait here would keep it from ever committing).
 */
const HOLDER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.exec('BEGIN IMMEDIATE');
db.exec(workerData.sql);
parentPort.postMessage('locked');
setTimeout(() => { db.exec('COMMIT'); db.close(); parentPort.postMessage('committed'); }, workerData.holdMs);
`;

function holdWriteLock(file: string, sql: string, holdMs: number): Promise<{ committed: Promise<void> }> {
  const worker = new Worker(HOLDER, { eval: true, workerData: { file, sql, holdMs, driver: require.resolve('better-sqlite3') } });
  const committed = new Promise<void>((resolve, reject) => {
    worker.on('message', (m) => m === 'committed' && resolve());
    worker.once('error', reject);
  });
  return new Promise((resolve, reject) => {
    worker.on('message', (m) => m === 'locked' && resolve({ committed }));
    worker.once('error', reject);
  });
}

describe('two writers on one DATA_DIR', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-two-writers-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const event = (id: string) => ({ eventId: id, type: 'ContactLogged', data: { id }, metadata: {} });

  it('event store: appends from two stores wait for a held write lock and all succeed, each once', async () => {
    const file = join(dir, 'events.db');
    const a = new SqliteEventStore({ filename: file, synchronous: 'NORMAL' });
    const b = new SqliteEventStore({ filename: file, synchronous: 'NORMAL' });
    try {
      // Each store has read the file before (a snapshot to go stale), as a running server has.
      await a.appendToStream('s-a', [event('a-0')]);
      await b.appendToStream('s-b', [event('b-0')]);
      const { committed } = await holdWriteLock(
        file,
        `INSERT INTO events (event_id, stream_id, revision, type, data, metadata, recorded_at)
         VALUES ('held-0', 's-held', 0, 'ContactLogged', '{}', '{}', '2026-01-01T00:00:00.000Z')`,
        300,
      );
      const results = await Promise.allSettled([
        a.appendToStream('s-a', [event('a-1')], { expectedRevision: 0 }),
        b.appendToStream('s-b', [event('b-1')], { expectedRevision: 0 }),
        a.appendToStream('s-c', [event('c-0')], { expectedRevision: 'no-stream' }),
      ]);
      await committed;
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      const all = await a.readAll();
      expect(all.map((e) => e.eventId).sort()).toEqual(['a-0', 'a-1', 'b-0', 'b-1', 'c-0', 'held-0']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('key store: creating a key waits for a held write lock instead of failing', async () => {
    const file = join(dir, 'keys.db');
    const keys = new SqliteKeyStore(file, { kek: KeyEncryptionKey.generate(), recheckMs: 0 });
    try {
      await keys.keyFor('before');
      // A key in clear (no kek_id), as a process of the version before wrapping writes it: read as it is.
      const { committed } = await holdWriteLock(
        file, `INSERT INTO subject_keys (subject, key, created_at) VALUES ('held', x'00', '2026-01-01T00:00:00.000Z')`, 300,
      );
      expect(await keys.keyFor('during')).toBeInstanceOf(Buffer);
      await committed;
      const found = await keys.existingKeys(['held', 'during']);
      expect(found.get('held')).toBeInstanceOf(Buffer);
      expect(found.get('during')).toBeInstanceOf(Buffer);
    } finally {
      await keys.close();
    }
  });
});

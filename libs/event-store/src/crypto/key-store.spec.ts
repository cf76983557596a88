import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { KeyEncryptionKey } from './key-encryption-key';
import { SqliteKeyStore, type SubjectKey } from './key-store';

const existing = async (store: SqliteKeyStore, subject: string): Promise<SubjectKey | undefined> => (await store.existingKeys([subject])).get(subject);

/** Two stores on one file stand for the API and the projector process: what one writes, the other must see at once. */
describe('SqliteKeyStore shared by two processes', () => {
  let dir: string;
  let api: SqliteKeyStore;
  let projector: SqliteKeyStore;
  const at = new Date('2026-03-01T00:00:00.000Z');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-keys-'));
    const kek = KeyEncryptionKey.generate();
    // Re-checked on every read (production: every 50 ms), so "at once" is testable without a clock.
    api = new SqliteKeyStore(join(dir, 'keys.db'), { kek, recheckMs: 0 });
    projector = new SqliteKeyStore(join(dir, 'keys.db'), { kek, recheckMs: 0 });
  });

  afterEach(async () => {
    await api.close();
    await projector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the key the other created, and never creates one on a read', async () => {
    expect(await existing(projector, 'cust-1')).toBeUndefined();
    const key = await api.keyFor('cust-1');
    expect(key).toBeInstanceOf(Buffer);
    expect(await existing(projector, 'cust-1')).toEqual(key);
    expect(await existing(projector, 'cust-2')).toBeUndefined();
    expect(await existing(api, 'cust-2')).toBeUndefined();
  });

  it('sees an erasure made by the other at its next read, though it had the key cached', async () => {
    const key = await api.keyFor('cust-1');
    expect(await existing(projector, 'cust-1')).toEqual(key);
    expect(await existing(projector, 'cust-1')).toEqual(key); // served from its cache

    expect(await api.erase('cust-1', at)).toBe(true);

    expect(await existing(projector, 'cust-1')).toBe('erased');
    expect(await projector.keyFor('cust-1')).toBe('erased');
    expect(await api.keyFor('cust-1')).toBe('erased');
    expect(await api.erase('cust-1', at)).toBe(false);
  });

  it('keeps the other subjects readable after an erasure elsewhere', async () => {
    const one = await api.keyFor('cust-1');
    const two = await api.keyFor('cust-2');
    expect(await existing(projector, 'cust-1')).toEqual(one);
    expect(await existing(projector, 'cust-2')).toEqual(two);
    await projector.erase('cust-1', at);
    expect(await existing(api, 'cust-1')).toBe('erased');
    expect(await existing(api, 'cust-2')).toEqual(two);
  });
});

/** keys.db files written before envelope encryption hold their keys in clear: they must keep opening what they sealed. */
/** Each commit of keys.db (rollback journal, synchronous=FULL) costs several fsyncs: new keys are committed in groups. */
describe('SqliteKeyStore creating many keys at once', () => {
  let dir: string;
  let store: SqliteKeyStore;
  const kek = KeyEncryptionKey.generate();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-keys-'));
    store = new SqliteKeyStore(join(dir, 'keys.db'), { kek, recheckMs: 0 });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the keys asked for in one turn of the event loop in one transaction, each durable before it is handed out', async () => {
    const transactions = jest.spyOn(Database.prototype, 'transaction');
    const subjects = Array.from({ length: 37 }, (_, i) => `grouped-${i}`);
    const keys = await Promise.all([...subjects, 'grouped-3'].map((s) => store.keyFor(s)));
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(new Set(keys.map((k) => (k as Buffer).toString('hex'))).size).toBe(37);
    expect(keys[37]).toEqual(keys[3]);
    const other = new SqliteKeyStore(join(dir, 'keys.db'), { kek, recheckMs: 0 });
    try {
      const found = await other.existingKeys(subjects);
      expect(subjects.map((s) => found.get(s))).toEqual(keys.slice(0, 37));
    } finally {
      await other.close();
    }
  });

  it('still writes a key asked for just before close', async () => {
    const asked = store.keyFor('closing-1');
    await store.close();
    const key = await asked;
    expect(key).toBeInstanceOf(Buffer);
  });
});

describe('SqliteKeyStore on a keys.db from before wrapping', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-keys-legacy-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The file exactly as the previous version created it. */
  function legacyFile(keys: Record<string, Buffer | null>): string {
    const file = join(dir, 'keys.db');
    const db = new Database(file);
    db.exec('CREATE TABLE subject_keys (subject TEXT PRIMARY KEY, key BLOB, created_at TEXT NOT NULL, erased_at TEXT)');
    const insert = db.prepare('INSERT INTO subject_keys (subject, key, created_at, erased_at) VALUES (?, ?, ?, ?)');
    for (const [subject, key] of Object.entries(keys)) insert.run(subject, key, '2026-01-01T00:00:00.000Z', key ? null : '2026-02-01T00:00:00.000Z');
    db.close();
    return file;
  }

  it('wraps the keys in clear on open: the same keys are read, the file no longer holds them, tombstones stay', async () => {
    const old = Buffer.alloc(32, 7);
    const file = legacyFile({ 'cust-old': old, 'cust-gone': null });
    const kek = KeyEncryptionKey.generate();

    const store = new SqliteKeyStore(file, { kek, recheckMs: 0 });
    try {
      expect(await existing(store, 'cust-old')).toEqual(old);
      expect(await existing(store, 'cust-gone')).toBe('erased');
      expect(await store.erasedSubjects()).toEqual(['cust-gone']);
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    const row = db.prepare('SELECT key, kek_id FROM subject_keys WHERE subject = ?').get('cust-old') as { key: Buffer; kek_id: string };
    db.close();
    expect(row.kek_id).toBe(kek.id);
    expect(row.key.includes(old)).toBe(false);
    expect(kek.unwrap('cust-old', row.key)).toEqual(old);

    // Opened again (the next start): nothing left to migrate, the key is unchanged.
    const again = new SqliteKeyStore(file, { kek, recheckMs: 0 });
    try {
      expect(await existing(again, 'cust-old')).toEqual(old);
    } finally {
      await again.close();
    }
  });

  it('refuses to open keys wrapped by another key-encryption key, naming the variable', async () => {
    const file = join(dir, 'keys.db');
    const first = new SqliteKeyStore(file, { kek: KeyEncryptionKey.generate() });
    await first.keyFor('cust-1');
    await first.close();
    // A regenerated KEK file (the old one lost) or another one: refused at start, not at every read.
    expect(() => new SqliteKeyStore(file, { kek: KeyEncryptionKey.generate() })).toThrow(/wrapped by another key-encryption key.*DATA_KEY_ENCRYPTION_KEY_FILE/);
  });
});

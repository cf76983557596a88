import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SqliteKeyStore } from './key-store';

/** Two stores on one file stand for the API and the projector process: what one writes, the other must see at once. */
describe('SqliteKeyStore shared by two processes', () => {
  let dir: string;
  let api: SqliteKeyStore;
  let projector: SqliteKeyStore;
  const at = new Date('2026-03-01T00:00:00.000Z');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-keys-'));
    // Re-checked on every read (production: every 50 ms), so "at once" is testable without a clock.
    api = new SqliteKeyStore(join(dir, 'keys.db'), 0);
    projector = new SqliteKeyStore(join(dir, 'keys.db'), 0);
  });

  afterEach(() => {
    api.close();
    projector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the key the other created, and never creates one on a read', () => {
    expect(projector.existingKey('cust-1')).toBeUndefined();
    const key = api.keyFor('cust-1');
    expect(key).toBeInstanceOf(Buffer);
    expect(projector.existingKey('cust-1')).toEqual(key);
    expect(projector.existingKey('cust-2')).toBeUndefined();
    expect(api.existingKey('cust-2')).toBeUndefined();
  });

  it('sees an erasure made by the other at its next read, though it had the key cached', () => {
    const key = api.keyFor('cust-1');
    expect(projector.existingKey('cust-1')).toEqual(key);
    expect(projector.existingKey('cust-1')).toEqual(key); // served from its cache

    expect(api.erase('cust-1', at)).toBe(true);

    expect(projector.existingKey('cust-1')).toBe('erased');
    expect(projector.keyFor('cust-1')).toBe('erased');
    expect(api.keyFor('cust-1')).toBe('erased');
    expect(api.erase('cust-1', at)).toBe(false);
  });

  it('keeps the other subjects readable after an erasure elsewhere', () => {
    const one = api.keyFor('cust-1');
    const two = api.keyFor('cust-2');
    expect(projector.existingKey('cust-1')).toEqual(one);
    expect(projector.existingKey('cust-2')).toEqual(two);
    projector.erase('cust-1', at);
    expect(api.existingKey('cust-1')).toBe('erased');
    expect(api.existingKey('cust-2')).toEqual(two);
  });

  it('lists the erased subjects (tombstones), including one erased before it ever had a key', () => {
    api.keyFor('cust-1');
    api.keyFor('cust-2');
    expect(projector.erasedSubjects()).toEqual([]);
    api.erase('cust-2', at);
    projector.erase('cust-never-keyed', at);
    expect(api.erasedSubjects()).toEqual(['cust-2', 'cust-never-keyed']);
  });
});

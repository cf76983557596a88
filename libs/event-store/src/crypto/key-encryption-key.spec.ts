import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DataKeyUnwrapFailed, KeyEncryptionKey } from './key-encryption-key';

describe('KeyEncryptionKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-kek-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('unwraps what it wrapped, and refuses a wrapped key moved to another subject (the subject is bound in)', () => {
    const kek = KeyEncryptionKey.generate();
    const dataKey = randomBytes(32);
    const wrapped = kek.wrap('cust-a', dataKey);
    expect(wrapped.includes(dataKey)).toBe(false);
    expect(kek.unwrap('cust-a', wrapped)).toEqual(dataKey);
    expect(() => kek.unwrap('cust-b', wrapped)).toThrow(DataKeyUnwrapFailed);
    expect(() => KeyEncryptionKey.generate().unwrap('cust-a', wrapped)).toThrow(DataKeyUnwrapFailed);
    const tampered = Buffer.from(wrapped);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1);
    expect(() => kek.unwrap('cust-a', tampered)).toThrow(DataKeyUnwrapFailed);
  });

  it('reads 32 base64 bytes from DATA_KEY_ENCRYPTION_KEY_FILE, and names the variable in every refusal', () => {
    const good = join(dir, 'kek');
    const bytes = randomBytes(32);
    writeFileSync(good, `${bytes.toString('base64')}\n`);
    expect(KeyEncryptionKey.readFile(good).id).toBe(KeyEncryptionKey.fromBytes(bytes).id);

    const short = join(dir, 'short');
    writeFileSync(short, randomBytes(16).toString('base64'));
    const garbage = join(dir, 'garbage');
    writeFileSync(garbage, 'not a key!');
    for (const file of [short, garbage, join(dir, 'missing')]) {
      expect(() => KeyEncryptionKey.readFile(file)).toThrow(new RegExp(`DATA_KEY_ENCRYPTION_KEY_FILE ${file}`));
    }
  });

  it('creates the embedded mode\'s file once (mode 600); every later open reads that key', () => {
    const file = join(dir, 'data-key-encryption-key');
    const first = KeyEncryptionKey.readOrCreateFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(KeyEncryptionKey.readOrCreateFile(file).id).toBe(first.id);
  });
});

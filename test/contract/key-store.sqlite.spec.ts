import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SqliteKeyStore } from '@crm/event-store';
import { makeTempDir } from '../support/temp-dir';
import { describeKeyStoreContract } from './key-store.contract';

describeKeyStoreContract('sqlite', async () => {
  const tmp = makeTempDir('crm-keys-contract-');
  const file = join(tmp.dir, 'keys.db');
  return {
    open: async ({ kek, cacheTtlMs, now }) => new SqliteKeyStore(file, { kek, recheckMs: cacheTtlMs, now }),
    storedKey: async (subject) => {
      const db = new Database(file, { readonly: true });
      try {
        const row = db.prepare('SELECT key FROM subject_keys WHERE subject = ?').get(subject) as { key: Buffer | null } | undefined;
        return row?.key ?? undefined;
      } finally {
        db.close();
      }
    },
    dispose: async () => tmp.remove(),
  };
});

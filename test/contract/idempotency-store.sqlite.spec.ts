import { join } from 'node:path';
import { SqliteIdempotencyStore } from '../../apps/api/src/idempotency/idempotency-store';
import { makeTempDir } from '../support/temp-dir';
import { describeIdempotencyStoreContract } from './idempotency-store.contract';

// One file per test; each open() is the next boot of the process that owns it. The lease is SQLite's stale timeout; the
// app's SQLite store has no retention (it keeps its records), the contract's is given.
describeIdempotencyStoreContract('sqlite', async () => {
  const tmp = makeTempDir('crm-idem-');
  const file = join(tmp.dir, 'idempotency.db');
  return {
    replicas: false,
    open: async ({ leaseMs, retentionMs }) => new SqliteIdempotencyStore(file, { staleAfterMs: leaseMs, retentionMs }),
    dispose: async () => tmp.remove(),
  };
});

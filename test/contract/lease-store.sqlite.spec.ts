import { join } from 'node:path';
import { SqliteLeaseStore } from '@crm/read-models';
import { makeTempDir } from '../support/temp-dir';
import { describeLeaseStoreContract } from './lease-store.contract';

describeLeaseStoreContract('sqlite', async () => {
  const tmp = makeTempDir();
  const store = new SqliteLeaseStore(join(tmp.dir, 'read-models.db'));
  return {
    store,
    dispose: async () => {
      store.close();
      tmp.remove();
    },
  };
});

import { join } from 'node:path';
import { SqliteReadModelStore } from '@crm/read-models';
import { makeTempDir } from '../support/temp-dir';
import { describeReadModelStoreContract } from './read-model-store.contract';

describeReadModelStoreContract('sqlite', async () => {
  const tmp = makeTempDir();
  const store = new SqliteReadModelStore(join(tmp.dir, 'read-models.db'));
  return {
    store,
    dispose: async () => {
      await store.close();
      tmp.remove();
    },
  };
});

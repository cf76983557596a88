import { join } from 'node:path';
import { InMemoryEventStore, SqliteEventStore } from '@crm/event-store';
import { makeTempDir } from '../support/temp-dir';
import { describeEventStoreContract } from './event-store.contract';

describeEventStoreContract('sqlite (file, synchronous=FULL)', async () => {
  const tmp = makeTempDir();
  const store = new SqliteEventStore({ filename: join(tmp.dir, 'events.db'), synchronous: 'FULL' });
  return {
    store,
    dispose: async () => {
      await store.close();
      tmp.remove();
    },
  };
});

describeEventStoreContract('in-memory', async () => {
  const store = new InMemoryEventStore();
  return { store, dispose: () => store.close() };
});

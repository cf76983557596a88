import { mkdirSync } from 'node:fs';
import {
  makeDeciders, makeProjectorHost, Metrics, openEventStore, openKeyStore, openReadModelStore, systemClock, type AppConfig,
  type ProjectorHost,
} from '@crm/runtime';

/** The projector process's parts (every projection, live, plus the SLA watcher), started; `close` stops them in order. */
export async function startProjector(config: AppConfig): Promise<{ host: ProjectorHost; close: () => Promise<void> }> {
  mkdirSync(config.dataDir, { recursive: true });
  const keys = openKeyStore(config);
  const eventStore = openEventStore(config, systemClock, keys);
  const readModelStore = await openReadModelStore(config);
  const deciders = makeDeciders(config);
  const host = makeProjectorHost({
    config, clock: systemClock, eventStore, readModelStore, complaintDecider: deciders.complaint, metrics: new Metrics(),
  });
  await host.start();
  return {
    host,
    close: async () => {
      await host.stop();
      await readModelStore.close();
      await eventStore.close();
      keys.close();
    },
  };
}

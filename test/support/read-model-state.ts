import { ALL_PROJECTIONS, checkpointName, physicalCollection, ProjectionRunner, SqliteReadModelStore, type Doc } from '@crm/read-models';
import type { EventFeed } from '@crm/read-models';

/** Each projection's checkpoint in a read-model file (0 where none), opened and closed per call (another writer owns it). */
export async function checkpointsIn(file: string): Promise<number[]> {
  const store = new SqliteReadModelStore(file);
  try {
    return await Promise.all(ALL_PROJECTIONS.map(async (p) => (await store.getCheckpoint(checkpointName(p)))?.position ?? 0));
  } finally {
    await store.close();
  }
}

export async function until(predicate: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every document of every projection's serving build, by collection, sorted by id. */
export async function dumpReadModels(store: SqliteReadModelStore): Promise<Record<string, Doc[]>> {
  const result: Record<string, Doc[]> = {};
  for (const p of ALL_PROJECTIONS) {
    for (const c of p.collections) {
      const name = physicalCollection(p, c.name);
      result[name] = await store.find(name, {}, { sort: [['_id', 1]] });
    }
  }
  return result;
}

/** The read models a clean run of every projection builds from `events` up to `head`, in a new file. */
export async function cleanRebuild(events: EventFeed, file: string, head: number): Promise<Record<string, Doc[]>> {
  const clean = new SqliteReadModelStore(file);
  try {
    const runner = new ProjectionRunner(events, clean, ALL_PROJECTIONS, { batchSize: 1000 });
    await runner.start();
    for (const p of ALL_PROJECTIONS) {
      if (!(await runner.waitFor(p.name, head, 30_000))) throw new Error(`clean rebuild of ${p.name} did not reach ${head}`);
    }
    await runner.stop();
    return await dumpReadModels(clean);
  } finally {
    await clean.close();
  }
}

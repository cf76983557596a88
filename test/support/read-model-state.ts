import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '@crm/event-store';
import { ALL_PROJECTIONS, checkpointName, physicalCollection, ProjectionRunner, SqliteReadModelStore, type Doc } from '@crm/read-models';
import type { EventFeed, ReadModelStore } from '@crm/read-models';
import { seedHistory } from './seed-history';
import { makeTempDir } from './temp-dir';

type TempDir = ReturnType<typeof makeTempDir>;

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
export async function dumpReadModels(store: ReadModelStore): Promise<Record<string, Doc[]>> {
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
    return await cleanRebuildInto(events, clean, head);
  } finally {
    await clean.close();
  }
}

/** The same into a store the caller opened empty (e.g. a fresh MongoDB database) and closes. */
export async function cleanRebuildInto(events: EventFeed, clean: ReadModelStore, head: number): Promise<Record<string, Doc[]>> {
  const runner = new ProjectionRunner(events, clean, ALL_PROJECTIONS, { batchSize: 1000 });
  await runner.start();
  for (const p of ALL_PROJECTIONS) {
    if (!(await runner.waitFor(p.name, head, 60_000))) throw new Error(`clean rebuild of ${p.name} did not reach ${head}`);
  }
  await runner.stop();
  return await dumpReadModels(clean);
}

/**
 * A data dir whose SQLite log holds the history of 2,000 customers (> 10,000 events, business times from now on, so
 * no SLA deadline falls due while a projector's watcher runs on the real clock) and no read models yet: a catch-up
 * in batches of 20 lasts a few seconds, long enough to crash a projector in the middle of it.
 */
export async function seededDataDir(prefix: string): Promise<{
  tmp: TempDir; dataDir: string; readModelsFile: string; events: SqliteEventStore; head: number;
}> {
  const tmp = makeTempDir(prefix);
  const dataDir = join(tmp.dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const events = new SqliteEventStore({ filename: join(dataDir, 'events.db'), synchronous: 'NORMAL' });
  await seedHistory(events, 2000, new Date());
  return { tmp, dataDir, readModelsFile: join(dataDir, 'read-models.db'), events, head: await events.headPosition() };
}

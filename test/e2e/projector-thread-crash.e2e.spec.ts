import { join } from 'node:path';
import { ALL_PROJECTIONS, SqliteReadModelStore } from '@crm/read-models';
import { loadConfig, Metrics, ProjectorThread } from '@crm/runtime';
import { checkpointsIn, cleanRebuild, dumpReadModels, seededDataDir, until } from '../support/read-model-state';

/**
 * The projector threads of `npm start` (two, PROJECTOR_THREADS=2, each its share of the projections), one of them
 * ended abruptly (`terminate()`, as a crash ends it: its JavaScript stops wherever it is, an open SQLite transaction
 * is rolled back) at random moments of a catch-up of thousands of events, the two in turn;
 * its supervisor starts it again each time, while the other thread carries on. At the end the read models must equal a
 * clean rebuild: nothing skipped, nothing applied twice.
 */
describe('projector thread crash safety', () => {
  jest.setTimeout(300_000);

  it('is started again after each abrupt end mid-catch-up and ends equal to a clean rebuild', async () => {
    const { tmp, dataDir, readModelsFile, events, head } = await seededDataDir('crm-thread-crash-');
    const apiReadModels = new SqliteReadModelStore(readModelsFile);
    let thread: ProjectorThread | undefined;
    try {
      expect(head).toBeGreaterThan(10_000);
      // A carry of 200 documents (100 per thread): the builds commit every few pages and carry the pages between, so
      // the ends land in both.
      const config = loadConfig({
        DATA_DIR: dataDir, LOG_LEVEL: 'silent', PROJECTION_BATCH_SIZE: '20', PROJECTION_CARRY_DOCUMENTS: '200', SQLITE_SYNCHRONOUS: 'NORMAL',
        PROJECTOR: 'thread', PROJECTOR_THREADS: '2',
      });
      const logged: string[] = [];
      thread = await ProjectorThread.start({
        config, readModels: apiReadModels, metrics: new Metrics(), restartDelayMs: 10,
        logger: { error: (m) => logged.push(JSON.stringify(m)), log: (m) => logged.push(JSON.stringify(m)) },
      });
      const running = thread;
      expect(running.groups).toHaveLength(2);
      expect(running.groups.flat().sort()).toEqual(ALL_PROJECTIONS.map((p) => p.name).sort());
      const lowest = (): number => Math.min(...ALL_PROJECTIONS.map((p) => running.checkpointOf(p.name) ?? 0));

      let seed = 7;
      const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      let endedMidway = 0;
      let ended = 0;
      for (let round = 0; round < 4; round++) {
        const before = Math.min(...(await checkpointsIn(readModelsFile)));
        if (before >= head) break;
        // Once this run has made progress (the mirror moved past what is stored), at a random moment shortly after.
        await until(() => lowest() > before, 150_000, `progress in round ${round}`);
        await new Promise((r) => setTimeout(r, Math.floor(random() * 80)));
        // The threads take turns; the other one goes on writing to the same file meanwhile.
        await running.terminate(round % 2);
        ended += 1;
        if (Math.min(...(await checkpointsIn(readModelsFile))) < head) endedMidway += 1;
        // The supervisor starts it again: the next round waits for the new thread's progress.
        await until(async () => (await running.status()).every((p) => p.status === 'catching-up' || p.status === 'live'), 30_000, 'restart');
      }
      expect(endedMidway).toBeGreaterThan(0);
      // Every end is followed by a restart, also one that came after the thread had reached the head (a late round).
      expect(logged.filter((l) => l.includes('starting it again')).length).toBe(ended);

      await until(async () => (await checkpointsIn(readModelsFile)).every((c) => c >= head), 150_000, 'catch-up after the restarts');
      await thread.stop();
      thread = undefined;

      expect(await events.headPosition()).toBe(head);
      const clean = await cleanRebuild(events, join(tmp.dir, 'clean.db'), head);
      const survived = await dumpReadModels(apiReadModels);
      expect(Object.values(clean).reduce((n, docs) => n + docs.length, 0)).toBeGreaterThan(1000);
      expect(survived).toEqual(clean);
    } finally {
      await thread?.stop();
      await apiReadModels.close();
      await events.close();
      tmp.remove();
    }
  });
});

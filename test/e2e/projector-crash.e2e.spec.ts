import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { SqliteReadModelStore } from '@crm/read-models';
import { checkpointsIn as checkpoints, cleanRebuild, dumpReadModels as dump, seededDataDir, until } from '../support/read-model-state';

const ROOT = join(__dirname, '..', '..');

/** The projector app as a real child process (TypeScript through ts-node, so no build is needed). */
function startProjector(dataDir: string): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/projector/src/main.ts'], {
    cwd: ROOT,
    // A carry of 200 documents: the builds commit every few pages and carry the pages between, so kills land in both.
    env: {
      ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', PROJECTION_BATCH_SIZE: '20', PROJECTION_CARRY_DOCUMENTS: '200', SQLITE_SYNCHRONOUS: 'NORMAL',
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

const exited = (child: ChildProcess): Promise<void> => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/**
 * Kills the projector with SIGKILL at random moments during a catch-up of thousands of events, restarts it, and
 * proves the read models equal a clean rebuild: nothing skipped, nothing applied twice.
 */
describe('projector crash safety', () => {
  jest.setTimeout(300_000);

  it('survives SIGKILL mid-catch-up and ends equal to a clean rebuild', async () => {
    const { tmp, dataDir, readModelsFile: readModels, events, head } = await seededDataDir('crm-crash-');
    const children: ChildProcess[] = [];
    try {
      expect(head).toBeGreaterThan(10_000);

      let seed = 42;
      const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      let killedMidway = 0;
      for (let round = 0; round < 4; round++) {
        const before = Math.min(...(await checkpoints(readModels).catch(() => [0])));
        if (before >= head) break; // an earlier round got to the end before its kill
        const child = startProjector(dataDir);
        children.push(child);
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        // Kill once this run has made progress, at a random moment shortly after.
        await until(async () => Math.min(...(await checkpoints(readModels).catch(() => [0]))) > before || child.exitCode !== null, 150_000, 'progress')
          .catch((error: unknown) => { throw new Error(`${String(error)}; projector stderr: ${stderr.slice(-2000)}`); });
        if (child.exitCode !== null) throw new Error(`projector exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, Math.floor(random() * 80)));
        child.kill('SIGKILL');
        await exited(child);
        if (Math.min(...(await checkpoints(readModels))) < head) killedMidway += 1;
      }
      expect(killedMidway).toBeGreaterThan(0);

      const last = startProjector(dataDir);
      children.push(last);
      await until(async () => (await checkpoints(readModels)).every((c) => c >= head), 150_000, 'catch-up after restarts');
      last.kill('SIGTERM');
      await exited(last);

      expect(await events.headPosition()).toBe(head);
      const b = await cleanRebuild(events, join(tmp.dir, 'clean.db'), head);
      const survived = new SqliteReadModelStore(readModels);
      const a = await dump(survived);
      expect(Object.values(b).reduce((n, docs) => n + docs.length, 0)).toBeGreaterThan(1000);
      expect(a).toEqual(b);
      await survived.close();
      await events.close();
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      tmp.remove();
    }
  });
});

import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_PROJECTIONS, readyMarkerName } from '@crm/read-models';
import { ensureBuilt, entryOf, processUsage, spawnNode } from './app-process';
import { REPO_ROOT } from './child-server';
import { removeReadModels, type Dataset } from './dataset';
import { flushDir } from './machine-load';
import { productionNodeFlags } from './node-flags';

/** What the projector process did, from its spawn until every read model was marked ready. */
export interface ProjectorProcessResult {
  readonly logEvents: number;
  /** From the spawn (process start included) until the last ready marker was seen (polled every 100 ms). */
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly threads: number;
  readonly nodeFlags: readonly string[];
  /** VmHWM of the process when the last read model was ready: its own peak, every thread included. */
  readonly peakRssMb: number;
  /** utime + stime of the process (every thread) until then. */
  readonly cpuSeconds: number;
  /** Seconds from the spawn at which each read model's ready marker was first seen. */
  readonly readyAtS: Record<string, number>;
}

/**
 * Every read model built from nothing by the compiled projector process, as an operator runs it (`npm run
 * start:projector`, the compose file's `projector` service): `node --enable-source-maps <scripts/node-flags.json>
 * dist/apps/projector/…/main.js` with `DATA_DIR` and `PROJECTOR_THREADS`, nothing of this shell's environment. The
 * bench's own worker runs the same runner code, but its supervising thread runs under ts-node with the TypeScript
 * compiler loaded (~100 MB RSS after load that no deployed process has): this is the peak RSS the target is about.
 * Done when every projection's ready marker is in read-models.db (read-only polls, every 100 ms); then SIGTERM.
 */
export async function rebuildByProjectorProcess(
  dataset: Dataset,
  options: { threads: number; timeoutMs: number; log: (line: string) => void },
): Promise<ProjectorProcessResult> {
  ensureBuilt(REPO_ROOT, ['projector'], { build: true, log: options.log });
  removeReadModels(dataset);
  const nodeFlags = productionNodeFlags('projector', { projectorThreads: options.threads });
  const { child, stderrTail, spawnedAt } = spawnNode(
    ['--enable-source-maps', ...nodeFlags, entryOf(REPO_ROOT, 'projector')],
    { DATA_DIR: dataset.dataDir, PROJECTOR_THREADS: String(options.threads), LOG_LEVEL: 'warn' },
    REPO_ROOT,
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('projector process: spawn failed');
  const markers = new Map(ALL_PROJECTIONS.map((p) => [readyMarkerName(p), p.name]));
  const readyAtS: Record<string, number> = {};
  const file = join(dataset.dataDir, 'read-models.db');
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (code ${code}, signal ${signal})`));
  // One read-only connection, opened once the store has made the file and its checkpoint table.
  let ready: Database.Statement | undefined;
  let db: Database.Database | undefined;
  const readyNow = (): string[] => {
    if (!ready) {
      if (!existsSync(file)) return [];
      try {
        db ??= new Database(file, { readonly: true, fileMustExist: true });
        ready = db.prepare(`SELECT projection FROM rm_checkpoints WHERE projection IN (${[...markers.keys()].map(() => '?').join(',')})`);
      } catch {
        return []; // the table is not made yet (the store makes it at start)
      }
    }
    return (ready.all(...markers.keys()) as Array<{ projection: string }>).map((r) => markers.get(r.projection)!);
  };
  try {
    for (;;) {
      const at = (performance.now() - spawnedAt) / 1000;
      for (const name of readyNow()) readyAtS[name] ??= Math.round(at * 100) / 100;
      if (Object.keys(readyAtS).length === markers.size) break;
      if (exited) throw new Error(`projector process ${exited} before every read model was ready; stderr:\n${stderrTail()}`);
      if (at * 1000 > options.timeoutMs) throw new Error(`projector process: not every read model ready after ${Math.round(at)} s (ready: ${Object.keys(readyAtS).join(', ') || 'none'})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - spawnedAt) / 1000;
    const usage = processUsage(pid);
    if (!usage) throw new Error('projector process: no /proc usage (not Linux, or gone)');
    return {
      logEvents: dataset.history.headPosition,
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSec: Math.round(dataset.history.headPosition / seconds),
      threads: options.threads,
      nodeFlags,
      peakRssMb: usage.peakRssMb,
      cpuSeconds: usage.cpuSeconds,
      readyAtS,
    };
  } finally {
    db?.close();
    if (!exited) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const grace = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(grace);
    }
    dataset.readModelsBuiltBy = Object.keys(readyAtS).length === markers.size
      ? `the compiled projector process (PROJECTOR_THREADS=${options.threads}, ALL_PROJECTIONS)`
      : undefined;
    flushDir(dataset.dataDir);
  }
}

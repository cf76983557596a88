/**
 * The measured side of the projection-rebuild bench: every projection the product runs (ALL_PROJECTIONS) built from
 * scratch into a fresh SQLite read-model store by the production ProjectionRunner, wired as the production projector
 * wires it (openEventStore with the upcasters, openReadModelStore, batch size from the config, same poll interval),
 * without the SLA watcher. Each projection reads the log from position 0 with its own event-type filter, in pages of
 * `batchSize`, and writes documents + checkpoint per page; the runner interleaves the nine on one event loop.
 *
 * Env: BENCH_DATA_DIR (holds events.db; read-models.db must not exist yet), BENCH_BATCH_SIZE, BENCH_TIMEOUT_MS,
 * BENCH_PROFILE_FILE (optional: V8 CPU profile of the rebuild), BENCH_PROJECTIONS (optional: comma-separated names,
 * to rebuild only those, e.g. one at a time to see what each costs), BENCH_PROJECTOR_THREADS (optional: n; the
 * projections are then run as `npm start` and the projector process run them, by the production ProjectorThread with
 * PROJECTOR_THREADS=n: each thread its own runner and connections, the split by cost; no SLA watcher; the threads run
 * BENCH_PROJECTOR_THREAD_ENTRY, the compiled entry, as in production). Reports time,
 * events/s, per-projection timings and the peak RSS of this process (all its threads).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_PROJECTIONS, ProjectionRunner, readyMarkerName, type Projection, type ProjectionStatus } from '@crm/read-models';
import {
  groupProjections, loadConfig, Metrics, openEventStoreWithKeys, openReadModelStore, ProjectorThread, projectorCarryLimits, systemClock,
} from '@crm/runtime';
import { mainThreadCpuSeconds } from '../lib/thread-cpu';
import { maxRssMb, mb, peakRssMb, profiled, workerMain } from './worker-main';

export interface RebuildResult {
  /** Events in the log (= head position): what was rebuilt. */
  readonly logEvents: number;
  readonly seconds: number;
  /** logEvents / seconds. */
  readonly eventsPerSec: number;
  readonly batchSize: number;
  readonly projections: Array<{
    name: string;
    eventTypes: number;
    /** Events of its types it applied. */
    eventsApplied: number;
    batches: number;
    caughtUpAtS: number;
    status: string;
    lastError: string | null;
  }>;
  readonly rssAfterLoadMb: number;
  /** Highest RSS sampled after each batch of any projection. */
  readonly sampledPeakRssMb: number;
  /** Peak RSS of this process (VmHWM on Linux): what the target is about. */
  readonly peakRssMb: number;
  /** getrusage maxRSS as `process.resourceUsage()` reports it (on Linux: at least the parent's RSS at fork). */
  readonly maxRssMb: number;
  readonly peakHeapUsedMb: number;
  readonly cpuSeconds: number;
  /** Of `cpuSeconds`, this thread's own (the runner's; not the projector threads', nor V8's GC helper threads'). */
  readonly mainThreadCpuSeconds?: number;
  /** Longest time the event loop could not run a timer during the rebuild (an embedded API would not answer then). */
  readonly eventLoopMaxStallMs: number;
  readonly readModelsMb: number;
  readonly profiled: boolean;
  /** Projector threads (BENCH_PROJECTOR_THREADS), and the projections of each; undefined: one runner on this thread. */
  readonly threads?: string[][];
  /** Time the threads' writes waited for read-models.db's write lock (SQLite: one writer at a time), per thread. */
  readonly writeLockWaitSeconds?: number;
}

workerMain(async (): Promise<RebuildResult> => {
  const dataDir = process.env.BENCH_DATA_DIR;
  if (!dataDir) throw new Error('BENCH_DATA_DIR is required');
  if (existsSync(join(dataDir, 'read-models.db'))) throw new Error('read-models.db exists: a rebuild starts from nothing');
  const rssAfterLoadMb = mb(process.memoryUsage().rss);
  // Only what the bench means to set; the batch size default is the production one (loadConfig's).
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PROJECTOR: 'off',
    ...(process.env.BENCH_BATCH_SIZE ? { PROJECTION_BATCH_SIZE: process.env.BENCH_BATCH_SIZE } : {}),
    ...(process.env.PROJECTION_CARRY_DOCUMENTS ? { PROJECTION_CARRY_DOCUMENTS: process.env.PROJECTION_CARRY_DOCUMENTS } : {}),
  });
  const timeoutMs = Number(process.env.BENCH_TIMEOUT_MS ?? 600_000);
  const events = await openEventStoreWithKeys(config, systemClock);
  const readModels = await openReadModelStore(config);
  const only = process.env.BENCH_PROJECTIONS?.split(',').map((x) => x.trim()).filter(Boolean);
  const projections = only ? ALL_PROJECTIONS.filter((p) => only.includes(p.name)) : ALL_PROJECTIONS;
  if (only && projections.length !== only.length) throw new Error(`unknown projection in BENCH_PROJECTIONS=${only.join(',')}`);
  const head = await events.headPosition();
  const batches = new Map<string, number>();
  const errors: string[] = [];
  // Sampled after every batch (from the runner's onBatch): a timer would not do, because the runner's catch-up loop
  // never yields to the event loop's timers (every await resolves at once on the synchronous SQLite driver).
  let sampledPeak = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    sampledPeak = Math.max(sampledPeak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const threadCount = process.env.BENCH_PROJECTOR_THREADS ? Number(process.env.BENCH_PROJECTOR_THREADS) : undefined;
  const metrics = new Metrics();
  let threads: ProjectorThread | undefined;
  const runner = threadCount !== undefined ? undefined : new ProjectionRunner(events, readModels, projections, {
    batchSize: config.projectionBatchSize,
    idlePollMs: 1000, // as makeProjectorHost sets it for SQLite
    carry: projectorCarryLimits(config), // as makeProjectorHost sets it
    // (The runner's per-batch duration is not used: the nine workers interleave at every await, so it includes the
    // others' work.)
    onBatch: (projection) => {
      batches.set(projection, (batches.get(projection) ?? 0) + 1);
      sample();
    },
    logger: { error: (m) => errors.push(JSON.stringify(m)), log: () => undefined },
  });
  const start = async (): Promise<void> => {
    if (runner) return runner.start();
    // The threads' batches are not seen here: RSS (the whole process's) is sampled by a timer, which this thread runs.
    const sampler = setInterval(sample, 50);
    sampler.unref();
    threads = await ProjectorThread.start({
      config: { ...config, projectorThreads: threadCount ?? 1 },
      readModels, metrics, slaWatcher: false, workerEntry: process.env.BENCH_PROJECTOR_THREAD_ENTRY || undefined,
      maxOldGenerationSizeMb: process.env.BENCH_THREAD_HEAP_MB ? Number(process.env.BENCH_THREAD_HEAP_MB) : undefined,
      maxYoungGenerationSizeMb: process.env.BENCH_THREAD_YOUNG_MB ? Number(process.env.BENCH_THREAD_YOUNG_MB) : undefined,
      groups: groupProjections(projections.map((p) => p.name), threadCount ?? 1),
      logger: { error: (m) => errors.push(JSON.stringify(m)), log: () => undefined },
    });
  };
  const control = (): Pick<ProjectionRunner, 'waitFor'> => {
    const c = runner ?? threads;
    if (!c) throw new Error('not started');
    return c;
  };
  const statusOf = async (): Promise<readonly ProjectionStatus[]> => (runner ? runner.status() : (await threads?.status()) ?? []);

  const readyMarked = async (p: Projection): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await readModels.getCheckpoint(readyMarkerName(p))) return true;
      await new Promise((resolveSoon) => setTimeout(resolveSoon, 5));
    }
    return false;
  };
  const caughtUp = new Map<string, number>();
  const cpu0 = process.cpuUsage();
  const mainCpu0 = mainThreadCpuSeconds();
  const t0 = performance.now();
  // A 10 ms ticker: the longest gap between two ticks is how long the event loop could not run a timer (or answer
  // an HTTP request, in a process that also serves the API).
  let lastTick = t0;
  let maxGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - lastTick);
    lastTick = now;
  }, 10);
  await profiled(process.env.BENCH_PROFILE_FILE || undefined, async () => {
    await start();
    await Promise.all(projections.map(async (p) => {
      const ok = await control().waitFor(p.name, head, timeoutMs);
      // Built means ready to serve: indexed and marked (the runner builds the deferred indexes after the catch-up).
      if (ok && !(await readyMarked(p))) errors.push(`${p.name} reached ${head} but was not marked ready within ${timeoutMs} ms`);
      caughtUp.set(p.name, (performance.now() - t0) / 1000);
      if (!ok) errors.push(`${p.name} did not reach ${head} within ${timeoutMs} ms`);
    }));
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = mainThreadCpuSeconds();
  sample();
  // One turn of the event loop, so a timer held back by the rebuild fires and its delay is recorded.
  await new Promise((resolveTurn) => setTimeout(resolveTurn, 30));
  clearInterval(ticker);
  const status = await statusOf();
  const writeLockWaitSeconds = threads ? Math.round((await metrics.readModelWriteLockWait.total()) * 100) / 100 : undefined;
  const groups = threads?.groups;
  await runner?.stop();
  await threads?.stop();
  await readModels.close();
  await events.close();
  if (errors.length > 0) throw new Error(`rebuild failed: ${errors.join('; ')}`);
  const file = join(dataDir, 'read-models.db');
  const readModelsBytes = ['', '-wal'].reduce((sum, suffix) => sum + (existsSync(file + suffix) ? statSync(file + suffix).size : 0), 0);
  return {
    logEvents: head,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSec: Math.round(head / seconds),
    batchSize: config.projectionBatchSize,
    projections: projections.map((p) => {
      const s = status.find((x) => x.name === p.name)!;
      return {
        name: p.name,
        eventTypes: p.eventTypes.length,
        eventsApplied: s.eventsApplied,
        batches: batches.get(p.name) ?? 0,
        caughtUpAtS: Math.round((caughtUp.get(p.name) ?? Number.NaN) * 100) / 100,
        status: s.status,
        lastError: s.lastError?.message ?? null,
      };
    }),
    rssAfterLoadMb,
    sampledPeakRssMb: mb(sampledPeak),
    peakRssMb: peakRssMb(),
    maxRssMb: maxRssMb(),
    peakHeapUsedMb: mb(peakHeap),
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    mainThreadCpuSeconds: mainCpu !== undefined && mainCpu0 !== undefined ? Math.round((mainCpu - mainCpu0) * 100) / 100 : undefined,
    eventLoopMaxStallMs: Math.round(maxGap),
    readModelsMb: mb(readModelsBytes),
    profiled: Boolean(process.env.BENCH_PROFILE_FILE),
    threads: groups,
    writeLockWaitSeconds,
  };
});

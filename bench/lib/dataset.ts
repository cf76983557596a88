import Database from 'better-sqlite3';
import { cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RebuildResult } from '../workers/projection-rebuild.worker';
import { productionNodeFlags } from './node-flags';
import { makeTempDir } from './cleanup';
import { generateHistory, type HistoryInfo } from './history';
import { flushDir } from './machine-load';
import { runWorker } from './worker';

/**
 * A generated history in a data dir laid out as the app expects (DATA_DIR/events.db, DATA_DIR/read-models.db), in a
 * temp dir that lib/cleanup.ts removes on every exit. The projection-rebuild bench builds one (1M events by default)
 * and hands it over; the projection-lag bench, when it runs later in the same `npm run bench`, takes it instead of
 * generating and projecting a history of its own.
 */
export interface Dataset {
  /** The temp dir (BENCH_OWNED_DIR for children) and the data dir inside it. */
  readonly root: string;
  readonly dataDir: string;
  readonly eventsDb: string;
  readonly history: HistoryInfo;
  /** Set once read-models.db holds every projection, caught up with the whole log. */
  readModelsBuiltBy?: string;
  readonly remove: () => void;
}

let handedOver: Dataset | undefined;

export async function generateDataset(events: number, customers: number | undefined, log: (line: string) => void): Promise<Dataset> {
  const tmp = makeTempDir('crm-bench-history-');
  const dataDir = join(tmp.dir, 'data');
  mkdirSync(dataDir);
  const eventsDb = join(dataDir, 'events.db');
  let next = 0;
  const history = await generateHistory({
    events, customers, file: eventsDb,
    onProgress: (written) => {
      if (written >= next) {
        log(`  generating: ${written.toLocaleString('en')} events`);
        next = written + Math.max(100_000, Math.floor(events / 5));
      }
    },
  });
  log(
    `  generated ${history.events.toLocaleString('en')} events (${history.commands.toLocaleString('en')} commands through the deciders, ` +
      `${history.refused.toLocaleString('en')} refused by them) over ${history.customers.toLocaleString('en')} customers and ` +
      `${history.streams.toLocaleString('en')} streams in ${history.seconds.toFixed(1)} s (${Math.round(history.events / history.seconds).toLocaleString('en')} events/s), ` +
      `${Math.round(history.fileBytes / 2 ** 20)} MB`,
  );
  const flushed = flushDir(dataDir);
  if (flushed > 1) log(`  flushed to disk in ${flushed.toFixed(1)} s (not counted)`);
  return { root: tmp.dir, dataDir, eventsDb, history, remove: tmp.remove };
}

/**
 * A copy of an existing data dir (events.db, keys.db and read-models.db caught up, e.g. left by an earlier run) as a
 * dataset, with what the benches need to address it read back from the log. The original is not touched.
 */
export function copyDataset(from: string, log: (line: string) => void): Dataset {
  for (const f of ['events.db', 'read-models.db']) if (!existsSync(join(from, f))) throw new Error(`${from} has no ${f}`);
  const t0 = performance.now();
  const tmp = makeTempDir('crm-bench-history-');
  const dataDir = join(tmp.dir, 'data');
  cpSync(from, dataDir, { recursive: true });
  const eventsDb = join(dataDir, 'events.db');
  const db = new Database(eventsDb, { readonly: true });
  try {
    const customerIds = (db.prepare("SELECT json_extract(data, '$.customerId') AS id FROM events WHERE type = 'CustomerRegistered' ORDER BY position").all() as Array<{ id: string }>).map((r) => r.id);
    const counts = db.prepare("SELECT json_extract(data, '$.customerId') AS id, count(*) AS n FROM events GROUP BY 1 HAVING id IS NOT NULL ORDER BY n DESC").all() as Array<{ id: string; n: number }>;
    const byType = Object.fromEntries((db.prepare('SELECT type, count(*) AS n FROM events GROUP BY type').all() as Array<{ type: string; n: number }>).map((r) => [r.type, r.n]));
    const head = (db.prepare('SELECT max(position) AS p FROM events').get() as { p: number }).p;
    const streams = (db.prepare('SELECT count(*) AS n FROM events WHERE revision = 0').get() as { n: number }).n;
    const sorted = counts.map((c) => c.n).sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const history: HistoryInfo = {
      events: head, commands: Number.NaN, refused: Number.NaN, customers: customerIds.length, streams, byType, customerIds,
      busiest: counts.slice(0, 2000).map((c) => ({ id: c.id, entries: c.n })),
      entriesPerCustomer: { median: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 },
      seconds: 0, fileBytes: statSync(eventsDb).size, headPosition: head,
    };
    log(`  copied ${from} (${head.toLocaleString('en')} events, ${customerIds.length.toLocaleString('en')} customers) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // The copy's ~2 GB of dirty pages could otherwise still be written back while the bench measures, with every
    // fsync of the app (a command's group commit) queued behind that write-back.
    const flushed = flushDir(dataDir);
    log(`  flushed the copy to disk in ${flushed.toFixed(1)} s (not counted)`);
    return { root: tmp.dir, dataDir, eventsDb, history, readModelsBuiltBy: `copied from ${from}`, remove: tmp.remove };
  } finally {
    db.close();
  }
}

export function removeReadModels(dataset: Dataset): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataset.dataDir, `read-models.db${suffix}`), { force: true });
  dataset.readModelsBuiltBy = undefined;
}

/** Rebuilds every projection (or only `projections`) from scratch in a child process (the production ProjectionRunner). */
export async function rebuildReadModels(
  dataset: Dataset,
  options: {
    batchSize?: number; profileFile?: string; timeoutMs: number; name?: string; projections?: readonly string[];
    /** Run by the production projector threads (ProjectorThread, PROJECTOR_THREADS=n) instead of one runner. */
    threads?: number;
    /** With `threads`: the compiled projector-thread.worker.js they run (builtProjectorThreadEntry). */
    workerEntry?: string;
  },
): Promise<RebuildResult> {
  removeReadModels(dataset);
  const result = await runWorker<RebuildResult>({
    name: options.name ?? 'rebuild',
    script: join(__dirname, '..', 'workers', 'projection-rebuild.worker.ts'),
    nodeFlags: productionNodeFlags('projector', { projectorThreads: options.threads }),
    env: {
      BENCH_DATA_DIR: dataset.dataDir,
      BENCH_TIMEOUT_MS: String(options.timeoutMs),
      ...(options.batchSize !== undefined ? { BENCH_BATCH_SIZE: String(options.batchSize) } : {}),
      ...(options.profileFile ? { BENCH_PROFILE_FILE: options.profileFile } : {}),
      ...(options.projections ? { BENCH_PROJECTIONS: options.projections.join(',') } : {}),
      ...(options.threads !== undefined ? { BENCH_PROJECTOR_THREADS: String(options.threads) } : {}),
      ...(options.workerEntry ? { BENCH_PROJECTOR_THREAD_ENTRY: options.workerEntry } : {}),
    },
    timeoutMs: options.timeoutMs + 60_000,
  });
  if (options.projections) dataset.readModelsBuiltBy = undefined; // a partial build is of no use to another bench
  else if (existsSync(join(dataset.dataDir, 'read-models.db'))) {
    dataset.readModelsBuiltBy = options.threads !== undefined
      ? `projection-rebuild worker (production ProjectorThread, ${options.threads} threads, ALL_PROJECTIONS)`
      : 'projection-rebuild worker (production ProjectionRunner, ALL_PROJECTIONS)';
  }
  // What the rebuild wrote goes to disk now, not during the next measurement.
  flushDir(dataset.dataDir);
  return result;
}

/** Keeps a dataset (with its read models built) for a later bench of the same run; replaces an older one. */
export function handOver(dataset: Dataset): void {
  if (handedOver && handedOver !== dataset) handedOver.remove();
  handedOver = dataset;
}

/** Takes the handed-over dataset if it has read models and about `events` events (undefined: any size). */
export function takeDataset(events: number | undefined): Dataset | undefined {
  const d = handedOver;
  if (!d || !d.readModelsBuiltBy) return undefined;
  if (events !== undefined && Math.abs(d.history.events - events) > 0.05 * events) return undefined;
  handedOver = undefined;
  return d;
}

/** The handed-over dataset, left in place for the bench that takes it later (undefined: none of about `events`). */
export function peekDataset(events: number | undefined): Dataset | undefined {
  const d = handedOver;
  if (!d || !d.readModelsBuiltBy) return undefined;
  if (events !== undefined && Math.abs(d.history.events - events) > 0.05 * events) return undefined;
  return d;
}

import { orderDecider } from '@crm/domain';
import type { EventStore } from '@crm/event-store';
import { domainEventMetadata, loadConfig, makeDeciders, openEventStoreWithKeys, systemClock, uuidv7, type AppConfig } from '@crm/runtime';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { CsvSyntaxError } from './csv';
import type { ImportContext } from './import-context';
import { ImportInputError } from './import-errors';
import { importIncidents } from './incidents-import';
import { importOnlineRetail } from './online-retail-import';
import { silentProgress, type ProgressSink } from './progress';
import { RejectsFile } from './rejects';
import { peakRssMb, Tally, type ImportSummary } from './summary';

export const IMPORT_KINDS = ['online-retail', 'incidents'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export interface RunImportOptions {
  readonly kind: ImportKind;
  readonly file: string;
  /** DATA_DIR of the store (overrides the environment's). */
  readonly dataDir?: string;
  /** Environment the store configuration is read from (default process.env), as the API and projector read it. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where rejected rows go; default `<DATA_DIR>/import-rejects-<kind>-<timestamp>.csv`. */
  readonly rejectsFile?: string;
  readonly progress?: ProgressSink;
  /** Commands in flight at once (distinct streams); default 500. */
  readonly concurrency?: number;
  /** An open store to import into (left open); default: the store the configuration names, closed at the end. */
  readonly eventStore?: EventStore;
  /**
   * Worker threads that seal personal fields (AES-GCM per field) for the store this opens; 0 seals on the event loop.
   * Default: one per core but the event loop's, at least 1, at most 4 (defaultSealingThreads).
   */
  readonly sealingThreads?: number;
}

/** One sealing thread per core the event loop leaves (it is busy deciding and appending), at least 1, at most 4. */
export function defaultSealingThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

export { ImportInputError } from './import-errors';

export function isImportKind(value: string): value is ImportKind {
  return (IMPORT_KINDS as readonly string[]).includes(value);
}

/** Imports one file through the domain deciders into the configured event store; returns the summary. */
export async function runImport(options: RunImportOptions): Promise<ImportSummary> {
  const file = resolve(options.file);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new ImportInputError(`cannot read ${file}`);
  }
  const config: AppConfig = loadConfig({ ...(options.env ?? process.env), ...(options.dataDir ? { DATA_DIR: options.dataDir } : {}) });
  mkdirSync(config.dataDir, { recursive: true });
  const startedAt = new Date();
  const rejects = new RejectsFile(
    options.rejectsFile ? resolve(options.rejectsFile) : join(config.dataDir, `import-rejects-${options.kind}-${startedAt.toISOString().replace(/[:.]/g, '-')}.csv`),
  );
  const store = options.eventStore ?? await openEventStoreWithKeys(config, systemClock, { sealingThreads: options.sealingThreads ?? defaultSealingThreads() });
  const deciders = makeDeciders(config, store);
  // The import is one decision about the policy: the version in force when it starts applies to every row.
  await deciders.slaPolicies.refresh();
  const ctx: ImportContext = {
    store,
    deciders: { customer: deciders.customer, complaint: deciders.complaint, order: orderDecider },
    slaPolicy: deciders.slaPolicies.current(),
    correlationId: `import-${options.kind}-${uuidv7(startedAt.getTime())}`,
    now: () => systemClock.now(),
    eventMetadata: domainEventMetadata(),
    progress: options.progress ?? silentProgress,
    rejects,
    concurrency: options.concurrency ?? 500,
    counts: new Tally(),
    skipped: new Tally(),
    notes: {},
    eventsAppended: 0,
    assumeNewStreams: true,
  };
  let rows: number;
  try {
    ({ rows } = options.kind === 'online-retail' ? await importOnlineRetail(ctx, file) : await importIncidents(ctx, file));
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new ImportInputError(`${file}: ${error.message}`);
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw new ImportInputError(`${file}: not valid gzip (${code})`);
    throw error;
  } finally {
    ctx.progress.finish();
    rejects.close();
    if (!options.eventStore) await store.close();
  }
  const elapsedMs = Date.now() - startedAt.getTime();
  return {
    kind: options.kind,
    file,
    rows,
    elapsedMs,
    rowsPerSecond: Math.round(rows / Math.max(0.001, elapsedMs / 1000)),
    counts: ctx.counts.toObject(),
    skipped: ctx.skipped.toObject(),
    notes: ctx.notes,
    eventsAppended: ctx.eventsAppended,
    rejectedRows: rejects.count,
    rejectsFile: rejects.count > 0 ? rejects.path : null,
    peakRssMb: peakRssMb(),
  };
}

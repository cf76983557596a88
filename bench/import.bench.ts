/**
 * Import and rebuild: the full online-retail history (541,909 lines) imported through the domain deciders into the
 * embedded SQLite store (lines/s, peak RSS; target ≥ 100,000 lines/s, issue 18), imported a second time (must append nothing),
 * then every projection rebuilt from that log (events/s, peak RSS) against a raw scan of the same log in the same run
 * (better-sqlite3 `iterate()` parsing each event's JSON; DESIGN §8 target: rebuild ≥ 0.3× raw, RSS < 400 MB). Also
 * the full ServiceNow incident log (rows/s). Each measured step runs in its own child process, so its peak RSS
 * (`process.resourceUsage().maxRSS`) is its own; children run the TypeScript through ts-node (transpile-only), whose
 * compiler is in that figure too: the `ts-node idle` row measures that floor.
 *
 * Env: BENCH_IMPORT_SYNC=FULL|NORMAL (default FULL, the product default), BENCH_BATCH (projection batch, default: the production batch size),
 * BENCH_INCIDENTS=0 to leave out the incident log.
 */
import Database from 'better-sqlite3';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { envNumber, machineInfo, writeResultFile, type Bench, type BenchOutcome } from './lib/bench';
import { REPO_ROOT } from './lib/child-server';
import { makeTempDir, trackChild } from './lib/cleanup';
import { productionNodeFlags } from './lib/node-flags';
import { round, table } from './lib/stats';
import { loadConfig } from '@crm/runtime';

const DATA = resolve(REPO_ROOT, '..', 'shared', 'data');
const RETAIL = join(DATA, 'online-retail', 'online-retail.csv.gz');
const INCIDENTS = join(DATA, 'servicenow-incidents', 'incident_event_log.csv.gz');
const IMPORT_TARGET_LINES_PER_S = 100_000;
const REBUILD_TARGET_RATIO = 0.3;
const REBUILD_RSS_TARGET_MB = 400;

type ChildTask =
  | { task: 'idle' }
  | { task: 'import'; kind: 'online-retail' | 'incidents'; file: string; dataDir: string }
  | { task: 'rebuild'; dataDir: string; batchSize: number }
  | { task: 'rebuild-each'; dataDir: string; batchSize: number }
  | { task: 'raw-scan'; dataDir: string };

interface ChildResult {
  readonly elapsedMs: number;
  readonly maxRssMb: number;
  readonly [key: string]: unknown;
}

const maxRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

// ------------------------------------------------------------------------------------------------------------------
// Child side: one task, its result sent to the parent over IPC.
// ------------------------------------------------------------------------------------------------------------------

async function runTask(t: ChildTask): Promise<ChildResult> {
  const started = Date.now();
  if (t.task === 'idle') {
    // Loads what an import loads, does nothing: the RSS floor of a ts-node child.
    await import('../apps/importer/src/run-import');
    return { elapsedMs: Date.now() - started, maxRssMb: maxRssMb() };
  }
  if (t.task === 'import') {
    const { runImport } = await import('../apps/importer/src/run-import');
    const { StderrProgress } = await import('../apps/importer/src/progress');
    const summary = await runImport({ kind: t.kind, file: t.file, dataDir: t.dataDir, progress: new StderrProgress() });
    return { elapsedMs: summary.elapsedMs, maxRssMb: maxRssMb(), rows: summary.rows, eventsAppended: summary.eventsAppended, summary };
  }
  if (t.task === 'raw-scan') {
    const db = new Database(join(t.dataDir, 'events.db'), { readonly: true });
    let events = 0;
    let bytes = 0;
    const scanStarted = Date.now();
    for (const row of db.prepare('SELECT position, event_id, stream_id, revision, type, data, metadata, recorded_at FROM events ORDER BY position').iterate() as IterableIterator<{ data: string; metadata: string }>) {
      JSON.parse(row.data);
      JSON.parse(row.metadata);
      events += 1;
      bytes += row.data.length + row.metadata.length;
    }
    db.close();
    return { elapsedMs: Date.now() - scanStarted, maxRssMb: maxRssMb(), events, jsonBytes: bytes };
  }
  const { SqliteEventStore } = await import('@crm/event-store');
  const { ALL_PROJECTIONS, ProjectionRunner, SqliteReadModelStore } = await import('@crm/read-models');
  if (t.task === 'rebuild-each') {
    // Each projection alone, one after another: where the time of the rebuild goes.
    const each: Array<{ name: string; ms: number }> = [];
    for (const projection of ALL_PROJECTIONS) {
      const log = new SqliteEventStore({ filename: join(t.dataDir, 'events.db'), pollMs: 1_000_000 });
      const store = new SqliteReadModelStore(join(t.dataDir, `rebuild-${projection.name}-${Date.now()}.db`));
      const head = await log.headPosition();
      const began = Date.now();
      const runner = new ProjectionRunner(log, store, [projection], { batchSize: t.batchSize, idlePollMs: 1_000_000 });
      await runner.start();
      while ((runner.status()[0]?.checkpoint ?? 0) < head) {
        if (runner.status()[0]?.status === 'failed') throw new Error(`${projection.name} failed`);
        await new Promise((r) => setTimeout(r, 5));
      }
      each.push({ name: projection.name, ms: Date.now() - began });
      await runner.stop();
      await store.close();
      await log.close();
    }
    return { elapsedMs: Date.now() - started, maxRssMb: maxRssMb(), each };
  }
  const events = new SqliteEventStore({ filename: join(t.dataDir, 'events.db'), pollMs: 1_000_000 });
  const readModels = new SqliteReadModelStore(join(t.dataDir, `rebuild-${Date.now()}.db`));
  const head = await events.headPosition();
  const rebuildStarted = Date.now();
  const runner = new ProjectionRunner(events, readModels, ALL_PROJECTIONS, { batchSize: t.batchSize, idlePollMs: 1_000_000 });
  await runner.start();
  const finished = new Map<string, number>();
  while (finished.size < ALL_PROJECTIONS.length) {
    for (const s of runner.status()) {
      if (s.status === 'failed') throw new Error(`${s.name} failed: ${s.lastError?.message ?? ''}`);
      if (s.checkpoint >= head && !finished.has(s.name)) finished.set(s.name, Date.now() - rebuildStarted);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsedMs = Date.now() - rebuildStarted;
  const status = runner.status();
  await runner.stop();
  await readModels.close();
  await events.close();
  return {
    elapsedMs,
    maxRssMb: maxRssMb(),
    events: head,
    projections: status.map((s) => ({ name: s.name, version: s.version, eventsApplied: s.eventsApplied, caughtUpMs: finished.get(s.name) })),
  };
}

if (require.main === module && process.argv[2] === '--child') {
  const task = JSON.parse(process.argv[3] ?? '{}') as ChildTask;
  runTask(task).then(
    (result) => process.send?.({ ok: true, result }, () => process.exit(0)),
    (error: unknown) => process.send?.({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1)),
  );
}

// ------------------------------------------------------------------------------------------------------------------
// Parent side
// ------------------------------------------------------------------------------------------------------------------

function inChild(task: ChildTask, env: Record<string, string> = {}): Promise<ChildResult> {
  // Rebuilds run as the projector process does (its heap bound); imports as `npm run import` does (its young generation).
  const nodeFlags = task.task === 'rebuild' || task.task === 'rebuild-each' ? productionNodeFlags('projector') : task.task === 'import' ? productionNodeFlags('importer') : [];
  const child = fork(__filename, ['--child', JSON.stringify(task)], {
    cwd: REPO_ROOT,
    execArgv: [...nodeFlags, '-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    env: { ...process.env, TS_NODE_PROJECT: resolve(REPO_ROOT, 'tsconfig.json'), LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  trackChild(child);
  return new Promise((resolveResult, reject) => {
    let settled = false;
    child.once('message', (message: { ok: boolean; result?: ChildResult; error?: string }) => {
      settled = true;
      if (message.ok && message.result) resolveResult(message.result);
      else reject(new Error(`${task.task}: ${message.error ?? 'failed'}`));
    });
    child.once('exit', (code, signal) => {
      if (!settled) reject(new Error(`${task.task} child exited (${code ?? signal}) without a result`));
    });
  });
}

export const importBench: Bench = {
  name: 'import',
  description: `full online-retail import (target ≥ ${IMPORT_TARGET_LINES_PER_S.toLocaleString('en-GB')} lines/s), re-import, projection rebuild vs raw scan (≥ ${REBUILD_TARGET_RATIO}×)`,
  async run(): Promise<BenchOutcome> {
    if (!existsSync(RETAIL)) {
      console.warn(`import bench skipped: ${RETAIL} is missing`);
      return { ok: true, summary: { bench: 'import', skipped: `${RETAIL} is missing` } };
    }
    const startedAt = new Date();
    const sync = (process.env['BENCH_IMPORT_SYNC'] ?? 'FULL').toUpperCase();
    const batchSize = envNumber('BENCH_BATCH', loadConfig({}).projectionBatchSize, 1);
    const env = { SQLITE_SYNCHRONOUS: sync };
    const retailDir = makeTempDir('crm-bench-import-');
    const rows: Array<Array<string | number>> = [];

    const idle = await inChild({ task: 'idle' }, env);
    rows.push(['ts-node idle (RSS floor)', '', '', '', idle.maxRssMb]);

    console.log(`importing ${RETAIL} (SQLITE_SYNCHRONOUS=${sync})`);
    const first = await inChild({ task: 'import', kind: 'online-retail', file: RETAIL, dataDir: retailDir.dir }, env);
    const firstRate = Math.round(Number(first['rows']) / (first.elapsedMs / 1000));
    rows.push(['online-retail import', first['rows'] as number, round(first.elapsedMs / 1000, 2), `${firstRate.toLocaleString('en-GB')} lines/s`, first.maxRssMb]);

    const second = await inChild({ task: 'import', kind: 'online-retail', file: RETAIL, dataDir: retailDir.dir }, env);
    rows.push(['online-retail re-import', second['rows'] as number, round(second.elapsedMs / 1000, 2), `${second['eventsAppended'] as number} events appended`, second.maxRssMb]);

    console.log('raw scan, projection rebuild, raw scan');
    const rawA = await inChild({ task: 'raw-scan', dataDir: retailDir.dir });
    const rebuild = await inChild({ task: 'rebuild', dataDir: retailDir.dir, batchSize });
    const rawB = await inChild({ task: 'raw-scan', dataDir: retailDir.dir });
    const each = await inChild({ task: 'rebuild-each', dataDir: retailDir.dir, batchSize });
    const aloneMs = new Map((each['each'] as Array<{ name: string; ms: number }>).map((e) => [e.name, e.ms]));
    const raw = rawA.elapsedMs <= rawB.elapsedMs ? rawA : rawB;
    const events = Number(rebuild['events']);
    const rawRate = Number(raw['events']) / (raw.elapsedMs / 1000);
    const rebuildRate = events / (rebuild.elapsedMs / 1000);
    const ratio = rebuildRate / rawRate;
    rows.push(['raw scan (best of 2)', raw['events'] as number, round(raw.elapsedMs / 1000, 2), `${Math.round(rawRate).toLocaleString('en-GB')} events/s`, raw.maxRssMb]);
    rows.push([`rebuild ${(rebuild['projections'] as unknown[]).length} projections`, events, round(rebuild.elapsedMs / 1000, 2), `${Math.round(rebuildRate).toLocaleString('en-GB')} events/s`, rebuild.maxRssMb]);

    let incidents: ChildResult | undefined;
    const incidentsDir = makeTempDir('crm-bench-incidents-');
    if (process.env['BENCH_INCIDENTS'] !== '0' && existsSync(INCIDENTS)) {
      console.log(`importing ${INCIDENTS}`);
      incidents = await inChild({ task: 'import', kind: 'incidents', file: INCIDENTS, dataDir: incidentsDir.dir }, env);
      const rate = Math.round(Number(incidents['rows']) / (incidents.elapsedMs / 1000));
      rows.push(['incidents import', incidents['rows'] as number, round(incidents.elapsedMs / 1000, 2), `${rate.toLocaleString('en-GB')} rows/s`, incidents.maxRssMb]);
    }
    retailDir.remove();
    incidentsDir.remove();

    console.log(`\n${table(['step', 'rows/events', 's', 'rate', 'peak RSS MB'], rows)}\n`);
    console.log(table(['projection', 'events applied', 'caught up after s (all together)', 'rebuilt alone in s'], (rebuild['projections'] as Array<{ name: string; eventsApplied: number; caughtUpMs?: number }>)
      .map((p) => [p.name, p.eventsApplied, round((p.caughtUpMs ?? rebuild.elapsedMs) / 1000, 2), round((aloneMs.get(p.name) ?? Number.NaN) / 1000, 2)])));
    const meetsImport = firstRate >= IMPORT_TARGET_LINES_PER_S;
    console.log(`\nimport ${firstRate.toLocaleString('en-GB')} lines/s (target ≥ ${IMPORT_TARGET_LINES_PER_S.toLocaleString('en-GB')}: ${meetsImport ? 'met' : 'MISSED'})`);
    console.log(`rebuild/raw ${round(ratio, 3)}× (target ≥ ${REBUILD_TARGET_RATIO}×: ${ratio >= REBUILD_TARGET_RATIO ? 'met' : 'MISSED'}), rebuild peak RSS ${rebuild.maxRssMb} MB (target < ${REBUILD_RSS_TARGET_MB}: ${rebuild.maxRssMb < REBUILD_RSS_TARGET_MB ? 'met' : 'MISSED'})`);

    const summary = {
      bench: 'import',
      sync,
      importLinesPerSec: firstRate,
      importSeconds: round(first.elapsedMs / 1000, 2),
      importPeakRssMb: first.maxRssMb,
      reimportSeconds: round(second.elapsedMs / 1000, 2),
      reimportEventsAppended: second['eventsAppended'],
      events,
      rawScanEventsPerSec: Math.round(rawRate),
      rebuildEventsPerSec: Math.round(rebuildRate),
      rebuildToRawRatio: round(ratio, 3),
      rebuildPeakRssMb: rebuild.maxRssMb,
      rebuildAloneSeconds: Object.fromEntries([...aloneMs].map(([name, ms]) => [name, round(ms / 1000, 2)])),
      tsNodeIdleRssMb: idle.maxRssMb,
      incidentsRowsPerSec: incidents ? Math.round(Number(incidents['rows']) / (incidents.elapsedMs / 1000)) : null,
      incidentsPeakRssMb: incidents?.maxRssMb ?? null,
    };
    const file = writeResultFile('import', startedAt, {
      ...summary, startedAt: startedAt.toISOString(), machine: machineInfo(), first, second, rawA, rawB, rebuild, each, incidents,
    });
    console.log(`result: ${file}`);
    // A second import that appends anything is a failure; missing a performance target is reported, not a failure.
    return { ok: second['eventsAppended'] === 0, summary };
  },
};

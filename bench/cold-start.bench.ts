/**
 * Cold start and catch-up (issue 18 item 4): the compiled app started as `npm start` starts it (dist/, the Node flags
 * of scripts/node-flags.json, PORT and DATA_DIR from the environment, PROJECTOR=thread by default):
 *   (a) on a store with a long history whose read models are caught up (the projection-rebuild bench's 1M-event
 *       dataset when it ran earlier in the same `npm run bench`, else BENCH_COLD_EVENTS generated and projected here):
 *       time from spawn to the first 200 of `/health/ready`, the process's peak RSS and CPU by then, against a bare
 *       `node -e` HTTP server started with the same flags (what any Node process pays before it can answer);
 *   (b) the full online-retail file imported with the compiled importer into a fresh data dir (as `npm run import`),
 *       then the app started on it: time until `/health/ready` and until every projection of `/projections` is live at
 *       the head, with events/s, against a raw scan of the same log (bench/workers/raw-scan.worker.ts).
 * BENCH_COLD_AB_ROOT=<another checkout with a built dist/> starts that version alternately with this one on the same
 * data (A/B of two versions in one run, e.g. main against a branch).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { envNumber, logOutcome, machineInfo, writeResultFile, type Bench, type BenchOutcome } from './lib/bench';
import { ensureBuilt, entryOf, getOnce, nodeFlagsOf, pollUntil, spawnNode, startBareNode, startCompiledApp, type AppProcess } from './lib/app-process';
import { REPO_ROOT } from './lib/child-server';
import { makeTempDir } from './lib/cleanup';
import { copyDataset, generateDataset, peekDataset, rebuildReadModels, type Dataset } from './lib/dataset';
import { busyCores, flushDir, machineCpu } from './lib/machine-load';
import { round, table } from './lib/stats';
import { runWorker } from './lib/worker';
import type { RawScanResult } from './workers/raw-scan.worker';

const RETAIL = resolve(REPO_ROOT, '..', 'shared', 'data', 'online-retail', 'online-retail.csv.gz');
const ADMIN_TOKEN = 'bench-cold-admin-token-0123456789';
const TOKENS = JSON.stringify([{ token: ADMIN_TOKEN, id: 'bench-admin', role: 'admin' }]);
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface Settings {
  events: number | undefined;
  runs: number;
  fromDir: string | undefined;
  abRoot: string | undefined;
  importRetail: boolean;
  catchUpRuns: number;
  timeoutMs: number;
  pollMs: number;
}

function settings(): Settings {
  const raw = process.env.BENCH_COLD_EVENTS;
  const ab = process.env.BENCH_COLD_AB_ROOT;
  return {
    events: raw === undefined || raw === '' ? undefined : Math.round(envNumber('BENCH_COLD_EVENTS', 200_000, 1000)),
    runs: Math.round(envNumber('BENCH_COLD_RUNS', 3, 1)),
    fromDir: process.env.BENCH_COLD_DATA_DIR || undefined,
    abRoot: ab ? resolve(ab) : undefined,
    importRetail: process.env.BENCH_COLD_IMPORT !== '0',
    catchUpRuns: Math.round(envNumber('BENCH_COLD_CATCHUP_RUNS', 1, 1)),
    timeoutMs: envNumber('BENCH_COLD_TIMEOUT_SECONDS', 300, 10) * 1000,
    pollMs: envNumber('BENCH_COLD_POLL_MS', 10, 1),
  };
}

interface StartSample {
  version: string;
  /** Spawn → first HTTP answer of any kind (the server listens). */
  listeningMs: number;
  /** Spawn → first 200 of /health/ready. */
  readyMs: number;
  peakRssMb: number | undefined;
  cpuSeconds: number | undefined;
  otherProcessesCores: number | null;
}

interface CatchUpSample extends StartSample {
  /** Spawn → every projection live with its checkpoint at the head. */
  caughtUpMs: number;
  headPosition: number;
  eventsPerSec: number;
  /** Spawn → each projection at the head (ms). */
  perProjectionMs: Record<string, number>;
  peakRssAfterCatchUpMb: number | undefined;
  cpuSecondsAfterCatchUp: number | undefined;
}

interface ProjectionsReport {
  headPosition: number;
  projections: Array<{ name: string; checkpoint: number; status: string; lastError: unknown }>;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const dash = (n: number): number | string => (Number.isNaN(n) ? '–' : n);

function appEnv(dataDir: string): Record<string, string> {
  // What `npm start` reads; LOG_LEVEL=warn keeps the per-start info lines out of the timing's stderr pipe.
  return { DATA_DIR: dataDir, AUTH_TOKENS: TOKENS, LOG_LEVEL: 'warn' };
}

async function readyOnce(app: AppProcess, timeoutMs: number, pollMs: number): Promise<{ listeningAt: number; readyAt: number }> {
  let listeningAt: number | undefined;
  const { at } = await pollUntil(app, async () => {
    const res = await getOnce(app.url, '/health/ready');
    listeningAt ??= performance.now();
    if (res.status === 200) return true;
    if (res.status !== 503) throw new Error(`/health/ready → ${res.status} ${res.body.slice(0, 200)}`);
    return undefined;
  }, { timeoutMs, intervalMs: pollMs, what: '200 from /health/ready' });
  return { listeningAt: listeningAt ?? at, readyAt: at };
}

/** Cores the rest of the machine used while `app` ran for `seconds` (null where /proc cannot tell). */
function othersCores(machine0: ReturnType<typeof machineCpu>, usage: { cpuSeconds: number } | undefined, seconds: number): number | null {
  const machine = busyCores(machine0, machineCpu());
  return machine === undefined || !usage ? null : round(Math.max(0, machine - usage.cpuSeconds / seconds), 2);
}

async function timeStart(version: string, start: () => Promise<AppProcess>, s: Settings): Promise<StartSample> {
  const machine0 = machineCpu();
  const app = await start();
  try {
    const { listeningAt, readyAt } = await readyOnce(app, s.timeoutMs, s.pollMs);
    const usage = app.usage();
    const otherProcessesCores = othersCores(machine0, usage, (readyAt - app.spawnedAt) / 1000);
    return {
      version,
      listeningMs: round(listeningAt - app.spawnedAt, 0),
      readyMs: round(readyAt - app.spawnedAt, 0),
      peakRssMb: usage?.peakRssMb,
      cpuSeconds: usage?.cpuSeconds,
      otherProcessesCores,
    };
  } finally {
    await app.stop();
  }
}

async function timeCatchUp(version: string, root: string, dataDir: string, s: Settings): Promise<CatchUpSample> {
  const machine0 = machineCpu();
  const app = await startCompiledApp({ root, env: appEnv(dataDir) });
  try {
    const { listeningAt, readyAt } = await readyOnce(app, s.timeoutMs, s.pollMs);
    const ready = app.usage();
    const perProjectionMs: Record<string, number> = {};
    const { value: report, at } = await pollUntil(app, async () => {
      const res = await getOnce(app.url, '/projections', AUTH);
      if (res.status !== 200) throw new Error(`/projections → ${res.status}`);
      const r = JSON.parse(res.body) as ProjectionsReport;
      const failed = r.projections.filter((p) => p.status === 'failed');
      if (failed.length > 0) throw new Error(`projections failed: ${JSON.stringify(failed)}`);
      const now = performance.now();
      for (const p of r.projections) if (p.checkpoint >= r.headPosition && perProjectionMs[p.name] === undefined) perProjectionMs[p.name] = round(now - app.spawnedAt, 0);
      return r.projections.every((p) => p.status === 'live' && p.checkpoint >= r.headPosition) ? r : undefined;
    }, { timeoutMs: s.timeoutMs, intervalMs: 50, what: 'every projection at the head' });
    const usage = app.usage();
    const seconds = (at - app.spawnedAt) / 1000;
    return {
      version,
      listeningMs: round(listeningAt - app.spawnedAt, 0),
      readyMs: round(readyAt - app.spawnedAt, 0),
      peakRssMb: ready?.peakRssMb,
      cpuSeconds: ready?.cpuSeconds,
      caughtUpMs: round(at - app.spawnedAt, 0),
      headPosition: report.headPosition,
      eventsPerSec: Math.round(report.headPosition / seconds),
      perProjectionMs,
      peakRssAfterCatchUpMb: usage?.peakRssMb,
      cpuSecondsAfterCatchUp: usage?.cpuSeconds,
      otherProcessesCores: othersCores(machine0, usage, seconds),
    };
  } finally {
    await app.stop();
  }
}

/** Copies what the importer left (log, keys and their key-encryption key; no read models) into a fresh `to`, flushed. */
function freshCopy(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (!f.startsWith('read-models.db')) cpSync(join(from, f), join(to, f));
  flushDir(to);
}

export const coldStartBench: Bench = {
  name: 'cold-start',
  description: 'npm start until /health/ready on a caught-up store, and the catch-up after importing the online-retail file (issue 18 item 4)',
  async run(): Promise<BenchOutcome> {
    const s = settings();
    const startedAt = new Date();
    const log = (line: string): void => console.log(line);
    const failures: string[] = [];
    const versions: Array<{ name: string; root: string }> = [{ name: 'this', root: REPO_ROOT }];
    if (s.abRoot) versions.push({ name: 'ab', root: s.abRoot });
    for (const v of versions) ensureBuilt(v.root, ['api', 'importer'], { build: v.root === REPO_ROOT, log });
    if (s.abRoot) log(`cold-start: A/B of ${REPO_ROOT} ("this") and ${s.abRoot} ("ab"), alternated`);

    // (a) a caught-up store with a long history.
    let dataset: Dataset | undefined;
    let ownDataset = true;
    let preparation: Record<string, unknown> = {};
    if (s.fromDir) {
      dataset = copyDataset(s.fromDir, log);
      preparation = { source: `copy of ${s.fromDir}` };
    } else {
      dataset = peekDataset(s.events);
      if (dataset) {
        ownDataset = false; // the projection-lag bench takes it after this one
        log(`cold-start: on the projection-rebuild bench's history: ${dataset.history.events.toLocaleString('en')} events, read models built`);
        preparation = { source: 'projection-rebuild bench of this run' };
      } else {
        const events = s.events ?? 200_000;
        log(`cold-start: generating ${events.toLocaleString('en')} events (BENCH_COLD_EVENTS), then projecting them`);
        dataset = await generateDataset(events, undefined, log);
        const rebuild = await rebuildReadModels(dataset, { timeoutMs: 1_800_000, name: 'cold-catch-up' });
        log(`  read models built in ${rebuild.seconds} s`);
        preparation = { source: 'generated by this bench' };
      }
    }
    const bare: StartSample[] = [];
    const starts: StartSample[] = [];
    const firstStarts: StartSample[] = [];
    try {
      // The first start on a store may do one-off work (schema checks, a WAL left by the builder): shown apart.
      for (const v of versions) {
        const first = await timeStart(v.name, () => startCompiledApp({ root: v.root, env: appEnv(dataset!.dataDir) }), s);
        firstStarts.push(first);
        log(`  first start (${v.name}): ready in ${first.readyMs} ms (listening at ${first.listeningMs} ms), peak RSS ${first.peakRssMb} MB, CPU ${first.cpuSeconds} s`);
      }
      for (let i = 0; i < s.runs; i++) {
        const b = await timeStart('node -e', () => startBareNode(REPO_ROOT), s);
        bare.push(b);
        for (const v of i % 2 === 0 ? versions : [...versions].reverse()) {
          const x = await timeStart(v.name, () => startCompiledApp({ root: v.root, env: appEnv(dataset!.dataDir) }), s);
          starts.push(x);
          log(`  run ${i + 1} (${v.name}): ready in ${x.readyMs} ms (listening ${x.listeningMs} ms), peak RSS ${x.peakRssMb} MB, CPU ${x.cpuSeconds} s, other processes ${x.otherProcessesCores} cores; node -e ${b.readyMs} ms`);
        }
      }
    } catch (error) {
      failures.push(`start on the caught-up store: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      if (ownDataset) dataset.remove();
    }

    // (b) the online-retail file imported, then the catch-up of every projection on start.
    let importInfo: Record<string, unknown> | undefined;
    let scan: RawScanResult | undefined;
    const catchUps: CatchUpSample[] = [];
    let skipped: string | undefined;
    if (!s.importRetail) skipped = 'BENCH_COLD_IMPORT=0';
    else if (!existsSync(RETAIL)) skipped = `${RETAIL} is absent (see ../shared/data/README.md)`;
    if (skipped) log(`catch-up after the import: skipped (${skipped})`);
    else {
      const tmp = makeTempDir('crm-bench-cold-');
      try {
        const imported = join(tmp.dir, 'imported');
        mkdirSync(imported);
        const t0 = performance.now();
        const imp = spawnNode(['--enable-source-maps', ...nodeFlagsOf(REPO_ROOT, 'importer'), entryOf(REPO_ROOT, 'importer'), 'online-retail', RETAIL], { DATA_DIR: imported, LOG_LEVEL: 'warn' }, REPO_ROOT);
        const code = await new Promise<number | null>((r) => imp.child.once('exit', (c) => r(c)));
        const importSeconds = (performance.now() - t0) / 1000;
        if (code !== 0) throw new Error(`import exited ${code}: ${imp.stderrTail()}`);
        flushDir(imported);
        importInfo = { seconds: round(importSeconds, 1) };
        log(`  imported ${RETAIL} with the compiled importer in ${round(importSeconds, 1)} s (not part of the catch-up)`);
        scan = await runWorker<RawScanResult>({
          name: 'raw-scan', script: join(__dirname, 'workers', 'raw-scan.worker.ts'), env: { BENCH_EVENTS_DB: join(imported, 'events.db') }, timeoutMs: 300_000,
        });
        log(`  raw scan of that log: ${scan.events.toLocaleString('en')} events in ${scan.seconds} s (${scan.eventsPerSec.toLocaleString('en')} events/s)`);
        for (let i = 0; i < s.catchUpRuns; i++) {
          for (const v of i % 2 === 0 ? versions : [...versions].reverse()) {
            const run = join(tmp.dir, `run-${v.name}-${i}`);
            freshCopy(imported, run);
            const c = await timeCatchUp(v.name, v.root, run, s);
            catchUps.push(c);
            rmSync(run, { recursive: true, force: true });
            log(
              `  catch-up ${i + 1} (${v.name}): ready in ${c.readyMs} ms, every projection at the head (${c.headPosition.toLocaleString('en')}) after ${c.caughtUpMs} ms ` +
                `(${c.eventsPerSec.toLocaleString('en')} events/s), peak RSS ${c.peakRssAfterCatchUpMb} MB, CPU ${c.cpuSecondsAfterCatchUp} s, other processes ${c.otherProcessesCores} cores`,
            );
          }
        }
      } catch (error) {
        failures.push(`catch-up after the import: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        tmp.remove();
      }
    }

    const bareMs = median(bare.map((b) => b.readyMs));
    const rows = versions.map((v) => {
      const mine = starts.filter((x) => x.version === v.name);
      const ready = median(mine.map((x) => x.readyMs));
      const cu = catchUps.filter((c) => c.version === v.name);
      const caught = median(cu.map((c) => c.caughtUpMs));
      const eps = median(cu.map((c) => c.eventsPerSec));
      return {
        version: v.name, root: v.root,
        readyMs: ready, readyRange: mine.length ? `${Math.min(...mine.map((x) => x.readyMs))}–${Math.max(...mine.map((x) => x.readyMs))}` : '',
        listeningMs: median(mine.map((x) => x.listeningMs)),
        readyOverBareNode: round(ready / bareMs, 1),
        peakRssMb: median(mine.map((x) => x.peakRssMb ?? Number.NaN)),
        cpuSeconds: median(mine.map((x) => x.cpuSeconds ?? Number.NaN)),
        catchUpMs: caught, catchUpEventsPerSec: eps,
        catchUpOverRawScan: scan && cu.length ? round(eps / scan.eventsPerSec, 3) : null,
        catchUpPeakRssMb: median(cu.map((c) => c.peakRssAfterCatchUpMb ?? Number.NaN)),
      };
    });
    log('');
    log(
      table(
        ['version', 'ready ms (median; range)', 'listening ms', '× node -e', 'peak RSS MB', 'CPU s', 'catch-up ms', 'events/s', '× raw scan', 'peak RSS MB (catch-up)'],
        rows.map((r) => [r.version, `${r.readyMs} (${r.readyRange})`, r.listeningMs, r.readyOverBareNode, r.peakRssMb, r.cpuSeconds, dash(r.catchUpMs), dash(r.catchUpEventsPerSec), r.catchUpOverRawScan ?? '–', dash(r.catchUpPeakRssMb)]),
      ),
    );
    log(`node -e (bare HTTP server, same flags): ${bareMs} ms (median of ${bare.length}); store: ${dataset.history.events.toLocaleString('en')} events` +
      (scan ? `; raw scan of the imported log ${scan.eventsPerSec.toLocaleString('en')} events/s` : ''));
    const ab = rows.length === 2 ? { readyThisOverAb: round(rows[0]!.readyMs / rows[1]!.readyMs, 2), catchUpThisOverAb: round(rows[0]!.catchUpMs / rows[1]!.catchUpMs, 2) } : undefined;
    if (ab) log(`A/B: ready this/ab ${ab.readyThisOverAb}×${Number.isNaN(ab.catchUpThisOverAb) ? '' : `, catch-up this/ab ${ab.catchUpThisOverAb}×`} (< 1: this version is faster)`);

    const ok = failures.length === 0;
    const file = writeResultFile('cold-start', startedAt, {
      bench: 'cold-start', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), ok, failures, settings: s, machine: machineInfo(),
      dataset: { events: dataset.history.events, customers: dataset.history.customers, ...preparation },
      firstStarts, bare, starts, importInfo, rawScan: scan, catchUps, skipped, rows, ab,
    });
    logOutcome(log, file, failures);
    return {
      ok,
      summary: {
        bench: 'cold-start', ok, eventsInStore: dataset.history.events,
        readyMs: rows[0]?.readyMs ?? null, bareNodeMs: bareMs, readyOverBareNode: rows[0]?.readyOverBareNode ?? null, peakRssMb: rows[0]?.peakRssMb ?? null,
        catchUpSkipped: skipped ?? null, catchUpEvents: catchUps[0]?.headPosition ?? null, catchUpMs: rows[0]?.catchUpMs ?? null,
        catchUpEventsPerSec: rows[0]?.catchUpEventsPerSec ?? null, catchUpOverRawScan: rows[0]?.catchUpOverRawScan ?? null, ab: ab ?? null, file,
      },
    };
  },
};

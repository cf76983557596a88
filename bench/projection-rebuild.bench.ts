/**
 * Projection rebuild: events/s of rebuilding every projection (ALL_PROJECTIONS) from scratch with the production
 * ProjectionRunner into a fresh SQLite read-model store, against a raw scan of the same log (read + JSON.parse of
 * every row, nothing else), in the same run. DESIGN §8: ≥ 0.3× the raw scan, peak RSS < 400 MB for 1M events.
 *
 * A history of BENCH_EVENTS (default 1,000,000) realistic events is generated first (lib/history.ts: every command
 * through the real deciders, rows written straight into the production schema). The raw scan and the rebuild each
 * run in a child process of their own, so each one's peak RSS is its own (VmHWM; `process.resourceUsage().maxRSS` is
 * reported too, but on Linux it includes this process's RSS at fork); order scan, rebuild, scan, so drift on this
 * shared machine shows. The ratio uses the faster scan (conservative).
 * The dataset, read models included, is then handed to the projection-lag bench if it runs next in the same run.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@crm/runtime';
import type { RawScanResult } from './workers/raw-scan.worker';
import type { RebuildResult } from './workers/projection-rebuild.worker';
import { envNumber, logOutcome, machineInfo, RESULTS_DIR, timestamp, writeResultFile, type Bench, type BenchOutcome } from './lib/bench';
import { formatProfileSummary, summarizeProfiles } from './lib/cpu-profile';
import { generateDataset, handOver, rebuildReadModels, type Dataset } from './lib/dataset';
import { busyCores, machineCpu } from './lib/machine-load';
import { round, table } from './lib/stats';
import { runWorker } from './lib/worker';

const TARGET_RATIO = 0.3;
const TARGET_PEAK_RSS_MB = 400;

interface Settings {
  events: number;
  customers: number | undefined;
  batchSize: number;
  profile: boolean;
  timeoutSeconds: number;
  /** Projections also rebuilt one at a time (as POST /projections/:name/rebuild does), before the full rebuild. */
  alone: string[];
}

function settings(): Settings {
  // The production default batch size, as the projector would read it from an empty environment.
  const productionBatchSize = loadConfig({}).projectionBatchSize;
  return {
    events: Math.round(envNumber('BENCH_EVENTS', 1_000_000, 1000)),
    customers: process.env.BENCH_HISTORY_CUSTOMERS ? Math.round(envNumber('BENCH_HISTORY_CUSTOMERS', 0, 10)) : undefined,
    batchSize: Math.round(envNumber('BENCH_PROJECTION_BATCH_SIZE', productionBatchSize, 1)),
    profile: ['1', 'true'].includes((process.env.BENCH_REBUILD_PROF ?? '').toLowerCase()),
    timeoutSeconds: envNumber('BENCH_REBUILD_TIMEOUT_SECONDS', 900, 10),
    alone: (process.env.BENCH_REBUILD_ALONE ?? 'customer_timelines,loyalty,sla_breaches').split(',').map((x) => x.trim()).filter(Boolean),
  };
}

function rawScan(dataset: Dataset, name: string): Promise<RawScanResult> {
  return runWorker<RawScanResult>({ name, script: join(__dirname, 'workers', 'raw-scan.worker.ts'), env: { BENCH_EVENTS_DB: dataset.eventsDb }, timeoutMs: 300_000 });
}

export const projectionRebuildBench: Bench = {
  name: 'projection-rebuild',
  description: `rebuild of every projection over 1M generated events vs a raw scan of the same log (targets ≥ ${TARGET_RATIO}×, peak RSS < ${TARGET_PEAK_RSS_MB} MB)`,
  async run(): Promise<BenchOutcome> {
    const s = settings();
    const startedAt = new Date();
    const log = (line: string): void => console.log(line);
    const failures: string[] = [];
    log(`projection-rebuild: ${s.events.toLocaleString('en')} events; batch size ${s.batchSize}; raw scan, rebuild, raw scan, each in its own child process`);

    const dataset = await generateDataset(s.events, s.customers, log);
    let keep = false;
    const scans: RawScanResult[] = [];
    /** Cores used by other processes while each phase ran (machine CPU minus the worker's): contention shows here. */
    const others: Record<string, number | null> = {};
    const othersDuring = <T extends { cpuSeconds: number; seconds: number }>(label: string, run: () => Promise<T>): Promise<T> => {
      const before = machineCpu();
      return run().then((r) => {
        const machine = busyCores(before, machineCpu());
        // The worker's CPU over its measured seconds, spread over the whole call (start-up included): an estimate.
        others[label] = machine === undefined ? null : round(Math.max(0, machine - r.cpuSeconds / Math.max(r.seconds, 1e-9)), 2);
        return r;
      });
    };
    let rebuild: RebuildResult | undefined;
    const alone: Array<{ name: string; result: RebuildResult }> = [];
    let profileDir: string | undefined;
    let profileSummary: ReturnType<typeof summarizeProfiles> | undefined;
    try {
      const head = dataset.history.headPosition;
      const scan = async (label: string): Promise<void> => {
        const r = await othersDuring(label, () => rawScan(dataset, label));
        scans.push(r);
        if (r.events !== head) failures.push(`${label}: scanned ${r.events} events, the log has ${head}`);
        log(`  ${label}: ${r.events.toLocaleString('en')} events in ${r.seconds} s = ${r.eventsPerSec.toLocaleString('en')} events/s, peak RSS ${r.peakRssMb} MB`);
      };
      await scan('raw scan 1');
      // One projection at a time, as an operator's rebuild of one read model runs: the log is read with that
      // projection's types only. Before the full rebuild, whose read models a later bench may take over.
      for (const name of s.alone) {
        const r = await rebuildReadModels(dataset, { batchSize: s.batchSize, timeoutMs: s.timeoutSeconds * 1000, name: `rebuild ${name}`, projections: [name] });
        alone.push({ name, result: r });
        const p = r.projections[0];
        if (!p || p.status !== 'live' || p.lastError) failures.push(`${name} alone: ${p?.status} ${p?.lastError ?? ''}`);
        log(`  rebuild of ${name} alone: ${r.logEvents.toLocaleString('en')} events in ${r.seconds} s = ${r.eventsPerSec.toLocaleString('en')} events/s, peak RSS ${r.peakRssMb} MB`);
      }
      let profileFile: string | undefined;
      if (s.profile) {
        profileDir = join(RESULTS_DIR, `profiles-${timestamp(startedAt)}`);
        mkdirSync(profileDir, { recursive: true });
        profileFile = join(profileDir, 'projection-rebuild.cpuprofile');
        log(`  CPU profiling the rebuild (slower than unprofiled: do not compare) → ${profileFile}`);
      }
      rebuild = await othersDuring('rebuild', () => rebuildReadModels(dataset, { batchSize: s.batchSize, profileFile, timeoutMs: s.timeoutSeconds * 1000 }));
      log(
        `  rebuild: ${rebuild.logEvents.toLocaleString('en')} events in ${rebuild.seconds} s = ${rebuild.eventsPerSec.toLocaleString('en')} events/s, ` +
          `peak RSS ${rebuild.peakRssMb} MB, read models ${rebuild.readModelsMb} MB`,
      );
      if (rebuild.logEvents !== head) failures.push(`rebuild saw ${rebuild.logEvents} events, the log has ${head}`);
      for (const p of rebuild.projections) if (p.status !== 'live' || p.lastError) failures.push(`${p.name}: ${p.status} ${p.lastError ?? ''}`);
      if (profileFile) profileSummary = summarizeProfiles([profileFile]);
      await scan('raw scan 2');
      keep = failures.length === 0;
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
      log(`projection-rebuild FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    } finally {
      if (keep) handOver(dataset);
      else dataset.remove();
    }

    const bestScan = scans.reduce<RawScanResult | undefined>((best, x) => (!best || x.eventsPerSec > best.eventsPerSec ? x : best), undefined);
    const ratio = rebuild && bestScan ? round(rebuild.eventsPerSec / bestScan.eventsPerSec, 4) : Number.NaN;
    const ratioMet = ratio >= TARGET_RATIO;
    const rssMet = rebuild ? rebuild.peakRssMb < TARGET_PEAK_RSS_MB : false;

    log('');
    log(
      table(
        ['phase', 'events', 'seconds', 'events/s', 'CPU s', 'RSS after load MB', 'peak RSS MB', 'maxRSS MB', 'peak heap MB', 'event loop max stall ms', 'other procs cores'],
        [
          ...scans.map((r, i) => [`raw scan ${i + 1}`, r.events, r.seconds, r.eventsPerSec, r.cpuSeconds, r.rssAfterLoadMb, r.peakRssMb, r.maxRssMb, '', '', others[`raw scan ${i + 1}`] ?? '?']),
          ...alone.map(({ name, result: r }) => [`rebuild of ${name} alone`, r.logEvents, r.seconds, r.eventsPerSec, r.cpuSeconds, r.rssAfterLoadMb, r.peakRssMb, r.maxRssMb, r.peakHeapUsedMb, r.eventLoopMaxStallMs, '']),
          ...(rebuild
            ? [[`rebuild (${rebuild.projections.length} projections, batch ${rebuild.batchSize})${rebuild.profiled ? ' PROFILED' : ''}`, rebuild.logEvents, rebuild.seconds, rebuild.eventsPerSec, rebuild.cpuSeconds, rebuild.rssAfterLoadMb, rebuild.peakRssMb, rebuild.maxRssMb, rebuild.peakHeapUsedMb, rebuild.eventLoopMaxStallMs, others['rebuild'] ?? '?']]
            : []),
        ],
      ),
    );
    log('peak RSS = VmHWM, the process\'s own peak; maxRSS = process.resourceUsage().maxRSS, which on Linux also counts the bench process\'s RSS at fork.');
    if (rebuild) {
      log('');
      log('Every projection starts at position 0 and applies the events of its types; the runner reads the log in pages of the batch size, one window shared by the projections that are at the same place:');
      log(
        table(
          ['projection', 'event types', 'events applied', 'batches', 'caught up at s'],
          rebuild.projections.map((p) => [p.name, p.eventTypes, p.eventsApplied, p.batches, p.caughtUpAtS]),
        ),
      );
      log('');
      log(
        table(
          ['target (DESIGN §8)', 'measured', 'verdict'],
          [
            [`rebuild ≥ ${TARGET_RATIO}× raw scan`, `${ratio}× (${rebuild.eventsPerSec.toLocaleString('en')} / ${bestScan?.eventsPerSec.toLocaleString('en')} events/s)`, ratioMet ? 'met' : 'NOT met'],
            ...alone.map(({ name, result: r }) => {
              const x = bestScan ? round(r.eventsPerSec / bestScan.eventsPerSec, 4) : Number.NaN;
              return [`rebuild of ${name} alone ≥ ${TARGET_RATIO}×`, `${x}× (${r.eventsPerSec.toLocaleString('en')} events/s, peak RSS ${r.peakRssMb} MB)`, x >= TARGET_RATIO && r.peakRssMb < TARGET_PEAK_RSS_MB ? 'met' : 'NOT met'];
            }),
            [`peak RSS < ${TARGET_PEAK_RSS_MB} MB`, `${rebuild.peakRssMb} MB (${rebuild.rssAfterLoadMb} MB of it before any work: node + ts-node + modules)`, rssMet ? 'met' : 'NOT met'],
            ['over ≥ 1M events', rebuild.logEvents.toLocaleString('en'), rebuild.logEvents >= 1_000_000 ? 'yes' : 'no (BENCH_EVENTS)'],
          ],
        ),
      );
    }
    if (profileSummary) {
      log('');
      log(formatProfileSummary('CPU profile of the rebuild', profileSummary));
    }

    const ok = failures.length === 0;
    const file = writeResultFile('projection-rebuild', startedAt, {
      bench: 'projection-rebuild',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      ok,
      failures,
      targets: { ratio: TARGET_RATIO, peakRssMb: TARGET_PEAK_RSS_MB },
      settings: s,
      machine: machineInfo(),
      history: { ...dataset.history, customerIds: undefined, busiest: dataset.history.busiest.slice(0, 20) },
      rawScans: scans,
      rebuild,
      alone,
      otherProcessesCores: others,
      ratio,
      profiling: profileSummary ? { dir: profileDir, summary: profileSummary } : undefined,
    });
    logOutcome(log, file, failures);
    return {
      ok,
      summary: {
        bench: 'projection-rebuild',
        ok,
        events: rebuild?.logEvents ?? dataset.history.events,
        projections: rebuild?.projections.length ?? null,
        batchSize: s.batchSize,
        rebuildEventsPerSec: rebuild?.eventsPerSec ?? null,
        rebuildSeconds: rebuild?.seconds ?? null,
        rawScanEventsPerSec: bestScan?.eventsPerSec ?? null,
        ratio,
        targetRatio: TARGET_RATIO,
        ratioMet,
        rebuildPeakRssMb: rebuild?.peakRssMb ?? null,
        rawScanPeakRssMb: bestScan?.peakRssMb ?? null,
        targetPeakRssMb: TARGET_PEAK_RSS_MB,
        rssMet,
        alone: Object.fromEntries(alone.map(({ name, result: r }) => [name, { eventsPerSec: r.eventsPerSec, ratio: bestScan ? round(r.eventsPerSec / bestScan.eventsPerSec, 4) : null, peakRssMb: r.peakRssMb }])),
        profiled: s.profile,
        failures: failures.length,
        file,
      },
    };
  },
};

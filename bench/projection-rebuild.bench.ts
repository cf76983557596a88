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
import { ALL_PROJECTIONS } from '@crm/read-models';
import { loadConfig, projectorThreadsFor } from '@crm/runtime';
import type { RawScanResult } from './workers/raw-scan.worker';
import type { RebuildResult } from './workers/projection-rebuild.worker';
import { envNumber, logOutcome, machineInfo, RESULTS_DIR, timestamp, writeResultFile, type Bench, type BenchOutcome } from './lib/bench';
import { formatProfileSummary, summarizeProfiles } from './lib/cpu-profile';
import { generateDataset, handOver, rebuildReadModels, type Dataset } from './lib/dataset';
import { builtProjectorThreadEntry } from './lib/built';
import { rebuildByProjectorProcess, type ProjectorProcessResult } from './lib/projector-process';
import { busyCores, machineCpu } from './lib/machine-load';
import { round, table } from './lib/stats';
import { runWorker } from './lib/worker';

/** Issue 18: each read model alone ≥ 0.3× the raw scan; all of them together ≥ 0.12×. */
const TARGET_RATIO = 0.3;
const TARGET_ALL_RATIO = 0.12;
const TARGET_PEAK_RSS_MB = 400;

interface Settings {
  events: number;
  customers: number | undefined;
  batchSize: number;
  profile: boolean;
  timeoutSeconds: number;
  /** Projections also rebuilt one at a time (as POST /projections/:name/rebuild does), before the full rebuild. */
  alone: string[];
  /** Projector threads of the bench's worker's all-projections rebuild (BENCH_PROJECTOR_THREADS, default 2). */
  threads: number;
  /**
   * PROJECTOR_THREADS of the compiled projector process (BENCH_PROCESS_THREADS): by default the projector's own default
   * (one runner), so that the verdict is on the process as it is deployed.
   */
  processThreads: number;
  /** Also the all-projections rebuild by one runner on one thread (the way before projector threads), for comparison. */
  single: boolean;
  /**
   * The all-projections rebuild by the compiled projector process too (BENCH_REBUILD_PROCESS, default on): the verdict
   * is on it when run. The bench's worker runs its supervising thread under ts-node, which deployed processes do not.
   */
  process: boolean;
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
    alone: aloneList(process.env.BENCH_REBUILD_ALONE ?? 'all'),
    threads: Math.round(envNumber('BENCH_PROJECTOR_THREADS', 2, 1)),
    processThreads: Math.round(envNumber('BENCH_PROCESS_THREADS', projectorThreadsFor(loadConfig({})), 1)),
    single: !['0', 'false'].includes((process.env.BENCH_REBUILD_SINGLE ?? '1').toLowerCase()),
    process: !['0', 'false'].includes((process.env.BENCH_REBUILD_PROCESS ?? '1').toLowerCase()),
  };
}

/**
 * The projections rebuilt one at a time: every one by default (`all`), since the target is per read model; a comma
 * list (e.g. `customer_timelines,loyalty`) for a quicker run, `none` for no such rebuild.
 */
function aloneList(value: string): string[] {
  const wanted = value.trim();
  if (wanted === 'all') return ALL_PROJECTIONS.map((p) => p.name);
  if (wanted === 'none' || wanted === '') return [];
  return wanted.split(',').map((x) => x.trim()).filter(Boolean);
}

function rawScan(dataset: Dataset, name: string): Promise<RawScanResult> {
  return runWorker<RawScanResult>({ name, script: join(__dirname, 'workers', 'raw-scan.worker.ts'), env: { BENCH_EVENTS_DB: dataset.eventsDb }, timeoutMs: 300_000 });
}

export const projectionRebuildBench: Bench = {
  name: 'projection-rebuild',
  description: `rebuild of every projection over 1M generated events vs a raw scan of the same log (targets: all together ≥ ${TARGET_ALL_RATIO}×, each alone ≥ ${TARGET_RATIO}×, peak RSS < ${TARGET_PEAK_RSS_MB} MB)`,
  async run(): Promise<BenchOutcome> {
    const s = settings();
    const startedAt = new Date();
    const log = (line: string): void => console.log(line);
    const failures: string[] = [];
    log(`projection-rebuild: ${s.events.toLocaleString('en')} events; batch size ${s.batchSize}; raw scan, rebuilds (alone, one runner, ${s.threads} projector threads), raw scan, each in its own child process`);

    // Before the dataset: a build on a loaded machine takes a minute, and the dataset's files wait for no one.
    const threadEntry = builtProjectorThreadEntry(log);
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
    let threaded: RebuildResult | undefined;
    let deployed: ProjectorProcessResult | undefined;
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
      const checkAll = (label: string, r: RebuildResult): void => {
        if (r.logEvents !== head) failures.push(`${label} saw ${r.logEvents} events, the log has ${head}`);
        for (const p of r.projections) if (p.status !== 'live' || p.lastError) failures.push(`${label}: ${p.name}: ${p.status} ${p.lastError ?? ''}`);
      };
      if (s.single) {
        rebuild = await othersDuring('rebuild', () => rebuildReadModels(dataset, { batchSize: s.batchSize, profileFile, timeoutMs: s.timeoutSeconds * 1000 }));
        log(
          `  rebuild by one runner: ${rebuild.logEvents.toLocaleString('en')} events in ${rebuild.seconds} s = ${rebuild.eventsPerSec.toLocaleString('en')} events/s, ` +
            `peak RSS ${rebuild.peakRssMb} MB, read models ${rebuild.readModelsMb} MB`,
        );
        checkAll('rebuild by one runner', rebuild);
      }
      // As the projector runs it (npm start's projector threads, the projector process): last, so that the read
      // models handed over to the next bench are the ones the product builds.
      threaded = await othersDuring('threads', () => rebuildReadModels(dataset, { batchSize: s.batchSize, timeoutMs: s.timeoutSeconds * 1000, threads: s.threads, workerEntry: threadEntry, name: `rebuild, ${s.threads} threads` }));
      log(
        `  rebuild by ${s.threads} projector threads: ${threaded.logEvents.toLocaleString('en')} events in ${threaded.seconds} s = ${threaded.eventsPerSec.toLocaleString('en')} events/s, ` +
          `peak RSS ${threaded.peakRssMb} MB, write-lock waits ${threaded.writeLockWaitSeconds ?? '?'} s; threads ${JSON.stringify(threaded.threads)}`,
      );
      checkAll(`rebuild by ${s.threads} threads`, threaded);
      if (s.process) {
        // Last: the read models handed over to the next bench are then the ones the deployed process builds.
        deployed = await othersDuring('process', () => rebuildByProjectorProcess(dataset, { threads: s.processThreads, timeoutMs: s.timeoutSeconds * 1000, log }));
        log(
          `  rebuild by the compiled projector process (PROJECTOR_THREADS=${s.processThreads}, ${deployed.nodeFlags.join(' ')}): every read model ready ${deployed.seconds} s after the spawn ` +
            `= ${deployed.eventsPerSec.toLocaleString('en')} events/s, peak RSS ${deployed.peakRssMb} MB, CPU ${deployed.cpuSeconds} s`,
        );
      }
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
    const ratioOf = (r: RebuildResult | undefined): number => (r && bestScan ? round(r.eventsPerSec / bestScan.eventsPerSec, 4) : Number.NaN);
    // The verdict is on the rebuild as the projector runs it: the compiled process when it ran, else the bench's worker
    // with the same threads; the one-runner row is the comparison.
    const verdictOn: { eventsPerSec: number; peakRssMb: number } | undefined = deployed ?? threaded;
    const ratio = verdictOn && bestScan ? round(verdictOn.eventsPerSec / bestScan.eventsPerSec, 4) : Number.NaN;
    const threadsRatio = ratioOf(threaded);
    const singleRatio = ratioOf(rebuild);
    const ratioMet = ratio >= TARGET_ALL_RATIO;
    const rssMet = verdictOn ? verdictOn.peakRssMb < TARGET_PEAK_RSS_MB && (deployed !== undefined || !rebuild || rebuild.peakRssMb < TARGET_PEAK_RSS_MB) : false;
    const allRow = (label: string, r: RebuildResult, other: string): Array<string | number> => [
      `${label} (${r.projections.length} projections, batch ${r.batchSize})${r.profiled ? ' PROFILED' : ''}`, r.logEvents, r.seconds, r.eventsPerSec, r.cpuSeconds,
      r.mainThreadCpuSeconds ?? '', r.rssAfterLoadMb, r.peakRssMb, r.maxRssMb, r.peakHeapUsedMb, r.eventLoopMaxStallMs, others[other] ?? '?',
    ];

    log('');
    log(
      table(
        ['phase', 'events', 'seconds', 'events/s', 'CPU s', 'main-thread CPU s', 'RSS after load MB', 'peak RSS MB', 'maxRSS MB', 'peak heap MB', 'event loop max stall ms', 'other procs cores'],
        [
          ...scans.map((r, i) => [`raw scan ${i + 1}`, r.events, r.seconds, r.eventsPerSec, r.cpuSeconds, '', r.rssAfterLoadMb, r.peakRssMb, r.maxRssMb, '', '', others[`raw scan ${i + 1}`] ?? '?']),
          ...alone.map(({ name, result: r }) => [`rebuild of ${name} alone`, r.logEvents, r.seconds, r.eventsPerSec, r.cpuSeconds, r.mainThreadCpuSeconds ?? '', r.rssAfterLoadMb, r.peakRssMb, r.maxRssMb, r.peakHeapUsedMb, r.eventLoopMaxStallMs, '']),
          ...(rebuild ? [allRow('rebuild by one runner', rebuild, 'rebuild')] : []),
          ...(threaded ? [allRow(`rebuild by ${s.threads} projector threads`, threaded, 'threads')] : []),
          ...(deployed
            ? [[`compiled projector process, PROJECTOR_THREADS=${s.processThreads}`, deployed.logEvents, deployed.seconds, deployed.eventsPerSec, deployed.cpuSeconds, '', '', deployed.peakRssMb, '', '', '', others['process'] ?? '?']]
            : []),
        ],
      ),
    );
    log('CPU s: the whole process (V8\'s GC helper threads and any projector threads included); main-thread CPU s: the runner\'s thread alone. A rebuild ends when every projection is marked ready (its deferred indexes built).');
    log('peak RSS = VmHWM, the process\'s own peak (all its threads); maxRSS = process.resourceUsage().maxRSS, which on Linux also counts the bench process\'s RSS at fork.');
    log('With projector threads, peak heap and event loop stall are the supervising thread\'s (where an API would answer requests), CPU s the whole process\'s.');
    log('The bench\'s worker runs its supervising thread under ts-node (the TypeScript compiler loaded: see RSS after load); the compiled projector process is the deployed one, timed from its spawn.');
    if (rebuild || threaded) {
      log('');
      log('Every projection starts at position 0 and applies the events of its types; a runner reads the log in pages of the batch size, one window shared by the projections it runs that are at the same place:');
      log(
        table(
          ['projection', 'event types', 'events applied', 'batches (one runner)', 'caught up at s (one runner)', 'thread', 'caught up at s (threads)', 'ready at s (process)'],
          (threaded ?? rebuild)!.projections.map((p) => {
            const one = rebuild?.projections.find((x) => x.name === p.name);
            const t = threaded?.projections.find((x) => x.name === p.name);
            return [p.name, p.eventTypes, p.eventsApplied, one?.batches ?? '', one?.caughtUpAtS ?? '', threaded?.threads?.findIndex((g) => g.includes(p.name)) ?? '', t?.caughtUpAtS ?? '', deployed?.readyAtS[p.name] ?? ''];
          }),
        ),
      );
      log('');
      const rss = [rebuild, threaded].filter((r): r is RebuildResult => r !== undefined);
      log(
        table(
          ['target (issue 18, DESIGN §8)', 'measured', 'verdict'],
          [
            ...(verdictOn
              ? [[`all together (${deployed ? `the compiled projector process, PROJECTOR_THREADS=${s.processThreads}` : `${s.threads} projector threads`}) ≥ ${TARGET_ALL_RATIO}× raw scan`, `${ratio}× (${verdictOn.eventsPerSec.toLocaleString('en')} / ${bestScan?.eventsPerSec.toLocaleString('en')} events/s)`, ratioMet ? 'met' : 'NOT met']]
              : []),
            ...(deployed && threaded
              ? [[`all together by the bench's worker, ${s.threads} threads (comparison)`, `${threadsRatio}× (${threaded.eventsPerSec.toLocaleString('en')} events/s, peak RSS ${threaded.peakRssMb} MB of which ${threaded.rssAfterLoadMb} MB after load)`, '']]
              : []),
            ...(rebuild
              ? [[`all together by one runner (comparison)`, `${singleRatio}× (${rebuild.eventsPerSec.toLocaleString('en')} events/s); threads / one runner = ${threaded ? round(threaded.eventsPerSec / rebuild.eventsPerSec, 2) : '?'}×`, '']]
              : []),
            ...alone.map(({ name, result: r }) => {
              const x = bestScan ? round(r.eventsPerSec / bestScan.eventsPerSec, 4) : Number.NaN;
              return [`rebuild of ${name} alone ≥ ${TARGET_RATIO}×`, `${x}× (${r.eventsPerSec.toLocaleString('en')} events/s, peak RSS ${r.peakRssMb} MB)`, x >= TARGET_RATIO && r.peakRssMb < TARGET_PEAK_RSS_MB ? 'met' : 'NOT met'];
            }),
            [
              `peak RSS < ${TARGET_PEAK_RSS_MB} MB`,
              deployed ? `${deployed.peakRssMb} MB (the compiled projector process)` : rss.map((r) => `${r.peakRssMb} MB${r.threads ? ' (threads)' : ' (one runner)'}`).join(', '),
              rssMet ? 'met' : 'NOT met',
            ],
            ['over ≥ 1M events', (threaded ?? rebuild)!.logEvents.toLocaleString('en'), (threaded ?? rebuild)!.logEvents >= 1_000_000 ? 'yes' : 'no (BENCH_EVENTS)'],
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
      targets: { ratio: TARGET_ALL_RATIO, aloneRatio: TARGET_RATIO, peakRssMb: TARGET_PEAK_RSS_MB },
      settings: s,
      machine: machineInfo(),
      history: { ...dataset.history, customerIds: undefined, busiest: dataset.history.busiest.slice(0, 20) },
      rawScans: scans,
      rebuild,
      threaded,
      deployed,
      threadsRatio,
      singleRatio,
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
        projections: (threaded ?? rebuild)?.projections.length ?? null,
        threads: s.threads,
        processThreads: deployed ? s.processThreads : null,
        threadsEventsPerSec: threaded?.eventsPerSec ?? null,
        threadsSeconds: threaded?.seconds ?? null,
        threadsPeakRssMb: threaded?.peakRssMb ?? null,
        writeLockWaitSeconds: threaded?.writeLockWaitSeconds ?? null,
        processSeconds: deployed?.seconds ?? null,
        processEventsPerSec: deployed?.eventsPerSec ?? null,
        processPeakRssMb: deployed?.peakRssMb ?? null,
        threadsRatio,
        singleRatio,
        batchSize: s.batchSize,
        rebuildEventsPerSec: rebuild?.eventsPerSec ?? null,
        rebuildSeconds: rebuild?.seconds ?? null,
        rawScanEventsPerSec: bestScan?.eventsPerSec ?? null,
        ratio,
        targetRatio: TARGET_ALL_RATIO,
        targetAloneRatio: TARGET_RATIO,
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

/**
 * Command path: commands/s for POST /customers/:id/contacts through the whole app (HTTP → auth → validation →
 * CQRS bus → read stream → fold → decide → group-committed append → 201) against a minimal Fastify +
 * better-sqlite3 handler that appends one row, in the same run on the same machine. DESIGN §8 target: ≥ 0.6×.
 *
 * Each server runs in its own child process; the load generator (autocannon) runs here. Per synchronous mode the
 * two servers are measured alternately, baseline then SUT, BENCH_ROUNDS times (ABAB), so drift on a noisy machine
 * hits both; every round starts the servers fresh on new temp dirs with the same N seeded streams. Env: BENCH_SYNC=NORMAL|FULL|both, BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_CONNECTIONS,
 * BENCH_CUSTOMERS, BENCH_ROUNDS, BENCH_CPU_PROF=sut|baseline|both, BENCH_PROJECTOR: a comma list of off|embedded|thread, one
 * SUT per entry in every round (default `off,thread`: the command path alone, as with a separate projector process, and
 * the app as `npm start` runs it, projections in a worker thread), BENCH_STAGE_SECONDS (a profiled window after each
 * SUT's measured one, for the per-stage CPU breakdown; 0 = none). PROJECTOR_THREAD_NICE (unset: the app's default) is
 * passed to the SUTs: an A/B of the projector thread's priority. For SUTs with projections (`thread`, `embedded`) it
 * also reports what the load cost the read side: the projections' lag during and at the end of the measured window,
 * and the time they took to catch up after it (bench/lib/read-side-lag.ts).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { envNumber, logOutcome, machineInfo, RESULTS_DIR, sleep, timestamp, writeResultFile, type Bench, type BenchOutcome } from './lib/bench';
import { builtProjectorThreadEntry } from './lib/built';
import { productionNodeFlags } from './lib/node-flags';
import { startServer, type RunningServer, type ServerStats } from './lib/child-server';
import { makeTempDir } from './lib/cleanup';
import { formatAllocationSummary, formatProfileSummary, summarizeAllocations, summarizeProfiles } from './lib/cpu-profile';
import { STAGES, stageBreakdown, type StageBreakdown } from './lib/command-stages';
import { runLoad, type LoadResult } from './lib/load';
import { sampleReadSideLag, type ReadSideLag } from './lib/read-side-lag';
import { median, round, table } from './lib/stats';

type Sync = 'NORMAL' | 'FULL';
type Projector = 'off' | 'embedded' | 'thread';
/** The baseline, or the app with its projections off, on its event loop, or in a worker thread (`npm start`). */
type Role = 'baseline' | `app/${Projector}`;
type ProfileTarget = 'baseline' | 'sut';

/** Same durability (NORMAL vs NORMAL, FULL vs a baseline that fsyncs each request): DESIGN §8 and issue 18 item 2. */
const TARGET_RATIO = 0.6;
/** The durable default (FULL, group commit) against the baseline at NORMAL. */
const TARGET_FULL_VS_NORMAL = 0.5;
/**
 * The headline SUT: the command path alone. The target is defined over the command path (HTTP → decide → append);
 * with PROJECTOR=thread the same process also projects every event into every read model, a read-side cost on a
 * second thread that this 2-core machine shares with the load generator (reported beside it, not hidden).
 */
const HEADLINE: Role = 'app/off';
const AGENT_TOKEN = 'bench-agent-token-0123456789';
const TOKENS = [{ token: AGENT_TOKEN, id: 'bench-agent', role: 'agent' }];
const CONTACT_BODY = JSON.stringify({
  channel: 'phone',
  direction: 'inbound', // inbound contacts are never refused by the contact cap
  purpose: 'support',
  summary: 'Customer called about the delivery date of order 4711 and asked for a call back next week.',
  outcome: 'Explained the delivery schedule; customer satisfied.',
});
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${AGENT_TOKEN}` };

interface Settings {
  modes: Sync[];
  seconds: number;
  warmupSeconds: number;
  connections: number;
  customers: number;
  rounds: number;
  profile: ProfileTarget[];
  projectors: Projector[];
  stageSeconds: number;
  /** How the servers load their TypeScript (BENCH_LOADER; ts-node only to compare with earlier figures). */
  loader: 'transpile' | 'ts-node';
  /** PROJECTOR_THREAD_NICE given to the SUTs; `default` = the app's own. */
  projectorThreadNice: string;
  /** The compiled projector thread the thread-mode SUTs run (as `npm start`'s), set once the build is checked. */
  projectorThreadEntry?: string;
}

interface StageWindow {
  ok: number;
  non2xx: number;
  errors: number;
  /** Process CPU (all threads) per command during the profiled window. */
  processCpuMicrosPerCommand: number;
  /** Main-thread CPU per command (from /proc); null where unavailable, then the stages are scaled to the process CPU. */
  mainThreadCpuMicrosPerCommand: number | null;
  /** Bytes the main thread allocated per command (sampling heap profile counting what the GCs collected too). */
  allocatedBytesPerCommand: number | null;
  breakdown: StageBreakdown;
}

interface RoundResult {
  mode: Sync;
  round: number;
  server: Role;
  reqPerSec: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latencyMs: LoadResult['latencyMs'];
  /** Server process CPU (user + system) per 2xx command during the measured window. */
  serverCpuMicrosPerCommand: number;
  /** CPU of the server's main thread alone per 2xx command (null without /proc). */
  mainThreadCpuMicrosPerCommand: number | null;
  /** Share of one core the server used during the measured window (1.0 = one core saturated). */
  serverCpuCores: number;
  serverRssMb: number;
  /** Events per customer stream at the start and end of the load (the SUT reads whole streams: cost grows). */
  eventsPerStreamAtStart: number;
  eventsPerStreamAtEnd: number;
  /** CPU of this process (autocannon) during the measured window, in cores: near 1 means the load generator limits. */
  loadgenCpuCores: number;
  /** Rows the store gained during warm-up + measured load vs 2xx seen (a few in-flight ones may land uncounted). */
  appendedRows: number;
  warmup: { ok: number; reqPerSec: number; non2xx: number; errors: number; timeouts: number };
  /** GC of the server's main thread during the measured window (perf_hooks 'gc' entries): pauses per 1,000 commands, µs per command, longest pause. */
  gc: { pausesPer1kCommands: number; microsPerCommand: number; maxMs: number };
  /** The profiled window after the measured one (SUTs only, BENCH_STAGE_SECONDS > 0, or the measured window when profiled). */
  stages?: StageWindow;
  /** SUTs with projections: their lag during and at the end of the measured window, and the catch-up after it. */
  readSide?: ReadSideLag;
}

interface ModeResult {
  mode: Sync;
  sut: Role;
  baselineReqPerSec: number;
  sutReqPerSec: number;
  /** median(SUT rounds) / median(baseline rounds). */
  ratio: number;
  /** SUT round i / baseline round i, to show the spread. */
  pairRatios: number[];
  meetsTarget: boolean;
  baselineLatencyMs: { p50: number; p99: number };
  sutLatencyMs: { p50: number; p99: number };
  sutCpuMicrosPerCommand: number;
  baselineCpuMicrosPerCommand: number;
}

function settings(): Settings {
  const sync = (process.env.BENCH_SYNC ?? 'both').toUpperCase();
  if (!['NORMAL', 'FULL', 'BOTH'].includes(sync)) throw new Error('BENCH_SYNC must be NORMAL, FULL or both');
  const prof = (process.env.BENCH_CPU_PROF ?? '').toLowerCase();
  if (!['', 'sut', 'baseline', 'both'].includes(prof)) throw new Error('BENCH_CPU_PROF must be sut, baseline or both');
  const projectors = (process.env.BENCH_PROJECTOR ?? 'off,thread').toLowerCase().split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (projectors.length === 0 || projectors.some((p) => p !== 'off' && p !== 'embedded' && p !== 'thread')) {
    throw new Error('BENCH_PROJECTOR must be a comma list of off, embedded, thread');
  }
  return {
    modes: sync === 'BOTH' ? ['NORMAL', 'FULL'] : [sync as Sync],
    seconds: envNumber('BENCH_SECONDS', 10, 1),
    warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 2, 0),
    connections: Math.round(envNumber('BENCH_CONNECTIONS', 32, 1)),
    customers: Math.round(envNumber('BENCH_CUSTOMERS', 1000, 1)),
    rounds: Math.round(envNumber('BENCH_ROUNDS', 2, 1)),
    profile: prof === '' ? [] : prof === 'both' ? ['baseline', 'sut'] : [prof as ProfileTarget],
    projectors: [...new Set(projectors)] as Projector[],
    stageSeconds: envNumber('BENCH_STAGE_SECONDS', 5, 0),
    loader: process.env.BENCH_LOADER === 'ts-node' ? 'ts-node' : 'transpile',
    projectorThreadNice: process.env.PROJECTOR_THREAD_NICE || 'default',
  };
}

async function postJson(url: string, body: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: HEADERS, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: res.status, body: parsed };
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
async function pool<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** A UUIDv7 (time-ordered, like the ids the app generates itself), so both servers get the same stream ids. */
function uuidv7(): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Registers the customers through the SUT's own HTTP API (client-supplied ids). */
async function registerCustomers(sut: RunningServer, ids: readonly string[]): Promise<void> {
  await pool(ids, 32, async (id) => {
    const res = await postJson(`${sut.url}/customers`, JSON.stringify({ id, name: `Bench Customer ${id.slice(-6)}`, kind: 'customer' }));
    if (res.status !== 201 || (res.body as { id?: unknown }).id !== id) {
      throw new Error(`POST /customers → ${res.status} ${JSON.stringify(res.body)}`);
    }
  });
}

/** One command through `server`, checked for 201 and the `{ id, streamRevision, position }` shape. */
async function probe(server: RunningServer, customerId: string): Promise<void> {
  const res = await postJson(`${server.url}/customers/${customerId}/contacts`, CONTACT_BODY);
  const body = res.body as { id?: unknown; streamRevision?: unknown; position?: unknown };
  if (res.status !== 201 || typeof body.id !== 'string' || typeof body.streamRevision !== 'number' || typeof body.position !== 'number') {
    throw new Error(`${server.name}: probe POST /customers/${customerId}/contacts → ${res.status} ${JSON.stringify(res.body)}`);
  }
}

function countRows(dbFile: string): number {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const cpuMicros = (s: ServerStats): number => s.cpuUserMicros + s.cpuSystemMicros;
const mainThreadMicros = (before: ServerStats, after: ServerStats): number | null =>
  before.mainThreadCpuMicros === null || after.mainThreadCpuMicros === null ? null : after.mainThreadCpuMicros - before.mainThreadCpuMicros;

const loadOf = (server: RunningServer, s: Settings, customerIds: readonly string[], cursor: { i: number }) => (seconds: number): Promise<LoadResult> =>
  runLoad({
    url: server.url,
    connections: s.connections,
    seconds,
    method: 'POST',
    headers: HEADERS,
    body: CONTACT_BODY,
    // Round-robin over all customers: with 32 in flight and 1,000 streams, no two concurrent commands share one.
    nextPath: () => `/customers/${customerIds[cursor.i++ % customerIds.length]!}/contacts`,
  });

/**
 * A window of the same load with the SUT's main thread profiled, after its measured window (so the profiler's cost is
 * not in the req/s): each sample goes to a stage by its stack (bench/lib/command-stages.ts), and the stages' shares
 * are scaled to the main thread's CPU per command in that window.
 */
interface HeapProfileNode {
  selfSize: number;
  children?: HeapProfileNode[];
}

/** Bytes per command in a sampling heap profile (each sample weighted by the profiler), or null without the file. */
function sampledAllocationBytes(file: string, commands: number): number | null {
  if (!existsSync(file)) return null;
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapProfileNode };
  let bytes = 0;
  const stack = [head];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    bytes += node.selfSize;
    for (const child of node.children ?? []) stack.push(child);
  }
  return Math.round(bytes / commands);
}

async function stageWindow(server: RunningServer, s: Settings, customerIds: readonly string[], cursor: { i: number }, file: string): Promise<StageWindow> {
  const before = await server.stats();
  await server.profileStart();
  const measured = await loadOf(server, s, customerIds, cursor)(s.stageSeconds);
  await server.profileStop(file);
  const after = await server.stats();
  const ok = Math.max(1, measured.ok);
  const main = mainThreadMicros(before, after);
  return {
    ok: measured.ok,
    non2xx: measured.non2xx,
    errors: measured.errors + measured.timeouts,
    processCpuMicrosPerCommand: round((cpuMicros(after) - cpuMicros(before)) / ok, 1),
    mainThreadCpuMicrosPerCommand: main === null ? null : round(main / ok, 1),
    allocatedBytesPerCommand: sampledAllocationBytes(file.replace(/\.cpuprofile$/, '.heapprofile'), ok),
    breakdown: stageBreakdown([file], measured.ok),
  };
}

async function measureRound(args: {
  mode: Sync;
  round: number;
  role: Role;
  server: RunningServer;
  dbFile: string;
  customerIds: readonly string[];
  cursor: { i: number };
  s: Settings;
  profileFile?: string;
  /** The SUT's DATA_DIR when it runs projections: their lag is sampled from its files. */
  projectionsDataDir?: string;
}): Promise<RoundResult> {
  const { server, s, customerIds, cursor } = args;
  const load = loadOf(server, s, customerIds, cursor);

  const rowsBefore = countRows(args.dbFile);
  const warm = s.warmupSeconds > 0 ? await load(s.warmupSeconds) : undefined;
  await sleep(100);
  const before = await server.stats();
  if (args.profileFile) await server.profileStart();
  const started = process.hrtime.bigint();
  const lagSampler = args.projectionsDataDir ? sampleReadSideLag(args.projectionsDataDir) : undefined;
  const loadgenBefore = process.cpuUsage();
  const measured = await load(s.seconds);
  const loadgen = process.cpuUsage(loadgenBefore);
  const wallMicros = Number(process.hrtime.bigint() - started) / 1000;
  const after = await server.stats();
  // After the CPU figures: the catch-up's CPU is the read side's, not the measured commands'.
  const readSide = await lagSampler?.stop();
  if (args.profileFile) await server.profileStop(args.profileFile);
  await sleep(100);
  const rowsAfter = countRows(args.dbFile);
  const cpu = cpuMicros(after) - cpuMicros(before);
  const main = mainThreadMicros(before, after);
  return {
    mode: args.mode,
    round: args.round,
    server: args.role,
    reqPerSec: measured.reqPerSec,
    ok: measured.ok,
    non2xx: measured.non2xx,
    errors: measured.errors,
    timeouts: measured.timeouts,
    statusCodes: measured.statusCodes,
    latencyMs: measured.latencyMs,
    serverCpuMicrosPerCommand: round(cpu / Math.max(1, measured.ok), 1),
    mainThreadCpuMicrosPerCommand: main === null ? null : round(main / Math.max(1, measured.ok), 1),
    serverCpuCores: round(cpu / wallMicros, 2),
    serverRssMb: round(after.rssBytes / 2 ** 20, 1),
    eventsPerStreamAtStart: round(rowsBefore / customerIds.length, 1),
    eventsPerStreamAtEnd: round(rowsAfter / customerIds.length, 1),
    loadgenCpuCores: round((loadgen.user + loadgen.system) / wallMicros, 2),
    appendedRows: rowsAfter - rowsBefore,
    gc: {
      pausesPer1kCommands: round((after.gc.pauses * 1000) / Math.max(1, measured.ok), 1),
      microsPerCommand: round((after.gc.totalMs * 1000) / Math.max(1, measured.ok), 1),
      maxMs: after.gc.maxMs,
    },
    ...(readSide ? { readSide } : {}),
    warmup: {
      ok: warm?.ok ?? 0,
      reqPerSec: warm?.reqPerSec ?? 0,
      non2xx: warm?.non2xx ?? 0,
      errors: warm?.errors ?? 0,
      timeouts: warm?.timeouts ?? 0,
    },
  };
}

function failuresOf(r: RoundResult, s: Settings): string[] {
  const problems: string[] = [];
  const label = `${r.mode} round ${r.round} ${r.server}`;
  if (r.non2xx > 0) problems.push(`${label}: ${r.non2xx} non-2xx responses ${JSON.stringify(r.statusCodes)}`);
  if (r.errors > 0 || r.timeouts > 0) problems.push(`${label}: ${r.errors} connection errors, ${r.timeouts} timeouts`);
  if (r.warmup.non2xx > 0 || r.warmup.errors > 0 || r.warmup.timeouts > 0) {
    problems.push(`${label} warm-up: ${r.warmup.non2xx} non-2xx, ${r.warmup.errors} errors, ${r.warmup.timeouts} timeouts`);
  }
  // Every 2xx must be a row in the store; at most the requests in flight when the load stopped may add more.
  const counted = r.ok + r.warmup.ok;
  if (r.appendedRows < counted || r.appendedRows > counted + 2 * s.connections) {
    problems.push(`${label}: ${counted} commands answered 2xx but the store gained ${r.appendedRows} rows`);
  }
  return problems;
}

/**
 * One round: every server fresh (own temp dirs, same N streams seeded), the baseline measured, then each SUT, all
 * stopped and their files deleted. Fresh per round, so round 2 measures the same state as round 1 (the SUT reads
 * the whole stream per command: with carried-over data its second round would run on streams 2× as long).
 */
async function runRound(mode: Sync, round: number, s: Settings, profileDir: string | undefined, log: (line: string) => void): Promise<{ rounds: RoundResult[]; failures: string[]; profiles: Record<ProfileTarget, string[]> }> {
  const baselineTmp = makeTempDir('crm-bench-baseline-');
  const baselineDb = join(baselineTmp.dir, 'events.db');
  const suts = s.projectors.map((projector) => {
    const tmp = makeTempDir(`crm-bench-sut-${projector}-`);
    return { projector, role: `app/${projector}` as Role, tmp, dataDir: join(tmp.dir, 'data') };
  });
  const servers: RunningServer[] = [];
  const rounds: RoundResult[] = [];
  const failures: string[] = [];
  const profiles: Record<ProfileTarget, string[]> = { baseline: [], sut: [] };
  try {
    const bootStart = Date.now();
    const [baseline, ...sutServers] = await Promise.all([
      startServer({
        name: `baseline-${mode}`,
        script: join(__dirname, 'servers', 'baseline-server.ts'),
        env: { BENCH_DB_FILE: baselineDb, BENCH_SYNC: mode, BENCH_OWNED_DIR: baselineTmp.dir },
        nodeFlags: productionNodeFlags('api'), // the same heap bound as the app: like for like
        loader: s.loader, // transpile: like `npm start`'s compiled JavaScript, no ts-node (whose REPL loads `domain`) in the process
      }),
      ...suts.map((t) =>
        startServer({
          name: `${t.role}-${mode}`,
          script: join(__dirname, 'servers', 'sut-server.ts'),
          env: { BENCH_DATA_DIR: t.dataDir, BENCH_SYNC: mode, BENCH_TOKENS: JSON.stringify(TOKENS), BENCH_PROJECTOR: t.projector, BENCH_OWNED_DIR: t.tmp.dir,
            ...(t.projector === 'thread' && s.projectorThreadEntry ? { BENCH_PROJECTOR_THREAD_ENTRY: s.projectorThreadEntry } : {}) },
          nodeFlags: productionNodeFlags('api'),
          loader: s.loader,
        })),
    ]);
    servers.push(baseline!, ...sutServers);
    const booted = Date.now() - bootStart;

    const seedStart = Date.now();
    const customerIds = Array.from({ length: s.customers }, uuidv7);
    // The baseline gets one row per stream too, so all stores start with the same number of streams and rows.
    await Promise.all([...sutServers.map((sut) => registerCustomers(sut, customerIds)), pool(customerIds, 16, (id) => probe(baseline!, id))]);
    for (const sut of sutServers) await probe(sut, customerIds[0]!);
    log(`[${mode}] round ${round}: servers up in ${booted} ms (pids ${servers.map((x) => `${x.name} ${x.pid}`).join(', ')}); ${s.customers} customers registered (SUTs) and seeded (baseline) in ${Date.now() - seedStart} ms`);

    const targets: Array<{ role: Role; server: RunningServer; dbFile: string }> = [
      { role: 'baseline', server: baseline!, dbFile: baselineDb },
      ...suts.map((t, i) => ({ role: t.role, server: sutServers[i]!, dbFile: join(t.dataDir, 'events.db') })),
    ];
    for (const t of targets) {
      const profileTarget: ProfileTarget = t.role === 'baseline' ? 'baseline' : 'sut';
      const fileRole = t.role.replace('/', '-');
      const profileFile =
        profileDir && s.profile.includes(profileTarget) ? join(profileDir, `${fileRole}-${mode}-round${round}.cpuprofile`) : undefined;
      const cursor = { i: 0 };
      const projectionsDataDir = t.role === 'app/thread' || t.role === 'app/embedded' ? dirname(t.dbFile) : undefined;
      const r = await measureRound({ mode, round, role: t.role, server: t.server, dbFile: t.dbFile, customerIds, cursor, s, profileFile, projectionsDataDir });
      if (profileFile) profiles[profileTarget].push(profileFile);
      failures.push(...failuresOf(r, s));
      log(
        `[${mode}] round ${round} ${t.role.padEnd(12)} ${String(r.reqPerSec).padStart(8)} req/s  p50 ${r.latencyMs.p50} ms  p99 ${r.latencyMs.p99} ms` +
          `  server ${r.serverCpuMicrosPerCommand} µs CPU/cmd (main thread ${r.mainThreadCpuMicrosPerCommand ?? '?'})  GC ${r.gc.microsPerCommand} µs/cmd, ${r.gc.pausesPer1kCommands} pauses/1k cmd, max ${r.gc.maxMs} ms  load generator ${r.loadgenCpuCores} cores  non-2xx ${r.non2xx}`,
      );
      if (r.readSide) {
        const l = r.readSide;
        log(
          `[${mode}] round ${round} ${t.role.padEnd(12)} read side: lag p50/p99/max ${l.lagMs.p50}/${l.lagMs.p99}/${l.lagMs.max} ms (${l.behindEvents.p50}/${l.behindEvents.p99}/${l.behindEvents.max} events behind)` +
            `  at the end ${l.atEnd.lagMs} ms (${l.atEnd.behindEvents} events)  caught up ${l.catchUpMs === null ? 'NOT within the bound' : `${l.catchUpMs} ms`} after the load`,
        );
      }
      if (t.role !== 'baseline' && s.stageSeconds > 0) {
        const dir = profileDir ?? makeStageDir();
        const w = await stageWindow(t.server, s, customerIds, cursor, join(dir, `stages-${fileRole}-${mode}-round${round}.cpuprofile`));
        r.stages = w;
        if (w.non2xx > 0 || w.errors > 0) failures.push(`${mode} round ${round} ${t.role} stage window: ${w.non2xx} non-2xx, ${w.errors} errors/timeouts`);
        log(`[${mode}] round ${round} ${t.role.padEnd(12)} stage window: ${w.ok} commands, ${w.processCpuMicrosPerCommand} µs CPU/cmd (main thread ${w.mainThreadCpuMicrosPerCommand ?? '?'}) while profiled, ${w.allocatedBytesPerCommand === null ? '?' : (w.allocatedBytesPerCommand / 1024).toFixed(1)} KB allocated/cmd`);
      }
      rounds.push(r);
    }
  } finally {
    await Promise.allSettled(servers.map((x) => x.stop()));
    baselineTmp.remove();
    for (const t of suts) t.tmp.remove();
  }
  return { rounds, failures, profiles };
}

/** Profiles only feed the stage breakdown unless BENCH_CPU_PROF asked to keep them: they go to a temp dir then. */
let stageDir: { dir: string; remove: () => void } | undefined;
function makeStageDir(): string {
  stageDir ??= makeTempDir('crm-bench-stages-');
  return stageDir.dir;
}

function summarize(mode: Sync, sut: Role, rounds: RoundResult[]): ModeResult {
  const of = (role: Role): RoundResult[] => rounds.filter((r) => r.mode === mode && r.server === role);
  const b = of('baseline');
  const t = of(sut);
  const baselineReqPerSec = median(b.map((r) => r.reqPerSec));
  const sutReqPerSec = median(t.map((r) => r.reqPerSec));
  const ratio = round(sutReqPerSec / baselineReqPerSec, 3);
  return {
    mode,
    sut,
    baselineReqPerSec: round(baselineReqPerSec, 1),
    sutReqPerSec: round(sutReqPerSec, 1),
    ratio,
    pairRatios: t.map((r, i) => round(r.reqPerSec / (b[i]?.reqPerSec ?? Number.NaN), 3)),
    meetsTarget: ratio >= TARGET_RATIO,
    baselineLatencyMs: { p50: round(median(b.map((r) => r.latencyMs.p50)), 2), p99: round(median(b.map((r) => r.latencyMs.p99)), 2) },
    sutLatencyMs: { p50: round(median(t.map((r) => r.latencyMs.p50)), 2), p99: round(median(t.map((r) => r.latencyMs.p99)), 2) },
    baselineCpuMicrosPerCommand: round(median(b.map((r) => r.serverCpuMicrosPerCommand)), 1),
    sutCpuMicrosPerCommand: round(median(t.map((r) => r.serverCpuMicrosPerCommand)), 1),
  };
}

interface TargetRatio {
  sut: Role;
  name: string;
  app: string;
  baseline: string;
  appReqPerSec: number;
  baselineReqPerSec: number;
  ratio: number;
  target: number;
  met: boolean;
}

/**
 * The three ratios of issue 18 item 2 per SUT. The baseline at FULL already commits and fsyncs each request (its own
 * autocommit transaction; in WAL mode synchronous=FULL syncs the WAL at every commit), so it is the "reference that
 * fsyncs each request". FULL app / NORMAL baseline compares medians of different windows of the same run.
 */
function targetRatios(modes: readonly ModeResult[]): TargetRatio[] {
  const out: TargetRatio[] = [];
  for (const sut of [...new Set(modes.map((m) => m.sut))]) {
    const at = (mode: Sync): ModeResult | undefined => modes.find((m) => m.sut === sut && m.mode === mode);
    const add = (name: string, app: ModeResult | undefined, baseline: ModeResult | undefined, target: number): void => {
      if (!app || !baseline) return;
      const ratio = round(app.sutReqPerSec / baseline.baselineReqPerSec, 3);
      out.push({
        sut, name, app: `${sut} ${app.mode}`, baseline: `baseline ${baseline.mode}`, appReqPerSec: app.sutReqPerSec,
        baselineReqPerSec: baseline.baselineReqPerSec, ratio, target, met: ratio >= target,
      });
    };
    add('NORMAL / NORMAL', at('NORMAL'), at('NORMAL'), TARGET_RATIO);
    add('FULL / FULL (baseline fsyncs each request)', at('FULL'), at('FULL'), TARGET_RATIO);
    add('FULL (default) / baseline NORMAL', at('FULL'), at('NORMAL'), TARGET_FULL_VS_NORMAL);
  }
  return out;
}

interface ReadSideRow {
  mode: Sync;
  sut: Role;
  reqPerSec: number;
  serverCpuMicrosPerCommand: number;
  mainThreadCpuMicrosPerCommand: number | null;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  behindP99Events: number;
  atEndMs: number;
  atEndEvents: number;
  /** null when a round did not catch up within the bound. */
  catchUpMs: number | null;
}

/** Per mode and SUT with projections: medians over the rounds of the command rate, CPU and read-side lag. */
function readSideSummary(rounds: readonly RoundResult[]): ReadSideRow[] {
  const keys = [...new Set(rounds.filter((r) => r.readSide).map((r) => `${r.mode}|${r.server}`))];
  return keys.map((key) => {
    const of = rounds.filter((r) => r.readSide && `${r.mode}|${r.server}` === key);
    const first = of[0]!;
    const m = (pick: (l: ReadSideLag) => number): number => round(median(of.map((r) => pick(r.readSide!))), 1);
    const mains = of.map((r) => r.mainThreadCpuMicrosPerCommand);
    const catchUps = of.map((r) => r.readSide!.catchUpMs);
    return {
      mode: first.mode,
      sut: first.server,
      reqPerSec: round(median(of.map((r) => r.reqPerSec)), 1),
      serverCpuMicrosPerCommand: round(median(of.map((r) => r.serverCpuMicrosPerCommand)), 1),
      mainThreadCpuMicrosPerCommand: mains.every((x): x is number => x !== null) ? round(median(mains), 1) : null,
      lagP50Ms: m((l) => l.lagMs.p50),
      lagP99Ms: m((l) => l.lagMs.p99),
      lagMaxMs: m((l) => l.lagMs.max),
      behindP99Events: m((l) => l.behindEvents.p99),
      atEndMs: m((l) => l.atEnd.lagMs),
      atEndEvents: m((l) => l.atEnd.behindEvents),
      catchUpMs: catchUps.every((x): x is number => x !== null) ? round(median(catchUps), 0) : null,
    };
  });
}

interface StageColumn {
  label: string;
  /** Median over rounds, µs per command, per stage; then main thread, other threads, process. */
  stages: Record<string, number>;
  mainThread: number | null;
  process: number;
}

/**
 * µs per command per stage, median over the rounds: each stage's share of the main thread's samples × the main
 * thread's CPU per command in that window (the process's when /proc is missing). Sampled shares, not wall time: a
 * thread preempted by other processes still gets samples, so shares are the honest part, the scale comes from CPU.
 */
function stageColumns(rounds: readonly RoundResult[]): StageColumn[] {
  const columns: StageColumn[] = [];
  const keys = [...new Set(rounds.filter((r) => r.stages).map((r) => `${r.mode} ${r.server}`))];
  for (const key of keys) {
    const windows = rounds.filter((r) => r.stages && `${r.mode} ${r.server}` === key).map((r) => r.stages!);
    const scale = (w: StageWindow): number => w.mainThreadCpuMicrosPerCommand ?? w.processCpuMicrosPerCommand;
    const stages: Record<string, number> = {};
    for (const stage of STAGES) {
      stages[stage] = round(median(windows.map((w) => ((w.breakdown.stages.find((x) => x.stage === stage)?.pct ?? 0) / 100) * scale(w))), 1);
    }
    const mains = windows.map((w) => w.mainThreadCpuMicrosPerCommand);
    columns.push({
      label: key,
      stages,
      mainThread: mains.every((m): m is number => m !== null) ? round(median(mains), 1) : null,
      process: round(median(windows.map((w) => w.processCpuMicrosPerCommand)), 1),
    });
  }
  return columns;
}

function formatStages(columns: readonly StageColumn[]): string {
  return table(
    ['µs CPU per command (profiled window)', ...columns.map((c) => c.label)],
    [
      ...STAGES.map((stage) => [stage, ...columns.map((c) => c.stages[stage] ?? 0)]),
      ['= main thread', ...columns.map((c) => c.mainThread ?? '?')],
      ['+ other threads (projector thread, WAL checkpointer, fsync, V8)', ...columns.map((c) => (c.mainThread === null ? '?' : round(c.process - c.mainThread, 1)))],
      ['= process', ...columns.map((c) => c.process)],
    ],
  );
}

export const commandPathBench: Bench = {
  name: 'command-path',
  description: 'POST /customers/:id/contacts through the whole app vs a minimal Fastify + better-sqlite3 append (target ≥ 0.6×)',
  async run(): Promise<BenchOutcome> {
    const s = settings();
    const startedAt = new Date();
    const log = (line: string): void => console.log(line);
    // The SUT runs from the sources; its projector thread runs the build, as under `npm start` (a thread loading the
    // sources through ts-node holds a TypeScript compiler and measured 5–10 % slower for app/thread).
    if (s.projectors.includes('thread')) s.projectorThreadEntry = builtProjectorThreadEntry(log);
    const perRound = (1 + s.projectors.length) * (s.warmupSeconds + s.seconds + 0.5) + s.projectors.length * s.stageSeconds + 2 + s.customers / 500;
    log(
      `command-path: modes ${s.modes.join(', ')}; ${s.rounds} rounds of ${s.warmupSeconds} s warm-up + ${s.seconds} s per server; ` +
        `${s.connections} connections; ${s.customers} customers; SUTs: app with PROJECTOR=${s.projectors.join(', ')} (headline ${HEADLINE}); ` +
        `stage windows ${s.stageSeconds} s; ≈ ${Math.round(s.modes.length * s.rounds * perRound)} s`,
    );
    let profileDir: string | undefined;
    if (s.profile.length > 0) {
      profileDir = join(RESULTS_DIR, `profiles-${timestamp(startedAt)}`);
      mkdirSync(profileDir, { recursive: true });
      log(`CPU profiling ${s.profile.join(' + ')} during the measured windows (numbers are lower while profiling) → ${profileDir}`);
    }

    const allRounds: RoundResult[] = [];
    const failures: string[] = [];
    const profiles: Record<ProfileTarget, string[]> = { baseline: [], sut: [] };
    try {
      for (const mode of s.modes) {
        try {
          for (let round = 1; round <= s.rounds; round++) {
            const out = await runRound(mode, round, s, profileDir, log);
            allRounds.push(...out.rounds);
            failures.push(...out.failures);
            profiles.baseline.push(...out.profiles.baseline);
            profiles.sut.push(...out.profiles.sut);
          }
        } catch (error) {
          failures.push(`${mode}: ${error instanceof Error ? error.message : String(error)}`);
          log(`[${mode}] FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        }
      }
    } finally {
      stageDir?.remove();
      stageDir = undefined;
    }

    const sutRoles = s.projectors.map((p): Role => `app/${p}`);
    const modes = s.modes
      .filter((m) => allRounds.some((r) => r.mode === m))
      .flatMap((m) => sutRoles.filter((sut) => allRounds.some((r) => r.mode === m && r.server === sut)).map((sut) => summarize(m, sut, allRounds)));
    const ratios = targetRatios(modes);
    const stages = stageColumns(allRounds);

    log('');
    log(
      table(
        ['mode', 'round', 'server', 'req/s', 'p50 ms', 'p99 ms', 'mean ms', 'srv CPU µs/cmd', 'main thread µs/cmd', 'GC µs/cmd', 'GC pauses/1k', 'alloc KB/cmd', 'srv cores', 'loadgen cores', 'RSS MB', 'ev/stream', 'non-2xx'],
        allRounds.map((r) => [
          `synchronous=${r.mode}`, r.round, r.server, r.reqPerSec, r.latencyMs.p50, r.latencyMs.p99, r.latencyMs.mean,
          r.serverCpuMicrosPerCommand, r.mainThreadCpuMicrosPerCommand ?? '?', r.gc.microsPerCommand, r.gc.pausesPer1kCommands,
          r.stages?.allocatedBytesPerCommand == null ? '-' : round(r.stages.allocatedBytesPerCommand / 1024, 1), r.serverCpuCores, r.loadgenCpuCores, r.serverRssMb,
          `${r.eventsPerStreamAtStart}→${r.eventsPerStreamAtEnd}`, r.non2xx + r.errors + r.timeouts,
        ]),
      ),
    );
    log('');
    log(
      table(
        ['mode', 'SUT', 'baseline req/s', 'SUT req/s', 'SUT/baseline', 'per round', 'baseline p50/p99 ms', 'SUT p50/p99 ms', 'CPU µs/cmd b/SUT'],
        modes.map((m) => [
          `synchronous=${m.mode}`, m.sut, m.baselineReqPerSec, m.sutReqPerSec, `${m.ratio.toFixed(2)}×`, m.pairRatios.map((x) => x.toFixed(2)).join(' '),
          `${m.baselineLatencyMs.p50} / ${m.baselineLatencyMs.p99}`, `${m.sutLatencyMs.p50} / ${m.sutLatencyMs.p99}`,
          `${m.baselineCpuMicrosPerCommand} / ${m.sutCpuMicrosPerCommand}`,
        ]),
      ),
    );
    log('');
    log(`Targets (issue 18 item 2); headline: ${HEADLINE} (the command path alone); app/thread = as \`npm start\` runs it`);
    log(
      table(
        ['SUT', 'ratio', 'app req/s', 'baseline req/s', 'SUT/baseline', 'target'],
        ratios.map((r) => [
          r.sut === HEADLINE ? `${r.sut} (headline)` : r.sut, r.name, `${r.appReqPerSec} (${r.app})`, `${r.baselineReqPerSec} (${r.baseline})`,
          `${r.ratio.toFixed(2)}×`, `≥ ${r.target} ${r.met ? 'met' : 'NOT met'}`,
        ]),
      ),
    );
    const readSide = readSideSummary(allRounds);
    if (readSide.length > 0) {
      log('');
      log(`What the load cost the read side (SUTs with projections; PROJECTOR_THREAD_NICE=${s.projectorThreadNice}; medians of the rounds):`);
      log(
        table(
          ['mode', 'SUT', 'req/s', 'srv CPU µs/cmd', 'main thread µs/cmd', 'lag p50 ms', 'lag p99 ms', 'lag max ms', 'events behind p99', 'at end ms', 'at end events', 'catch-up ms'],
          readSide.map((x) => [
            `synchronous=${x.mode}`, x.sut, x.reqPerSec, x.serverCpuMicrosPerCommand, x.mainThreadCpuMicrosPerCommand ?? '?', x.lagP50Ms, x.lagP99Ms, x.lagMaxMs,
            x.behindP99Events, x.atEndMs, x.atEndEvents, x.catchUpMs ?? 'not within bound',
          ]),
        ),
      );
    }
    if (stages.length > 0) {
      log('');
      log('Where a command\'s CPU goes (bench/lib/command-stages.ts; a separate profiled window per SUT and round, medians):');
      log(formatStages(stages));
    }

    const profileSummaries: Record<string, unknown> = {};
    for (const role of ['baseline', 'sut'] as const) {
      if (profiles[role].length === 0) continue;
      const summary = summarizeProfiles(profiles[role]);
      profileSummaries[role] = summary;
      log('');
      log(formatProfileSummary(`CPU profile of ${role} (${profiles[role].length} measured windows)`, summary));
      const heapFiles = profiles[role].map((f) => f.replace(/\.cpuprofile$/, '.heapprofile')).filter((f) => existsSync(f));
      const commands = allRounds.filter((r) => (role === 'baseline') === (r.server === 'baseline')).reduce((sum, r) => sum + r.ok, 0);
      if (heapFiles.length > 0) {
        const allocations = summarizeAllocations(heapFiles, commands);
        profileSummaries[`${role}Allocations`] = allocations;
        log('');
        log(formatAllocationSummary(`Allocations of ${role} (${heapFiles.length} measured windows)`, allocations));
      }
    }

    const ok = failures.length === 0;
    const file = writeResultFile('command-path', startedAt, {
      bench: 'command-path',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      ok,
      failures,
      targetRatio: TARGET_RATIO,
      targetFullVsNormal: TARGET_FULL_VS_NORMAL,
      headline: HEADLINE,
      settings: s,
      machine: machineInfo(),
      modes,
      targets: ratios,
      readSide,
      stages,
      rounds: allRounds,
      profiling: s.profile.length > 0 ? { dir: profileDir, summaries: profileSummaries } : undefined,
    });
    logOutcome(log, file, failures);
    return {
      ok,
      summary: {
        bench: 'command-path',
        ok,
        targetRatio: TARGET_RATIO,
        headline: HEADLINE,
        profiled: s.profile.length > 0,
        seconds: s.seconds,
        connections: s.connections,
        projectors: s.projectors,
        projectorThreadNice: s.projectorThreadNice,
        targets: ratios.map((r) => ({ sut: r.sut, ratio: r.name, value: r.ratio, target: r.target, met: r.met })),
        readSide,
        modes: modes.map((m) => ({
          mode: m.mode, sut: m.sut, baselineReqPerSec: m.baselineReqPerSec, sutReqPerSec: m.sutReqPerSec, ratio: m.ratio, meetsTarget: m.meetsTarget,
          baselineP50Ms: m.baselineLatencyMs.p50, baselineP99Ms: m.baselineLatencyMs.p99, sutP50Ms: m.sutLatencyMs.p50, sutP99Ms: m.sutLatencyMs.p99,
        })),
        failures: failures.length,
        file,
      },
    };
  },
};

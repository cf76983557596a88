/**
 * Command path: commands/s for POST /customers/:id/contacts through the whole app (HTTP → auth → validation →
 * CQRS bus → read stream → fold → decide → group-committed append → 201) against a minimal Fastify +
 * better-sqlite3 handler that appends one row, in the same run on the same machine. DESIGN §8 target: ≥ 0.6×.
 *
 * Each server runs in its own child process; the load generator (autocannon) runs here. Per synchronous mode the
 * two servers are measured alternately, baseline then SUT, BENCH_ROUNDS times (ABAB), so drift on a noisy machine
 * hits both; every round starts both servers fresh on new temp dirs with the same N seeded streams. Env: BENCH_SYNC=NORMAL|FULL|both, BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_CONNECTIONS,
 * BENCH_CUSTOMERS, BENCH_ROUNDS, BENCH_CPU_PROF=sut|baseline|both, BENCH_PROJECTOR=off|embedded|thread (default off: the
 * command path alone, as with a separate projector process; embedded adds the projections to the SUT's event loop, thread to a worker thread of the SUT as `npm start` does).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { envNumber, logOutcome, machineInfo, RESULTS_DIR, sleep, timestamp, writeResultFile, type Bench, type BenchOutcome } from './lib/bench';
import { productionNodeFlags } from './lib/node-flags';
import { startServer, type RunningServer, type ServerStats } from './lib/child-server';
import { makeTempDir } from './lib/cleanup';
import { formatProfileSummary, summarizeProfiles } from './lib/cpu-profile';
import { runLoad, type LoadResult } from './lib/load';
import { median, round, table } from './lib/stats';

type Sync = 'NORMAL' | 'FULL';
type Role = 'baseline' | 'sut';

const TARGET_RATIO = 0.6;
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
  profile: Role[];
  projector: 'off' | 'embedded' | 'thread';
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
}

interface ModeResult {
  mode: Sync;
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
  const projector = (process.env.BENCH_PROJECTOR ?? 'off').toLowerCase();
  if (projector !== 'off' && projector !== 'embedded' && projector !== 'thread') throw new Error('BENCH_PROJECTOR must be off, embedded or thread');
  return {
    modes: sync === 'BOTH' ? ['NORMAL', 'FULL'] : [sync as Sync],
    seconds: envNumber('BENCH_SECONDS', 10, 1),
    warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 2, 0),
    connections: Math.round(envNumber('BENCH_CONNECTIONS', 32, 1)),
    customers: Math.round(envNumber('BENCH_CUSTOMERS', 1000, 1)),
    rounds: Math.round(envNumber('BENCH_ROUNDS', 2, 1)),
    profile: prof === '' ? [] : prof === 'both' ? ['baseline', 'sut'] : [prof as Role],
    projector: projector as Settings['projector'],
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
}): Promise<RoundResult> {
  const { server, s, customerIds, cursor } = args;
  const load = (seconds: number): Promise<LoadResult> =>
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

  const rowsBefore = countRows(args.dbFile);
  const warm = s.warmupSeconds > 0 ? await load(s.warmupSeconds) : undefined;
  await sleep(100);
  const before = await server.stats();
  if (args.profileFile) await server.profileStart();
  const started = process.hrtime.bigint();
  const loadgenBefore = process.cpuUsage();
  const measured = await load(s.seconds);
  const loadgen = process.cpuUsage(loadgenBefore);
  const wallMicros = Number(process.hrtime.bigint() - started) / 1000;
  const after = await server.stats();
  if (args.profileFile) await server.profileStop(args.profileFile);
  await sleep(100);
  const rowsAfter = countRows(args.dbFile);
  const cpu = cpuMicros(after) - cpuMicros(before);
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
    serverCpuCores: round(cpu / wallMicros, 2),
    serverRssMb: round(after.rssBytes / 2 ** 20, 1),
    eventsPerStreamAtStart: round(rowsBefore / customerIds.length, 1),
    eventsPerStreamAtEnd: round(rowsAfter / customerIds.length, 1),
    loadgenCpuCores: round((loadgen.user + loadgen.system) / wallMicros, 2),
    appendedRows: rowsAfter - rowsBefore,
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
 * One round: both servers fresh (own temp dirs, same N streams seeded), baseline measured, then the SUT, both
 * stopped and their files deleted. Fresh per round, so round 2 measures the same state as round 1 (the SUT reads
 * the whole stream per command: with carried-over data its second round would run on streams 2× as long).
 */
async function runRound(mode: Sync, round: number, s: Settings, profileDir: string | undefined, log: (line: string) => void): Promise<{ rounds: RoundResult[]; failures: string[]; profiles: Record<Role, string[]> }> {
  const baselineTmp = makeTempDir('crm-bench-baseline-');
  const sutTmp = makeTempDir('crm-bench-sut-');
  const baselineDb = join(baselineTmp.dir, 'events.db');
  const sutDataDir = join(sutTmp.dir, 'data');
  const sutDb = join(sutDataDir, 'events.db');
  const servers: RunningServer[] = [];
  const rounds: RoundResult[] = [];
  const failures: string[] = [];
  const profiles: Record<Role, string[]> = { baseline: [], sut: [] };
  try {
    const bootStart = Date.now();
    const [baseline, sut] = await Promise.all([
      startServer({
        name: `baseline-${mode}`,
        script: join(__dirname, 'servers', 'baseline-server.ts'),
        env: { BENCH_DB_FILE: baselineDb, BENCH_SYNC: mode, BENCH_OWNED_DIR: baselineTmp.dir },
        nodeFlags: productionNodeFlags('api'), // the same heap bound as the app: like for like
      }),
      startServer({
        name: `sut-${mode}`,
        script: join(__dirname, 'servers', 'sut-server.ts'),
        env: { BENCH_DATA_DIR: sutDataDir, BENCH_SYNC: mode, BENCH_TOKENS: JSON.stringify(TOKENS), BENCH_PROJECTOR: s.projector, BENCH_OWNED_DIR: sutTmp.dir },
        nodeFlags: productionNodeFlags('api'),
      }),
    ]);
    servers.push(baseline, sut);
    const booted = Date.now() - bootStart;

    const seedStart = Date.now();
    const customerIds = Array.from({ length: s.customers }, uuidv7);
    // The baseline gets one row per stream too, so both stores start with the same number of streams and rows.
    await Promise.all([registerCustomers(sut, customerIds), pool(customerIds, 16, (id) => probe(baseline, id))]);
    await probe(sut, customerIds[0]!);
    log(`[${mode}] round ${round}: servers up in ${booted} ms (baseline pid ${baseline.pid}, SUT pid ${sut.pid}); ${s.customers} customers registered (SUT) and seeded (baseline) in ${Date.now() - seedStart} ms`);

    const targets: Array<{ role: Role; server: RunningServer; dbFile: string }> = [
      { role: 'baseline', server: baseline, dbFile: baselineDb },
      { role: 'sut', server: sut, dbFile: sutDb },
    ];
    for (const t of targets) {
      const profileFile =
        profileDir && s.profile.includes(t.role) ? join(profileDir, `${t.role}-${mode}-round${round}.cpuprofile`) : undefined;
      const r = await measureRound({ mode, round, role: t.role, server: t.server, dbFile: t.dbFile, customerIds, cursor: { i: 0 }, s, profileFile });
      rounds.push(r);
      if (profileFile) profiles[t.role].push(profileFile);
      failures.push(...failuresOf(r, s));
      log(
        `[${mode}] round ${round} ${t.role.padEnd(8)} ${String(r.reqPerSec).padStart(8)} req/s  p50 ${r.latencyMs.p50} ms  p99 ${r.latencyMs.p99} ms` +
          `  server ${r.serverCpuMicrosPerCommand} µs CPU/cmd  load generator ${r.loadgenCpuCores} cores  non-2xx ${r.non2xx}`,
      );
    }
  } finally {
    await Promise.allSettled(servers.map((x) => x.stop()));
    baselineTmp.remove();
    sutTmp.remove();
  }
  return { rounds, failures, profiles };
}

function summarize(mode: Sync, rounds: RoundResult[]): ModeResult {
  const of = (role: Role): RoundResult[] => rounds.filter((r) => r.mode === mode && r.server === role);
  const b = of('baseline');
  const t = of('sut');
  const baselineReqPerSec = median(b.map((r) => r.reqPerSec));
  const sutReqPerSec = median(t.map((r) => r.reqPerSec));
  const ratio = round(sutReqPerSec / baselineReqPerSec, 3);
  return {
    mode,
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

export const commandPathBench: Bench = {
  name: 'command-path',
  description: 'POST /customers/:id/contacts through the whole app vs a minimal Fastify + better-sqlite3 append (target ≥ 0.6×)',
  async run(): Promise<BenchOutcome> {
    const s = settings();
    const startedAt = new Date();
    const log = (line: string): void => console.log(line);
    const perRound = 2 * (s.warmupSeconds + s.seconds + 0.5) + 2 + s.customers / 500;
    log(
      `command-path: modes ${s.modes.join(', ')}; ${s.rounds} rounds ABAB of ${s.warmupSeconds} s warm-up + ${s.seconds} s; ` +
        `${s.connections} connections; ${s.customers} customers; SUT projector ${s.projector}; ≈ ${Math.round(s.modes.length * s.rounds * perRound)} s`,
    );
    let profileDir: string | undefined;
    if (s.profile.length > 0) {
      profileDir = join(RESULTS_DIR, `profiles-${timestamp(startedAt)}`);
      mkdirSync(profileDir, { recursive: true });
      log(`CPU profiling ${s.profile.join(' + ')} during the measured windows (numbers are lower while profiling) → ${profileDir}`);
    }

    const allRounds: RoundResult[] = [];
    const failures: string[] = [];
    const profiles: Record<Role, string[]> = { baseline: [], sut: [] };
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

    const modes = s.modes.filter((m) => allRounds.some((r) => r.mode === m)).map((m) => summarize(m, allRounds));

    log('');
    log(
      table(
        ['mode', 'round', 'server', 'req/s', 'p50 ms', 'p99 ms', 'mean ms', 'srv CPU µs/cmd', 'srv cores', 'loadgen cores', 'RSS MB', 'ev/stream', 'non-2xx'],
        allRounds.map((r) => [
          `synchronous=${r.mode}`, r.round, r.server, r.reqPerSec, r.latencyMs.p50, r.latencyMs.p99, r.latencyMs.mean,
          r.serverCpuMicrosPerCommand, r.serverCpuCores, r.loadgenCpuCores, r.serverRssMb, `${r.eventsPerStreamAtStart}→${r.eventsPerStreamAtEnd}`,
          r.non2xx + r.errors + r.timeouts,
        ]),
      ),
    );
    log('');
    log(
      table(
        ['mode', 'baseline req/s', 'SUT req/s', 'SUT/baseline', 'per round', 'target', 'baseline p50/p99 ms', 'SUT p50/p99 ms', 'CPU µs/cmd b/SUT'],
        modes.map((m) => [
          `synchronous=${m.mode}`, m.baselineReqPerSec, m.sutReqPerSec, `${m.ratio.toFixed(2)}×`, m.pairRatios.map((x) => x.toFixed(2)).join(' '),
          `≥ ${TARGET_RATIO} ${m.meetsTarget ? 'met' : 'NOT met'}`,
          `${m.baselineLatencyMs.p50} / ${m.baselineLatencyMs.p99}`, `${m.sutLatencyMs.p50} / ${m.sutLatencyMs.p99}`,
          `${m.baselineCpuMicrosPerCommand} / ${m.sutCpuMicrosPerCommand}`,
        ]),
      ),
    );

    const profileSummaries: Record<string, unknown> = {};
    for (const role of ['baseline', 'sut'] as const) {
      if (profiles[role].length === 0) continue;
      const summary = summarizeProfiles(profiles[role]);
      profileSummaries[role] = summary;
      log('');
      log(formatProfileSummary(`CPU profile of ${role} (${profiles[role].length} measured windows)`, summary));
    }

    const ok = failures.length === 0;
    const file = writeResultFile('command-path', startedAt, {
      bench: 'command-path',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      ok,
      failures,
      targetRatio: TARGET_RATIO,
      settings: s,
      machine: machineInfo(),
      modes,
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
        profiled: s.profile.length > 0,
        seconds: s.seconds,
        connections: s.connections,
        projector: s.projector,
        modes: Object.fromEntries(
          modes.map((m) => [m.mode, {
            baselineReqPerSec: m.baselineReqPerSec, sutReqPerSec: m.sutReqPerSec, ratio: m.ratio, meetsTarget: m.meetsTarget,
            baselineP50Ms: m.baselineLatencyMs.p50, baselineP99Ms: m.baselineLatencyMs.p99, sutP50Ms: m.sutLatencyMs.p50, sutP99Ms: m.sutLatencyMs.p99,
          }]),
        ),
        failures: failures.length,
        file,
      },
    };
  },
};

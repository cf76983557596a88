import type { Agent } from 'node:http';
import { exchange, keepAliveAgent, openLoop } from './open-loop';
import { percentileSorted, round } from './stats';

/**
 * The projection-lag bench's open-loop load, run by its own process (bench/workers/lag-load.child.ts) so that the
 * load generator's CPU is its own, pinned to a core with `taskset` when it exists, and reported beside the app's.
 */
export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    count: values.length,
    p50: round(percentileSorted(sorted, 50), 2),
    p90: round(percentileSorted(sorted, 90), 2),
    p99: round(percentileSorted(sorted, 99), 2),
    max: round(sorted[sorted.length - 1] ?? Number.NaN, 2),
    mean: round(sum / Math.max(1, values.length), 2),
  };
}

export interface LoadPhase {
  url: string;
  agentToken: string;
  contactBody: string;
  rates: { commands: number; timeline: number };
  seconds: number;
  /** Share of the commands whose lag is measured (each costs one more GET). */
  lagSample: number;
  customers: readonly string[];
  busiest: readonly string[];
}

export interface LoadResult {
  /** Seconds over which requests were fired, and from the first firing until the last answer. */
  seconds: number;
  wallSeconds: number;
  commandsFired: number;
  commandsOk: number;
  achievedCommandsPerSec: number;
  /** From the scheduled send time to the 201 (open loop: includes any queueing in the client or server). */
  commandLatencyMs: Distribution;
  lagMs: Distribution;
  /** Lag queries answered 503: the read model had not applied the position within the app's READ_WAIT_MS. */
  lagTimeouts: number;
  timelineFired: number;
  timelineOk: number;
  timelineLatencyMs: Distribution;
  /** The app's own time per request (Server-Timing), per kind: from its onRequest hook to handing over the response. */
  appMs: { command: Distribution; lag: Distribution; timeline: Distribution };
  errors: number;
  errorSamples: string[];
  statusCodes: Record<string, number>;
  loadgenSlipMs: { commandsMax: number; commandsP99: number; timelineMax: number };
  /** CPU of the load generator's process over wallSeconds (user + system). */
  loadgenCpuSeconds: number;
  /** Per second of the window: the slowest command, lag and timeline query, to see stalls in time. */
  perSecond: Array<{ second: number; commands: number; commandMaxMs: number; lagMaxMs: number; timelineMaxMs: number }>;
}

interface Agents {
  readonly url: string;
  readonly commandAgent: Agent;
  readonly lagAgent: Agent;
  readonly timelineAgent: Agent;
}

let agents: Agents | undefined;

/**
 * The keep-alive agents of one server, kept from phase to phase as clients keep their connections: the warm-up opens
 * the connections the load needs and the measured window reuses them. With new agents per phase every phase began
 * with a burst of new connections (160–360 connects in its first second, `nstat` TcpActiveOpens), which the API
 * accepts one per event-loop turn (libuv 1.46): under load its listen queue filled, and a dropped SYN is retried only
 * after 1, 3, 7 s, so the window's first second measured the harness's reconnects (bench/README.md, projection-lag).
 * Opening them during the warm-up was not enough either: the warm-up's first requests are slow (cold JIT), the pools
 * grew to their caps at once, and a loaded event loop accepted ~50–100 connections a second: every run's warm-up
 * stalled 3.5–4.5 s and one full run carried that queue into its measured window. So the pools are filled before the
 * warm-up, while the app is idle, as a proxy in front of an API keeps its upstream connections open.
 */
async function agentsFor(url: string): Promise<Agents> {
  if (agents?.url === url) return agents;
  closeAgents();
  const opened = { url, commandAgent: keepAliveAgent(256), lagAgent: keepAliveAgent(256), timelineAgent: keepAliveAgent(64) };
  const base = new URL(url);
  await Promise.all([opened.commandAgent, opened.lagAgent, opened.timelineAgent].map((agent) => fillPool(agent, base)));
  agents = opened;
  return agents;
}

/** As many concurrent requests to the liveness probe as the agent may hold sockets: each opens one, and keeps it. */
async function fillPool(agent: Agent, base: URL): Promise<void> {
  const sockets = agent.maxSockets;
  await Promise.all(Array.from({ length: sockets }, async () => {
    const res = await exchange(agent, base, 'GET', '/health/live', {});
    if (res.status !== 200) throw new Error(`GET /health/live → ${res.status} while opening the load generator's connections`);
  }));
}

export function closeAgents(): void {
  if (!agents) return;
  for (const a of [agents.commandAgent, agents.lagAgent, agents.timelineAgent]) a.destroy();
  agents = undefined;
}

export async function generateLoad(phase: LoadPhase): Promise<LoadResult> {
  const { rates, seconds, customers, busiest } = phase;
  const auth = { authorization: `Bearer ${phase.agentToken}` };
  const postHeaders = { ...auth, 'content-type': 'application/json' };
  const base = new URL(phase.url);
  const { commandAgent, lagAgent, timelineAgent } = await agentsFor(phase.url);
  const inflight = new Set<Promise<void>>();
  const track = (p: Promise<void>): void => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const commandLatencies: number[] = [];
  const lags: number[] = [];
  const timelineLatencies: number[] = [];
  // What the app itself reported (Server-Timing): the rest of a latency is queueing before the app read the request,
  // the loopback, and this load generator.
  const appMs = { command: [] as number[], lag: [] as number[], timeline: [] as number[] };
  const statusCodes: Record<string, number> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let commandsOk = 0;
  let lagTimeouts = 0;
  let timelineOk = 0;
  let lagCounter = 0;
  const fail = (what: string): void => {
    errors += 1;
    if (errorSamples.length < 10) errorSamples.push(what);
  };
  const count = (kind: string, status: number): void => {
    const key = `${kind} ${status}`;
    statusCodes[key] = (statusCodes[key] ?? 0) + 1;
  };
  const pickCustomer = (list: readonly string[]): string => list[Math.floor(Math.random() * list.length)]!;
  const perSecond: LoadResult['perSecond'] = [];
  let t0 = performance.now();
  const bucket = (at: number): LoadResult['perSecond'][number] => {
    const second = Math.max(0, Math.floor((at - t0) / 1000));
    while (perSecond.length <= second) perSecond.push({ second: perSecond.length, commands: 0, commandMaxMs: 0, lagMaxMs: 0, timelineMaxMs: 0 });
    return perSecond[second]!;
  };

  const command = async (scheduledAt: number): Promise<void> => {
    const id = pickCustomer(customers);
    const res = await exchange(commandAgent, base, 'POST', `/customers/${id}/contacts`, postHeaders, phase.contactBody);
    count('POST contacts', res.status);
    if (res.status !== 201) return fail(`POST /customers/${id}/contacts → ${res.status} ${res.body.slice(0, 200)}`);
    commandsOk += 1;
    commandLatencies.push(res.doneAt - scheduledAt);
    if (res.appMs !== undefined) appMs.command.push(res.appMs);
    const b = bucket(scheduledAt);
    b.commands += 1;
    b.commandMaxMs = Math.max(b.commandMaxMs, round(res.doneAt - scheduledAt, 1));
    const position = (JSON.parse(res.body) as { position: number }).position;
    lagCounter += phase.lagSample;
    if (lagCounter < 1) return;
    lagCounter -= 1;
    const read = await exchange(lagAgent, base, 'GET', `/customers/${id}/timeline?limit=1&minPosition=${position}`, auth);
    count('GET timeline?minPosition', read.status);
    if (read.status === 503) {
      lagTimeouts += 1;
      return;
    }
    if (read.status !== 200) return fail(`GET timeline minPosition=${position} → ${read.status} ${read.body.slice(0, 200)}`);
    const body = JSON.parse(read.body) as { asOfPosition: number; items: Array<{ position: number }> };
    if (!(body.asOfPosition >= position) || !((body.items[0]?.position ?? 0) >= position)) {
      return fail(`timeline of ${id} at ${body.asOfPosition} does not show position ${position} (newest ${body.items[0]?.position})`);
    }
    lags.push(read.doneAt - res.doneAt);
    if (read.appMs !== undefined) appMs.lag.push(read.appMs);
    const lb = bucket(res.doneAt);
    lb.lagMaxMs = Math.max(lb.lagMaxMs, round(read.doneAt - res.doneAt, 1));
  };

  const timeline = async (): Promise<void> => {
    const id = pickCustomer(busiest);
    const sentAt = performance.now();
    const res = await exchange(timelineAgent, base, 'GET', `/customers/${id}/timeline?limit=50`, auth);
    count('GET timeline', res.status);
    if (res.status !== 200) return fail(`GET /customers/${id}/timeline → ${res.status} ${res.body.slice(0, 200)}`);
    const items = (JSON.parse(res.body) as { items: unknown[] }).items;
    if (items.length === 0) return fail(`GET /customers/${id}/timeline → no items`);
    // The history's personal fields are sealed per customer (as the app seals them): the read models show them open.
    if (res.body.includes('"enc:v1:')) return fail(`GET /customers/${id}/timeline shows sealed personal data`);
    timelineOk += 1;
    timelineLatencies.push(res.ms);
    if (res.appMs !== undefined) appMs.timeline.push(res.appMs);
    const tb = bucket(sentAt);
    tb.timelineMaxMs = Math.max(tb.timelineMaxMs, round(res.ms, 1));
  };

  const idleLoop = Promise.resolve({ fired: 0, maxSlipMs: 0, p99SlipMs: 0 });
  const guard = (p: Promise<void>, what: string): Promise<void> => p.catch((error: unknown) => fail(`${what}: ${error instanceof Error ? error.message : String(error)}`));

  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  const [commandsLoop, timelineLoop] = await Promise.all([
    rates.commands > 0 ? openLoop(rates.commands, seconds, (_i, scheduledAt) => track(guard(command(scheduledAt), 'command'))) : idleLoop,
    rates.timeline > 0 ? openLoop(rates.timeline, seconds, () => track(guard(timeline(), 'timeline'))) : idleLoop,
  ]);
  const fireSeconds = (performance.now() - t0) / 1000;
  const drainDeadline = Date.now() + 15_000;
  while (inflight.size > 0 && Date.now() < drainDeadline) await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 1000))]);
  if (inflight.size > 0) fail(`${inflight.size} requests still unanswered 15 s after the load stopped`);
  const wall = (performance.now() - t0) / 1000;
  const loadgen = process.cpuUsage(cpu0);
  return {
    seconds: round(fireSeconds, 2),
    wallSeconds: round(wall, 3),
    commandsFired: commandsLoop.fired,
    commandsOk,
    achievedCommandsPerSec: round(commandsOk / Math.max(fireSeconds, 1e-9), 1),
    commandLatencyMs: distribution(commandLatencies),
    lagMs: distribution(lags),
    lagTimeouts,
    timelineFired: timelineLoop.fired,
    timelineOk,
    timelineLatencyMs: distribution(timelineLatencies),
    appMs: { command: distribution(appMs.command), lag: distribution(appMs.lag), timeline: distribution(appMs.timeline) },
    errors,
    errorSamples,
    statusCodes,
    loadgenSlipMs: { commandsMax: round(commandsLoop.maxSlipMs, 1), commandsP99: round(commandsLoop.p99SlipMs, 1), timelineMax: round(timelineLoop.maxSlipMs, 1) },
    loadgenCpuSeconds: (loadgen.user + loadgen.system) / 1e6,
    perSecond,
  };
}

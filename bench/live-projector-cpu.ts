/**
 * CPU of the projector thread per live event (issue 18, items 2 and 3): the app as `npm start` runs it
 * (PROJECTOR=thread, one thread, SQLITE_SYNCHRONOUS=FULL) in this process, commands over HTTP at a fixed rate,
 * and each thread's CPU from /proc/self/task/<tid>/stat before and after the measured window. The projector's
 * JavaScript thread is the busiest thread other than the main one (Node 20 names no thread); its CPU divided by
 * the events appended meanwhile is the figure. Lag: a sample of commands asks the timeline with minPosition.
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/live-projector-cpu.ts
 *   LIVE_RATE=500 LIVE_SECONDS=10 LIVE_WARMUP_SECONDS=3 LIVE_CUSTOMERS=500
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@crm/runtime';
import { createApp } from '../apps/api/src/app.factory';
import { listenOptions } from '../apps/api/src/http/http-edge';
import { makeTempDir } from '../test/support/temp-dir';
import { exchange, keepAliveAgent, openLoop } from './lib/open-loop';
import { threadCpuSeconds } from './lib/thread-cpu';

const TOKEN = 'live-cpu-agent-token-0123456789';
/** CPU seconds of each thread of this process (a thread that ended meanwhile is left out). */
function threadSeconds(): Map<string, number> {
  const seconds = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const s = threadCpuSeconds(tid);
    if (s !== undefined) seconds.set(tid, s);
  }
  return seconds;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const rate = Number(process.env.LIVE_RATE ?? 500);
  const seconds = Number(process.env.LIVE_SECONDS ?? 10);
  const warmup = Number(process.env.LIVE_WARMUP_SECONDS ?? 3);
  const customerCount = Number(process.env.LIVE_CUSTOMERS ?? 500);
  const tmp = makeTempDir('live-cpu-');
  const tokensFile = join(tmp.dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify([{ token: TOKEN, id: 'bench-agent', role: 'agent' }]));
  const config = loadConfig({
    DATA_DIR: join(tmp.dir, 'data'), AUTH_TOKENS_FILE: tokensFile, LOG_LEVEL: 'silent', PROJECTOR: 'thread', PROJECTOR_THREADS: '1',
    SQLITE_SYNCHRONOUS: process.env.SQLITE_SYNCHRONOUS ?? 'FULL',
    ...(process.env.PROJECTION_COALESCE_MS ? { PROJECTION_COALESCE_MS: process.env.PROJECTION_COALESCE_MS } : {}),
  });
  const { app, thread } = await createApp({ config });
  await app.listen(listenOptions(config, { port: 0, host: '127.0.0.1' }));
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const base = new URL(`http://127.0.0.1:${address.port}`);
  const agent = keepAliveAgent(64);
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const ids: string[] = [];
  for (let i = 0; i < customerCount; i++) {
    const r = await exchange(agent, base, 'POST', '/customers', headers, JSON.stringify({ name: `Live Customer ${i}`, email: `live${i}@example.com`, kind: 'customer' }));
    if (r.status !== 201) throw new Error(`register ${r.status} ${r.body}`);
    ids.push((JSON.parse(r.body) as { id: string }).id);
  }
  const body = JSON.stringify({
    channel: 'phone', direction: 'inbound', purpose: 'support',
    summary: 'Customer called about the delivery date of order 4711 and asked for a call back next week.',
    outcome: 'Explained the delivery schedule; customer satisfied.',
  });
  const lags: number[] = [];
  let errors = 0;
  let lastPosition = 0;
  const fire = (measure: boolean) => (i: number): void => {
    const id = ids[i % ids.length]!;
    void exchange(agent, base, 'POST', `/customers/${id}/contacts`, headers, body).then(async (r) => {
      if (r.status !== 201) return void (errors += 1);
      const position = (JSON.parse(r.body) as { position: number }).position;
      lastPosition = Math.max(lastPosition, position);
      if (!measure || i % 5 !== 0) return;
      const started = performance.now();
      const q = await exchange(agent, base, 'GET', `/customers/${id}/timeline?limit=1&minPosition=${position}`, headers);
      if (q.status !== 200) errors += 1;
      else lags.push(performance.now() - started);
    }, () => void (errors += 1));
  };
  await openLoop(rate, warmup, fire(false));
  const settle = async (): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (thread?.checkpointOf('customer_timelines') ?? 0) < lastPosition) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
  };
  await settle();
  const eventsBefore = lastPosition;
  const before = threadSeconds();
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  await openLoop(rate, seconds, fire(true));
  await settle();
  const wallS = (performance.now() - t0) / 1000;
  const after = threadSeconds();
  const cpu = process.cpuUsage(cpuBefore);
  const events = lastPosition - eventsBefore;
  const deltas = [...after].map(([tid, t]) => ({ tid, ms: (t - (before.get(tid) ?? 0)) * 1000 }))
    .sort((a, b) => b.ms - a.ms);
  const main = deltas.find((d) => d.tid === String(process.pid));
  const projector = deltas.find((d) => d.tid !== String(process.pid));
  lags.sort((a, b) => a - b);
  const result = {
    rate, seconds, events, wallS: Math.round(wallS * 10) / 10, errors,
    projectorThreadCpuMs: projector?.ms, projectorUsPerEvent: projector ? Math.round((projector.ms * 1000) / events) : undefined,
    mainThreadCpuMs: main?.ms, mainUsPerEvent: main ? Math.round((main.ms * 1000) / events) : undefined,
    processCpuMs: Math.round((cpu.user + cpu.system) / 1000), processUsPerEvent: Math.round((cpu.user + cpu.system) / events),
    otherThreadsMs: deltas.filter((d) => d !== main && d !== projector && d.ms > 0).map((d) => d.ms),
    lagMs: { n: lags.length, p50: Math.round(percentile(lags, 50) * 10) / 10, p99: Math.round(percentile(lags, 99) * 10) / 10, max: Math.round((lags.at(-1) ?? NaN) * 10) / 10 },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  agent.destroy();
  await app.close();
  tmp.remove();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

/**
 * `npm run bench [-- name ...]`: runs the named benches (default: all) one after another, prints each one's table
 * and, at the end, one `BENCH_RESULT {...}` JSON line per bench. Exits 1 when a bench saw a failure, 2 on usage.
 */
import type { Bench } from './lib/bench';
import { cleanupNow } from './lib/cleanup';

/** Benches by name; loaded lazily so one bench's imports never slow another. Add new benches here. */
const BENCHES: Record<string, () => Bench> = {
  'command-path': () => (require('./command-path.bench') as typeof import('./command-path.bench')).commandPathBench,
  import: () => (require('./import.bench') as typeof import('./import.bench')).importBench,
  // projection-rebuild hands its 1M-event dataset (read models built) to projection-lag: keep this order.
  'projection-rebuild': () => (require('./projection-rebuild.bench') as typeof import('./projection-rebuild.bench')).projectionRebuildBench,
  // cold-start starts the app on that dataset too (and leaves it for projection-lag).
  'cold-start': () => (require('./cold-start.bench') as typeof import('./cold-start.bench')).coldStartBench,
  'projection-lag': () => (require('./projection-lag.bench') as typeof import('./projection-lag.bench')).projectionLagBench,
};

function usage(): string {
  return [
    'usage: npm run bench [-- <name> ...]   (default: all)',
    '       npm run bench -- --list',
    '',
    'benches:',
    ...Object.entries(BENCHES).map(([name, load]) => `  ${name.padEnd(16)} ${load().description}`),
    '',
    'env (command-path): BENCH_SYNC=NORMAL|FULL|both  BENCH_SECONDS=10  BENCH_WARMUP_SECONDS=2  BENCH_ROUNDS=2',
    '                    BENCH_CONNECTIONS=32  BENCH_CUSTOMERS=1000  BENCH_CPU_PROF=sut|baseline|both',
    '                    BENCH_PROJECTOR=off,thread (comma list of off|embedded|thread: one SUT each)  BENCH_STAGE_SECONDS=5',
    'env (projection-rebuild): BENCH_EVENTS=1000000  BENCH_HISTORY_CUSTOMERS=events/20 (≤ 50000)',
    '                    BENCH_PROJECTION_BATCH_SIZE=<production default>  BENCH_REBUILD_PROF=1  BENCH_REBUILD_TIMEOUT_SECONDS=900  BENCH_REBUILD_ALONE=all|none|name,name',
    'env (cold-start): BENCH_COLD_EVENTS=<rebuild\'s dataset, else 200000>  BENCH_COLD_RUNS=3  BENCH_COLD_DATA_DIR=<dir>  BENCH_COLD_AB_ROOT=<checkout>',
    '                    BENCH_COLD_IMPORT=1|0  BENCH_COLD_CATCHUP_RUNS=1  BENCH_COLD_TIMEOUT_SECONDS=300  BENCH_COLD_POLL_MS=10',
    'env (projection-lag): BENCH_LAG_EVENTS=<rebuild\'s dataset, else 200000>  BENCH_LAG_RATE=500  BENCH_LAG_SECONDS=20',
    '                    BENCH_LAG_WARMUP_SECONDS=3  BENCH_TIMELINE_RATE=50  BENCH_TIMELINE_CUSTOMERS=1000  BENCH_LAG_SAMPLE=1',
    '                    BENCH_TIMELINE_ALONE_SECONDS=3  BENCH_LAG_SYNC=FULL|NORMAL  BENCH_LAG_PROF=1  BENCH_LAG_DATA_DIR=<dir>',
    '                    BENCH_LAG_PROJECTOR=thread|embedded|process  BENCH_LAG_REBUILD=<projection>',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv.includes('--list')) {
    console.log(usage());
    return 0;
  }
  const unknown = argv.filter((a) => !(a in BENCHES));
  if (unknown.length > 0) {
    console.error(`unknown bench(es): ${unknown.join(', ')}\n\n${usage()}`);
    return 2;
  }
  const names = argv.length > 0 ? argv : Object.keys(BENCHES);
  const started = Date.now();
  const lines: string[] = [];
  let ok = true;
  for (const name of names) {
    const bench = BENCHES[name]!();
    console.log(`\n=== ${bench.name}: ${bench.description}\n`);
    try {
      const outcome = await bench.run();
      ok &&= outcome.ok;
      lines.push(`BENCH_RESULT ${JSON.stringify(outcome.summary)}`);
    } catch (error) {
      ok = false;
      console.error(`${name} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      lines.push(`BENCH_RESULT ${JSON.stringify({ bench: name, ok: false, error: error instanceof Error ? error.message : String(error) })}`);
    }
  }
  console.log(`\nbench finished in ${Math.round((Date.now() - started) / 1000)} s${ok ? '' : ' — FAILED'}`);
  for (const line of lines) console.log(line);
  return ok ? 0 : 1;
}

main(process.argv.slice(2))
  .then((code) => {
    cleanupNow();
    process.exit(code);
  })
  .catch((error: unknown) => {
    console.error(error);
    cleanupNow();
    process.exit(1);
  });

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ALL_PROJECTIONS } from '@crm/read-models';
import { loadConfig, openEventStoreWithKeys, replayProjections, systemClock } from '@crm/runtime';

const USAGE = 'usage: npm run replay -- --projection <name|all> --until <position|ISO time> --out <file.db>\n' +
  `projections: ${ALL_PROJECTIONS.map((p) => p.name).join(', ')}\n`;

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Builds a read model as of a past point into a separate SQLite file; the live read models are not touched. */
async function main(argv: string[]): Promise<number> {
  const name = arg(argv, 'projection');
  const untilRaw = arg(argv, 'until');
  const outRaw = arg(argv, 'out');
  if (!name || !untilRaw || !outRaw) {
    process.stderr.write(USAGE);
    return 2;
  }
  const projections = name === 'all' ? ALL_PROJECTIONS : ALL_PROJECTIONS.filter((p) => p.name === name);
  if (projections.length === 0) {
    process.stderr.write(`unknown projection ${name}\n${USAGE}`);
    return 2;
  }
  const until = /^\d+$/.test(untilRaw) ? Number(untilRaw) : new Date(untilRaw).toISOString();
  const config = loadConfig();
  const out = resolve(outRaw);
  if (out === resolve(config.dataDir, 'read-models.db')) {
    process.stderr.write('refusing to write the replay into the live read-model store\n');
    return 2;
  }
  if (existsSync(out)) {
    process.stderr.write(`${out} exists; choose a new file\n`);
    return 2;
  }
  const events = await openEventStoreWithKeys(config, systemClock);
  const started = Date.now();
  try {
    const result = await replayProjections({ events, projections, until, out });
    process.stdout.write(`${JSON.stringify({ out, projections: projections.map((p) => p.name), until, position: result.position, eventsApplied: result.eventsApplied, seconds: (Date.now() - started) / 1000 })}\n`);
    return 0;
  } finally {
    await events.close();
  }
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code), (error: unknown) => {
  process.stderr.write(`replay failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

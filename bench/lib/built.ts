import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The compiled projector thread entry of the API build (what `npm start` runs), built first when missing or older
 * than any source under libs/ or apps/ (as scripts/start.js decides). The benches run from the sources through
 * ts-node; the projector threads they start run this, so that each thread holds no TypeScript compiler (70–80 MB and
 * seconds of compiling per thread) that production does not have.
 */
export function builtProjectorThreadEntry(log: (line: string) => void): string {
  const entry = join(ROOT, 'dist', 'apps', 'api', 'libs', 'runtime', 'src', 'projector-thread.worker.js');
  const sources = Math.max(newestSource(join(ROOT, 'libs')), newestSource(join(ROOT, 'apps', 'api')));
  if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
    log('  building the API (nest build api) for the projector threads\' compiled entry…');
    const build = spawnSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', 'api'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) throw new Error(`nest build api failed (${build.status})`);
  }
  return entry;
}

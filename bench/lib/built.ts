import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt } from './app-process';
import { REPO_ROOT as ROOT } from './child-server';

/**
 * The compiled projector thread entry of the API build (what `npm start` runs), built first when the API build is
 * missing or older than the sources (`ensureBuilt`, as scripts/start.js decides). The benches run from the sources
 * through ts-node; the projector threads they start run this, so that each thread holds no TypeScript compiler
 * (70–80 MB and seconds of compiling per thread) that production does not have.
 */
export function builtProjectorThreadEntry(log: (line: string) => void): string {
  ensureBuilt(ROOT, ['api'], { build: true, log });
  const entry = join(ROOT, 'dist', 'apps', 'api', 'libs', 'runtime', 'src', 'projector-thread.worker.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing after nest build api`);
  return entry;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

/* scripts/node-flags.js: the one rule for the Node flags of the long-running processes (npm start, the benches). */
const { nodeFlagsFor } = require('../../../scripts/node-flags.js') as { nodeFlagsFor: (app: string, env: NodeJS.ProcessEnv) => string[] };
const ROOT = join(__dirname, '..', '..', '..');

/** The flags of a `command:`/`CMD` exec array (the JSON-like list on one line) that runs `entry`. */
function flagsOfCommandRunning(text: string, entry: string): string[] {
  const line = text.split('\n').find((l) => l.includes(entry) && l.includes('['));
  if (!line) throw new Error(`no command runs ${entry}`);
  const list = JSON.parse(line.slice(line.indexOf('['), line.lastIndexOf(']') + 1)) as string[];
  return list.filter((arg) => arg.startsWith('--') && arg !== '--enable-source-maps');
}

describe('the Node flags of the long-running processes', () => {
  it('are the ones the Docker image and docker compose run the API and the projector with', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(flagsOfCommandRunning(dockerfile, 'dist/apps/api/apps/api/src/main.js')).toEqual(nodeFlagsFor('api', {}));
    // The compose projector runs its projections on its main thread (PROJECTOR_THREADS unset).
    expect(flagsOfCommandRunning(compose, 'dist/apps/projector/apps/projector/src/main.js')).toEqual(nodeFlagsFor('projector', {}));
  });

  it('give the projector on its main thread its larger young generation and initial old space, and not its threads', () => {
    expect(nodeFlagsFor('projector', {})).toEqual(['--max-old-space-size=256', '--max-semi-space-size=32', '--initial-old-space-size=128']);
    expect(nodeFlagsFor('projector', { PROJECTOR_THREADS: '2' })).toEqual(['--max-old-space-size=256']);
    expect(nodeFlagsFor('api', { NODE_OPTIONS: '--max-old-space-size=1024' })).toEqual([]);
  });
});

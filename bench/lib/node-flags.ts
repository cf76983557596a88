import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Node flags production gives a process (scripts/node-flags.json, as `npm start` and the Docker image use them),
 * so that a bench measures the process as it runs; none when NODE_OPTIONS sets its own heap size (as start.js does).
 */
export function productionNodeFlags(app: 'api' | 'projector' | 'importer'): string[] {
  if (/--max-old-space-size/.test(process.env.NODE_OPTIONS ?? '')) return [];
  const flags = JSON.parse(readFileSync(join(__dirname, '..', '..', 'scripts', 'node-flags.json'), 'utf8')) as Record<string, string[] | undefined>;
  return flags[app] ?? [];
}

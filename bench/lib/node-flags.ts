import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Node flags production gives a process (scripts/node-flags.json, as `npm start` and the Docker image use them),
 * so that a bench measures the process as it runs; none when NODE_OPTIONS sets its own heap size (as start.js does).
 */
export function productionNodeFlags(app: 'api' | 'projector' | 'importer', options: { readonly projectorThreads?: number } = {}): string[] {
  if (/--max-old-space-size/.test(process.env.NODE_OPTIONS ?? '')) return [];
  const flags = JSON.parse(readFileSync(join(__dirname, '..', '..', 'scripts', 'node-flags.json'), 'utf8')) as Record<string, string[] | undefined>;
  // As scripts/start.js: the projector's young generation flag only when its projections run on the main thread.
  const onMainThread = app === 'projector' && !((options.projectorThreads ?? 1) > 1);
  return [...(flags[app] ?? []), ...(onMainThread ? flags['projectorOnMainThread'] ?? [] : [])];
}

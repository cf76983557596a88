/** scripts/node-flags.js: the rule `npm start` applies, in the one place it is written. */
const { nodeFlagsFor } = require('../../scripts/node-flags.js') as { nodeFlagsFor: (app: string, env: NodeJS.ProcessEnv) => string[] };

/**
 * The Node flags production gives a process (scripts/node-flags.json, as `npm start` and the Docker image use them),
 * so that a bench measures the process as it runs; none when NODE_OPTIONS sets its own heap size (as start.js does).
 */
export function productionNodeFlags(app: 'api' | 'projector' | 'importer', options: { readonly projectorThreads?: number } = {}): string[] {
  return nodeFlagsFor(app, { NODE_OPTIONS: process.env.NODE_OPTIONS, PROJECTOR_THREADS: String(options.projectorThreads ?? 1) });
}

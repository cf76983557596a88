// The Node flags of a long-running process (scripts/node-flags.json says why each is there): one rule for `npm start`
// (scripts/start.js) and the benches that measure the processes as it runs them (bench/lib/node-flags.ts).
'use strict';
const flags = require('./node-flags.json');

/**
 * `app`'s flags under `env`: none when NODE_OPTIONS sets its own heap size (it wins); the projector's larger young
 * generation only where its projections run on its main thread (PROJECTOR_THREADS unset or 1).
 */
function nodeFlagsFor(app, env) {
  if (/--max-old-space-size/.test(env.NODE_OPTIONS || '')) return [];
  const onMainThread = app === 'projector' && !(Number(env.PROJECTOR_THREADS) > 1);
  return [...(flags[app] || []), ...(onMainThread ? flags.projectorOnMainThread : [])];
}

module.exports = { nodeFlagsFor };

/**
 * The projection-lag bench's load generator as a process of its own (forked by the bench, under `taskset -c <core>`
 * when taskset exists): runs one open-loop phase per `phase` message and answers with its result. Exits when the
 * bench goes away.
 */
import { closeAgents, generateLoad, type LoadPhase, type LoadResult } from '../lib/lag-load';

export type ToLoadGenerator = { type: 'phase'; phase: LoadPhase };
export type FromLoadGenerator = { type: 'ready' } | { type: 'result'; result: LoadResult } | { type: 'error'; message: string };

if (!process.send) {
  process.stderr.write('this process is started by the projection-lag bench, not directly\n');
  process.exit(2);
}
const send = (m: FromLoadGenerator): void => {
  if (process.connected) process.send!(m);
};
process.on('disconnect', () => {
  closeAgents();
  process.exit(0);
});
process.on('message', (m: ToLoadGenerator) => {
  if (m.type !== 'phase') return;
  generateLoad(m.phase).then(
    (result) => send({ type: 'result', result }),
    (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
});
send({ type: 'ready' });

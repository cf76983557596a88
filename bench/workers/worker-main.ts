import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type { FromWorker } from '../lib/worker';

/**
 * The child side of bench/lib/worker.ts: runs `work` once, sends its result (or error) to the parent, exits.
 * Exits at once when the parent goes away. Kept free of heavy imports: the worker's peak RSS is part of its result.
 */
export function workerMain<T>(work: () => Promise<T>): void {
  if (!process.send) {
    process.stderr.write('this worker is started by the bench (npm run bench), not directly\n');
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(1));
  const send = (message: FromWorker<T>): Promise<void> =>
    new Promise((resolveSent) => {
      if (!process.connected) return resolveSent();
      process.send!(message, undefined, {}, () => resolveSent());
    });
  work()
    .then((result) => send({ type: 'result', result }))
    .catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) }))
    .finally(() => process.exit(0));
}

/** V8 CPU profile of `fn` with the in-process inspector, written to `file` (Chrome DevTools format). */
export async function profiled<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!file) return fn();
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolvePost, rejectPost) => session.post(method, params, (error, result) => (error ? rejectPost(error) : resolvePost(result))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

export const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** `process.resourceUsage().maxRSS` in MB. On Linux it carries over the forking parent's RSS (see peakRssMb). */
export const maxRssMb = (): number => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

/**
 * Peak resident set size of this process so far, in MB. On Linux, getrusage's maxRSS (`process.resourceUsage()`)
 * is not this process's own peak: the kernel carries the parent's RSS at fork over the exec, so a worker forked by a
 * bench that just generated a million events "peaks" at the bench's size. VmHWM in /proc/self/status is the peak of
 * this process's own address space; elsewhere maxRSS is all there is.
 */
export function peakRssMb(): number {
  try {
    const kib = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Math.round((Number(kib) / 1024) * 10) / 10;
  } catch {
    /* not Linux */
  }
  return maxRssMb();
}

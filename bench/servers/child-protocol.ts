import { rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { FromChild, ToChild } from '../lib/child-server';
import { mainThreadCpuSeconds } from '../lib/thread-cpu';

/** CPU of this process's main thread in µs, or null without /proc. */
function mainThreadCpuMicros(): number | null {
  const seconds = mainThreadCpuSeconds();
  return seconds === undefined ? null : seconds * 1e6;
}

/**
 * The child side of bench/lib/child-server.ts: start the server, report the port, answer stats, close on 'stop'
 * (exit 0), profile on request with the in-process inspector, and exit when the parent goes away.
 */
export function serveAsChild(start: () => Promise<{ port: number; close: () => Promise<void> }>): void {
  const send = (message: FromChild): void => {
    if (process.connected) process.send?.(message);
  };
  if (!process.send) {
    process.stderr.write('this server is started by the bench (npm run bench), not directly\n');
    process.exit(2);
  }
  // The parent died or dropped us (even by SIGKILL): never linger, and remove the temp dir it can no longer remove.
  process.on('disconnect', () => {
    const owned = process.env.BENCH_OWNED_DIR;
    if (owned) rmSync(owned, { recursive: true, force: true });
    process.exit(1);
  });
  start()
    .then(({ port, close }) => {
      let session: Session | undefined;
      const post = (method: string, params?: object): Promise<unknown> =>
        new Promise((resolvePost, rejectPost) => {
          if (!session) return rejectPost(new Error('no inspector session'));
          session.post(method, params ?? {}, (error, result) => (error ? rejectPost(error) : resolvePost(result)));
        });
      // Event-loop delay and GC pauses between two stats requests: where a latency tail comes from.
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      const gc = { pauses: 0, totalMs: 0, maxMs: 0 };
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          gc.pauses += 1;
          gc.totalMs += entry.duration;
          gc.maxMs = Math.max(gc.maxMs, entry.duration);
        }
      }).observe({ entryTypes: ['gc'] });
      const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
      const fail = (error: unknown): void =>
        send({ type: 'fatal', message: error instanceof Error ? error.stack ?? error.message : String(error) });
      process.on('message', (message: ToChild) => {
        if (message.type === 'profile-start') {
          session = new Session();
          session.connect();
          post('Profiler.enable')
            .then(() => post('Profiler.setSamplingInterval', { interval: 500 }))
            .then(() => post('Profiler.start'))
            // Allocation sampling beside the CPU profile, counting what young and old GCs collected too: where the
            // garbage comes from, not only what is alive at the end.
            .then(() => post('HeapProfiler.startSampling', { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }))
            .then(() => send({ type: 'profile-started' }), fail);
        } else if (message.type === 'profile-stop') {
          post('HeapProfiler.stopSampling')
            .then((heap) => writeFileSync(message.file.replace(/\.cpuprofile$/, '.heapprofile'), JSON.stringify((heap as { profile: unknown }).profile)))
            .then(() => post('Profiler.stop'))
            .then((result) => {
              writeFileSync(message.file, JSON.stringify((result as { profile: unknown }).profile));
              session?.disconnect();
              session = undefined;
              send({ type: 'profile-saved', file: message.file });
            }, fail);
        } else if (message.type === 'stats') {
          const memory = process.memoryUsage();
          const cpu = process.cpuUsage();
          send({
            type: 'stats', rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, mainThreadCpuMicros: mainThreadCpuMicros(),
            eventLoopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
            gc: { pauses: gc.pauses, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 },
          });
          loop.reset();
          Object.assign(gc, { pauses: 0, totalMs: 0, maxMs: 0 });
        } else if (message.type === 'stop') {
          close()
            .catch((error: unknown) => process.stderr.write(`close failed: ${String(error)}\n`))
            .finally(() => process.exit(0));
        }
      });
      send({ type: 'ready', port });
    })
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.stack ?? error.message : String(error);
      process.stderr.write(`failed to start: ${message}\n`);
      send({ type: 'fatal', message });
      setTimeout(() => process.exit(1), 100);
    });
}

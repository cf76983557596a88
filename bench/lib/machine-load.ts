import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * CPU time of the whole machine (all processes, from /proc/stat), to tell whether something else ran during a
 * measured window: on a shared 2-core box another process's CPU shows up as our latency. Linux only; undefined
 * elsewhere.
 */
export interface MachineCpuSnapshot {
  readonly at: number;
  readonly busyTicks: number;
  readonly totalTicks: number;
}

export function machineCpu(): MachineCpuSnapshot | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, ...fields] = line.trim().split(/\s+/);
    const n = fields.map(Number);
    // user nice system idle iowait irq softirq steal
    const idle = (n[3] ?? 0) + (n[4] ?? 0);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    return { at: performance.now(), busyTicks: total - idle, totalTicks: total };
  } catch {
    return undefined;
  }
}

/** Cores the whole machine kept busy between two snapshots (USER_HZ is 100 on Linux). */
export function busyCores(before: MachineCpuSnapshot | undefined, after: MachineCpuSnapshot | undefined): number | undefined {
  if (!before || !after || after.at <= before.at) return undefined;
  return Math.round(((after.busyTicks - before.busyTicks) / 100 / ((after.at - before.at) / 1000)) * 100) / 100;
}

/**
 * fsyncs every file in `dir`, so data a bench just wrote (a generated history, rebuilt read models) is on disk
 * before the next measurement, instead of being written back by the kernel in the middle of it. Returns seconds.
 */
export function flushDir(dir: string): number {
  const t0 = performance.now();
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const fd = openSync(file, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return (performance.now() - t0) / 1000;
}

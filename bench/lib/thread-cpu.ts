import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports thread CPU in these ticks (100 on every Linux ABI Node supports). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) in a /proc `stat` file (a process's or one thread's); undefined without it (no /proc, or
 * the process or thread has ended).
 */
export function statCpuSeconds(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last ')'): utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) of one thread, of this process by default or of process `pid` (whose main thread, the
 * event loop of a Node process, has `tid` = `pid`). `process.cpuUsage` counts every thread, V8's GC helpers included.
 */
export function threadCpuSeconds(tid: number | string, pid: number | 'self' = 'self'): number | undefined {
  return statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
}

/** CPU seconds of this process's main thread alone (its thread id is the process id). */
export const mainThreadCpuSeconds = (): number | undefined => threadCpuSeconds(process.pid);

import { randomFill } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice values a thread may move to without privileges (raising the nice value is always allowed on Linux). */
export const MAX_NICE = 19;

export type ThreadNiceOutcome =
  | { readonly applied: true; readonly threadId: number; readonly nice: number }
  | { readonly applied: false; readonly reason: string };

export interface ThreadNiceDeps {
  /** Resolves `/proc/thread-self` ("PID/task/TID" on Linux ≥ 3.17). */
  readonly readlink: (path: string) => string;
  readonly getPriority: (pid: number) => number;
  readonly setPriority: (pid: number, priority: number) => void;
}

const SYSTEM: ThreadNiceDeps = {
  readlink: (path) => readlinkSync(path),
  getPriority: (pid) => getPriority(pid),
  setPriority: (pid, priority) => setPriority(pid, priority),
};

/**
 * Lowers the calling thread alone by `steps` nice steps below where it runs (at most to 19): relative, so that a
 * process started under `nice` keeps its projector thread below its API thread (an absolute value below the
 * process's would need privileges). On Linux setpriority(PRIO_PROCESS, tid) acts on that one
 * thread, not the process. Used by the projector thread of `npm start`, so that under CPU contention the scheduler
 * prefers the API's event loop and the projector catches up in larger batches when there is slack. Where the thread
 * id cannot be had (no /proc/thread-self: macOS, Windows, old kernels) nothing changes and the reason is returned:
 * setPriority with the process id there would lower the API's priority too.
 */
export function lowerThisThread(steps: number, deps: ThreadNiceDeps = SYSTEM): ThreadNiceOutcome {
  if (!Number.isInteger(steps) || steps < 0 || steps > MAX_NICE) return { applied: false, reason: `${steps} nice steps is not an integer in 0..${MAX_NICE}` };
  if (steps === 0) return { applied: false, reason: '0 nice steps asked: the thread keeps the process priority' };
  let link: string;
  try {
    link = deps.readlink('/proc/thread-self');
  } catch (error) {
    return { applied: false, reason: `no per-thread priority here (/proc/thread-self: ${error instanceof Error ? error.message : String(error)})` };
  }
  const match = /^\d+\/task\/(\d+)$/.exec(link);
  const threadId = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(threadId) || threadId <= 0) return { applied: false, reason: `/proc/thread-self is "${link}", not PID/task/TID` };
  let nice = Number.NaN;
  try {
    nice = Math.min(MAX_NICE, deps.getPriority(threadId) + steps);
    deps.setPriority(threadId, nice);
  } catch (error) {
    return { applied: false, reason: `setpriority(${threadId}, ${nice}) failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  return { applied: true, threadId, nice };
}

/**
 * Makes sure libuv's thread pool exists before a thread lowers its own priority: the pool is created on first use by
 * whichever thread queues the first work, and Linux threads inherit the nice value of the thread that creates them.
 * Were the projector thread first, every later fs, crypto or DNS call of the API would run on low-priority threads.
 */
export function startThreadPool(): Promise<void> {
  // A crypto job: always queued on the pool (libuv may serve some fs calls through io_uring instead).
  return new Promise((resolve) => randomFill(Buffer.alloc(1), () => resolve()));
}

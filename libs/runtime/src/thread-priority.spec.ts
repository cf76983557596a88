import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { lowerThisThread, type ThreadNiceDeps, type ThreadNiceOutcome } from './thread-priority';

/** Field 19 of /proc/<pid>/task/<tid>/stat, after the command name in parentheses (which may hold spaces). */
function niceOf(tid: number, pid: number = process.pid): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const THIS_FILE = join(__dirname, 'thread-priority.ts');
/** A worker thread that runs this module from the sources, as the projector thread does under ts-node. */
const workerRunning = (body: string): Worker =>
  new Worker(
    `require('ts-node/register/transpile-only'); const { parentPort } = require('node:worker_threads'); const m = require(${JSON.stringify(THIS_FILE)}); ${body}`,
    { eval: true },
  );

const fakeDeps = (overrides: Partial<ThreadNiceDeps> = {}): ThreadNiceDeps & { set: Array<[number, number]> } => {
  const set: Array<[number, number]> = [];
  return { readlink: () => '4242/task/4250', getPriority: () => 3, setPriority: (pid, p) => set.push([pid, p]), set, ...overrides };
};

const linux = existsSync('/proc/thread-self') ? describe : describe.skip;

linux('lowerThisThread on Linux', () => {
  jest.setTimeout(30_000);

  it('lowers the calling worker thread alone: the main thread keeps its nice value', async () => {
    const mainBefore = niceOf(process.pid);
    const worker = workerRunning(`parentPort.postMessage(m.lowerThisThread(7)); parentPort.once('message', () => process.exit(0));`);
    try {
      const outcome = await new Promise<ThreadNiceOutcome>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(outcome).toMatchObject({ applied: true, nice: Math.min(19, mainBefore + 7) });
      if (!outcome.applied) return;
      expect(outcome.threadId).not.toBe(process.pid);
      expect(niceOf(outcome.threadId)).toBe(Math.min(19, mainBefore + 7));
      expect(niceOf(process.pid)).toBe(mainBefore);
    } finally {
      await worker.terminate();
    }
  });

  it("leaves libuv's pool at the process priority when the pool was started first (the projector thread's start)", () => {
    // A fresh process: in this one jest has long started the pool. The pool is made by the first thread that queues
    // work, and Linux threads inherit the creator's nice value; so without startThreadPool() the pool's threads would
    // be as low as the projector thread, and with it they stay where the process is.
    const script = (warmFirst: boolean): string => `
      require('ts-node/register/transpile-only');
      const { Worker } = require('node:worker_threads');
      const { readdirSync, readFileSync } = require('node:fs');
      const m = require(${JSON.stringify(THIS_FILE)});
      const nice = (tid) => { const s = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]); };
      (async () => {
        if (${warmFirst}) await m.startThreadPool();
        const w = new Worker("require('ts-node/register/transpile-only'); const { parentPort } = require('node:worker_threads'); const m = require(${JSON.stringify(JSON.stringify(THIS_FILE)).slice(1, -1)}); const o = m.lowerThisThread(9); require('node:crypto').randomFill(Buffer.alloc(1), () => parentPort.postMessage(o));", { eval: true });
        const o = await new Promise((resolve) => w.once('message', resolve));
        const base = nice(process.pid);
        const lowered = readdirSync('/proc/self/task').map(Number).filter((tid) => nice(tid) !== base);
        process.stdout.write(JSON.stringify({ projectorThread: o.threadId, lowered }));
        process.exit(0);
      })();`;
    const run = (warmFirst: boolean): { projectorThread: number; lowered: number[] } =>
      JSON.parse(execFileSync(process.execPath, ['-e', script(warmFirst)], { encoding: 'utf8', cwd: join(__dirname, '..', '..', '..') })) as { projectorThread: number; lowered: number[] };
    const cold = run(false);
    expect(cold.lowered.length).toBeGreaterThan(1); // the pool's threads went down with the projector thread
    const warm = run(true);
    expect(warm.lowered).toEqual([warm.projectorThread]);
  });
});

describe('lowerThisThread, where it cannot or need not act', () => {
  it('lowers the thread of /proc/thread-self by the steps asked, relative to where it runs', () => {
    const deps = fakeDeps();
    expect(lowerThisThread(10, deps)).toEqual({ applied: true, threadId: 4250, nice: 13 });
    expect(deps.set).toEqual([[4250, 13]]);
  });

  it('stops at nice 19', () => {
    const deps = fakeDeps({ getPriority: () => 15 });
    expect(lowerThisThread(10, deps)).toMatchObject({ applied: true, nice: 19 });
    expect(deps.set).toEqual([[4250, 19]]);
  });

  it('changes nothing without a thread id of its own (never the process id: that would lower the API too)', () => {
    const noProc = fakeDeps({ readlink: () => { throw new Error('ENOENT: no such file or directory'); } });
    expect(lowerThisThread(10, noProc)).toMatchObject({ applied: false, reason: expect.stringContaining('ENOENT') });
    expect(noProc.set).toEqual([]);
    const odd = fakeDeps({ readlink: () => 'self' });
    expect(lowerThisThread(10, odd)).toMatchObject({ applied: false, reason: expect.stringContaining('"self"') });
    expect(odd.set).toEqual([]);
  });

  it('says why when the system refuses, and asks nothing for 0 steps or a value out of range', () => {
    const refused = fakeDeps({ setPriority: () => { throw new Error('EACCES: permission denied'); } });
    expect(lowerThisThread(10, refused)).toMatchObject({ applied: false, reason: expect.stringContaining('EACCES') });
    for (const steps of [0, -1, 20, 2.5]) {
      const deps = fakeDeps();
      expect(lowerThisThread(steps, deps).applied).toBe(false);
      expect(deps.set).toEqual([]);
    }
  });
});

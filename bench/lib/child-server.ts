import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { trackChild } from './cleanup';

/** Messages between the bench (parent) and a server child. */
export type ToChild = { type: 'stats' } | { type: 'stop' } | { type: 'profile-start' } | { type: 'profile-stop'; file: string };
export type FromChild =
  | { type: 'ready'; port: number }
  | ({ type: 'stats' } & ServerStats)
  | { type: 'profile-started' }
  | { type: 'profile-saved'; file: string }
  | { type: 'fatal'; message: string };

export interface ServerStats {
  rssBytes: number;
  heapUsedBytes: number;
  cpuUserMicros: number;
  cpuSystemMicros: number;
  /**
   * CPU (user + system) of the process's main thread alone, from /proc (Linux; null elsewhere), at the kernel's clock
   * tick (10 ms): the rest of cpuUser/SystemMicros is other threads (a projector worker thread, libuv's pool, V8's).
   */
  mainThreadCpuMicros: number | null;
  /** Since the previous stats request: how late the event loop ran a 1 ms timer (ms), and GC pauses. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  gc: { pauses: number; totalMs: number; maxMs: number };
}

export interface RunningServer {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  stats(): Promise<ServerStats>;
  /** Starts the V8 sampling profiler inside the child (only the measured window is profiled, not boot). */
  profileStart(): Promise<void>;
  /** Stops it and writes a .cpuprofile (Chrome DevTools format) to `file`. */
  profileStop(file: string): Promise<void>;
  /** Asks the child to close gracefully, SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export const REPO_ROOT = resolve(__dirname, '..', '..');

/**
 * Forks a .ts script as its own process with ts-node and the @crm/* path aliases (after `nodeFlags`), tracked for
 * cleanup; its stderr is forwarded with a `[name]` prefix and its last 4,000 characters kept for error messages.
 */
export function forkTypeScript(options: {
  name: string;
  script: string;
  env: Record<string, string>;
  nodeFlags?: readonly string[];
  /**
   * How the TypeScript is loaded: ts-node (default), or `transpile` (bench/lib/transpile-register.js: the same
   * per-file transpilation without ts-node, whose REPL loads `domain` and slows every EventEmitter of the process).
   */
  loader?: 'ts-node' | 'transpile';
}): { child: ChildProcess; stderrTail: () => string } {
  const loader = options.loader === 'transpile' ? resolve(__dirname, 'transpile-register.js') : 'ts-node/register/transpile-only';
  const child = fork(options.script, [], {
    cwd: REPO_ROOT,
    execArgv: [...(options.nodeFlags ?? []), '-r', loader, '-r', 'tsconfig-paths/register'],
    env: { ...process.env, TS_NODE_PROJECT: resolve(REPO_ROOT, 'tsconfig.json'), ...options.env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  trackChild(child);
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    process.stderr.write(text.replace(/^(?=.)/gm, `[${options.name}] `));
  });
  return { child, stderrTail: () => tail };
}

/**
 * Forks `script` (a .ts file under bench/servers) as its own process with ts-node and the @crm/* path aliases,
 * waits for it to listen on 127.0.0.1 and report its port.
 */
export async function startServer(options: {
  name: string;
  script: string;
  env: Record<string, string>;
  readyTimeoutMs?: number;
  /** Node flags before the ts-node hooks (e.g. productionNodeFlags('api')). */
  nodeFlags?: readonly string[];
  loader?: 'ts-node' | 'transpile';
}): Promise<RunningServer> {
  // Its stderr is forwarded; the tail goes into the error message if it dies before it is ready.
  const { child, stderrTail } = forkTypeScript(options);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: fork failed`);

  let exited = false;
  const exitPromise = new Promise<void>((resolveExit) => child.once('exit', () => { exited = true; resolveExit(); }));

  const port = await new Promise<number>((resolveReady, rejectReady) => {
    const timer = setTimeout(() => rejectReady(new Error(`${options.name}: not ready after ${options.readyTimeoutMs ?? 60_000} ms`)), options.readyTimeoutMs ?? 60_000);
    const onMessage = (message: FromChild): void => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolveReady(message.port);
      } else if (message.type === 'fatal') {
        clearTimeout(timer);
        rejectReady(new Error(`${options.name}: ${message.message}`));
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const tail = stderrTail();
      rejectReady(new Error(`${options.name}: exited before ready (code ${code}, signal ${signal})${tail ? `; stderr:\n${tail}` : ''}`));
    });
  }).catch((error: unknown) => {
    if (!exited) child.kill('SIGKILL');
    throw error;
  });

  child.on('message', (message: FromChild) => {
    if (message.type === 'fatal') process.stderr.write(`${options.name}: ${message.message}\n`);
  });

  const request = <T extends FromChild['type']>(message: ToChild, reply: T): Promise<Extract<FromChild, { type: T }>> =>
    new Promise((resolveReply, rejectReply) => {
      if (exited) return rejectReply(new Error(`${options.name} has exited`));
      const timer = setTimeout(() => rejectReply(new Error(`${options.name}: no ${reply} reply`)), 30_000);
      const onMessage = (m: FromChild): void => {
        if (m.type !== reply) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolveReply(m as Extract<FromChild, { type: T }>);
      };
      child.on('message', onMessage);
      child.send(message);
    });

  return {
    name: options.name,
    url: `http://127.0.0.1:${port}`,
    pid,
    stats: async () => {
      const { type: _type, ...stats } = await request({ type: 'stats' }, 'stats');
      return stats;
    },
    profileStart: async () => {
      await request({ type: 'profile-start' }, 'profile-started');
    },
    profileStop: async (file) => {
      await request({ type: 'profile-stop', file }, 'profile-saved');
    },
    stop: async () => {
      if (exited) return;
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild);
      const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
      if ((await Promise.race([exitPromise, grace])) === 'timeout') {
        process.stderr.write(`${options.name}: did not stop in 15 s, SIGKILL\n`);
        child.kill('SIGKILL');
        await exitPromise;
      }
    },
  };
}

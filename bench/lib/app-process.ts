import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../../test/support/free-port';
import { trackChild } from './cleanup';
import { statCpuSeconds } from './thread-cpu';

/**
 * The compiled app started the way `npm start` (scripts/start.js) starts it: `node --enable-source-maps <flags of
 * scripts/node-flags.json> dist/apps/<app>/apps/<app>/src/main.js`, configured by the environment only (PORT,
 * DATA_DIR, ...). `root` is a checkout with a built dist/ (another one than this repo for an A/B of two versions).
 * Spawned directly rather than through start.js so the bench holds the app's own pid (peak RSS, CPU, SIGKILL on
 * cleanup); start.js's staleness check is `ensureBuilt`, run before anything is timed.
 */
export interface AppProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly url: string;
  /** performance.now() when the process was spawned. */
  readonly spawnedAt: number;
  /** Peak RSS (VmHWM) and CPU seconds (user + system, all threads) of the process so far; undefined once it has gone. */
  usage(): { peakRssMb: number; cpuSeconds: number } | undefined;
  stderrTail(): string;
  stop(): Promise<void>;
}

export function entryOf(root: string, app: 'api' | 'importer' | 'projector'): string {
  return join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
}

export function nodeFlagsOf(root: string, app: string): string[] {
  const flags = JSON.parse(readFileSync(join(root, 'scripts', 'node-flags.json'), 'utf8')) as Record<string, string[] | undefined>;
  return flags[app] ?? [];
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds `root`'s app with the Nest CLI when its compiled entry is missing or older than its sources, as start.js
 * does before `npm start` (not timed); with `build: false` throws instead (a second checkout given for an A/B).
 */
export function ensureBuilt(root: string, apps: ReadonlyArray<'api' | 'importer' | 'projector'>, options: { build: boolean; log: (line: string) => void }): void {
  const sources = Math.max(newestSource(join(root, 'apps')), newestSource(join(root, 'libs')));
  for (const app of apps) {
    const entry = entryOf(root, app);
    const stale = !existsSync(entry) || statSync(entry).mtimeMs < sources;
    if (!stale) continue;
    if (!options.build) throw new Error(`${entry} is missing or older than the sources: run \`npm run build\` in ${root} first (a stale build would measure old code)`);
    options.log(`  building ${app} (dist/ missing or older than the sources; not timed)...`);
    const build = spawnSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (build.status !== 0) throw new Error(`nest build ${app} failed (exit ${build.status})`);
  }
}

/** /proc/<pid>/status VmHWM and /proc/<pid>/stat utime + stime (Linux; undefined elsewhere or once gone). */
export function processUsage(pid: number): { peakRssMb: number; cpuSeconds: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  const cpuSeconds = statCpuSeconds(`/proc/${pid}/stat`);
  return cpuSeconds === undefined ? undefined : { peakRssMb: hwm ? Math.round(Number(hwm[1]) / 1024) : Number.NaN, cpuSeconds };
}

/** Spawns `node <args>` as a tracked child with exactly `env` (plus PATH/HOME), stderr kept for error messages. */
export function spawnNode(args: readonly string[], env: Record<string, string>, cwd: string): { child: ChildProcess; stderrTail: () => string; spawnedAt: number } {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...args], {
    cwd,
    // Nothing of this shell's environment (NODE_OPTIONS, PORT, EVENTSTORE_..., MONGODB_...) leaks into the measurement.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  trackChild(child);
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  return { child, stderrTail: () => tail, spawnedAt };
}

export async function startCompiledApp(options: { root: string; env: Record<string, string> }): Promise<AppProcess> {
  const port = await freePort();
  const { child, stderrTail, spawnedAt } = spawnNode(
    ['--enable-source-maps', ...nodeFlagsOf(options.root, 'api'), entryOf(options.root, 'api')],
    { HOST: '127.0.0.1', PORT: String(port), ...options.env },
    options.root,
  );
  return appProcess(child, port, spawnedAt, stderrTail);
}

/** The least a Node process does before it answers HTTP: the same flags, one `http.createServer`, 200 on any path. */
export async function startBareNode(root: string): Promise<AppProcess> {
  const port = await freePort();
  const script = "require('node:http').createServer((q, s) => s.end('{}')).listen(Number(process.env.PORT), '127.0.0.1')";
  const { child, stderrTail, spawnedAt } = spawnNode(['--enable-source-maps', ...nodeFlagsOf(root, 'api'), '-e', script], { PORT: String(port) }, root);
  return appProcess(child, port, spawnedAt, stderrTail);
}

function appProcess(child: ChildProcess, port: number, spawnedAt: number, stderrTail: () => string): AppProcess {
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn failed');
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
  return {
    pid, child, url: `http://127.0.0.1:${port}`, spawnedAt, stderrTail,
    usage: () => processUsage(pid),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
      if ((await Promise.race([exited, grace])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** One GET without keep-alive; resolves with the status and body, rejects on a connection error. */
export function getOnce(url: string, path: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, rejectGet) => {
    const u = new URL(path, url);
    if (u.hostname !== '127.0.0.1') return rejectGet(new Error(`refusing to send to ${u.hostname}: loopback only`));
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', rejectGet);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', rejectGet);
    req.end();
  });
}

/**
 * Polls `check` every `intervalMs` until it returns a value (not undefined); connection errors count as "not yet".
 * Rejects when the process exits first or after `timeoutMs`. Resolves with the value and performance.now() of it.
 */
export async function pollUntil<T>(app: AppProcess, check: () => Promise<T | undefined>, options: { timeoutMs: number; intervalMs: number; what: string }): Promise<{ value: T; at: number }> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    if (app.child.exitCode !== null || app.child.signalCode !== null) {
      throw new Error(`the app exited (code ${app.child.exitCode}, signal ${app.child.signalCode}) before ${options.what}; stderr:\n${app.stderrTail()}`);
    }
    try {
      const value = await check();
      if (value !== undefined) return { value, at: performance.now() };
    } catch {
      /* not listening yet */
    }
    if (performance.now() > deadline) throw new Error(`no ${options.what} after ${Math.round(options.timeoutMs / 1000)} s; stderr:\n${app.stderrTail()}`);
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}

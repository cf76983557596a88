import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  ALL_PROJECTIONS, PositionWaiters, ServingRegistry, type ProjectionControl, type ProjectionState, type ProjectionStatus, type ReadModelStore,
} from '@crm/read-models';
import type { AppConfig } from './config';
import type { Metrics } from './metrics';
import type {
  FromProjectorThread, ProgressEntry, RebuildReply, StatusReply, ToProjectorThread,
} from './projector-thread.protocol';

export interface ProjectorThreadOptions {
  readonly config: AppConfig;
  /** The API's store: the serving registry resolves names against it when the thread is down. */
  readonly readModels: ReadModelStore;
  /** The process's metrics: the thread's counters are added here. */
  readonly metrics: Metrics;
  readonly logger?: { error(message: unknown): void; log(message: unknown): void };
  /** Heap of the thread (the projector process gets --max-old-space-size=256). */
  readonly maxOldGenerationSizeMb?: number;
  /** How long a status request may take before the last known progress answers instead. */
  readonly callTimeoutMs?: number;
  /** First pause before starting a crashed thread again; doubles up to 30 s while starts keep failing. */
  readonly restartDelayMs?: number;
}

interface Mirror {
  checkpoint: number;
  state: ProjectionState;
  version: number;
  generation: number;
}

const STOP_GRACE_MS = 10_000;
/** Commits closer together than this share one wake-up of the projector thread (see signalAppend). */
const APPEND_SIGNAL_GAP_MS = 5;
const MAX_RESTART_DELAY_MS = 30_000;

/** The worker's entry beside this file: compiled JS in a build, TypeScript through ts-node from the sources. */
function workerSource(): { source: string; eval: boolean; env?: NodeJS.ProcessEnv } {
  const entry = join(__dirname, `projector-thread.worker${extname(__filename)}`);
  if (extname(__filename) !== '.ts') return { source: entry, eval: false };
  let root = __dirname;
  while (!existsSync(join(root, 'tsconfig.json')) && dirname(root) !== root) root = dirname(root);
  return {
    source: `require('ts-node/register/transpile-only'); require('tsconfig-paths/register'); require(${JSON.stringify(entry)});`,
    eval: true,
    env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.json') },
  };
}

/**
 * The projections and the SLA watcher of `npm start`, in a worker thread of the API process: one process as DESIGN
 * §2 wants, but a catch-up or a rebuild no longer competes with requests for the API's event loop (the SQLite
 * driver is synchronous). The thread opens its own connections, like the projector process; this side keeps a mirror
 * of each projection's checkpoint and serving build (sent after every batch), so queries and read-your-writes waits
 * cost no round trip. A crashed thread is started again from the checkpoints (never skips, never applies twice).
 */
export class ProjectorThread implements ProjectionControl {
  readonly registry: ServingRegistry;
  private worker: Worker | undefined;
  private readonly mirror = new Map<string, Mirror>();
  private lastError: ProjectionStatus['lastError'] = null;
  private readonly waiters = new PositionWaiters();
  private readonly calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextCall = 1;
  private stopping = false;
  private restartDelay: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private appendSignalled = false;
  private lastSignalAt = 0;

  private constructor(private readonly options: ProjectorThreadOptions) {
    this.registry = new ServingRegistry(options.readModels, ALL_PROJECTIONS);
    this.restartDelay = options.restartDelayMs ?? 1000;
  }

  /** Starts the thread; resolves once every projection has started (as an embedded runner's start() does). */
  static async start(options: ProjectorThreadOptions): Promise<ProjectorThread> {
    const thread = new ProjectorThread(options);
    await thread.spawn();
    return thread;
  }

  private spawn(): Promise<void> {
    const { source, eval: isEval, env } = workerSource();
    const worker = new Worker(source, {
      eval: isEval,
      env,
      workerData: { config: this.options.config },
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb ?? 256 },
    });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromProjectorThread) => {
        switch (message.t) {
          case 'ready':
            ready = true;
            this.restartDelay = this.options.restartDelayMs ?? 1000;
            this.lastError = null;
            this.apply(message.progress);
            resolve();
            return;
          case 'progress':
            this.apply(message.progress);
            for (const [projection, by] of message.projectionEvents) this.options.metrics.projectionEvents.inc({ projection }, by);
            for (const [kind, by] of message.slaBreaches) this.options.metrics.slaBreaches.inc({ kind }, by);
            for (const [key, by] of message.slaEscalations) {
              const [step = '', priority = ''] = JSON.parse(key) as string[];
              this.options.metrics.slaEscalations.inc({ step, priority }, by);
            }
            for (const [reason, by] of message.subscriptionRestarts) this.options.metrics.subscriptionRestarts.inc({ reason }, by);
            return;
          case 'reply': {
            const call = this.calls.get(message.id);
            this.calls.delete(message.id);
            if (message.ok) call?.resolve(message.value);
            else call?.reject(new Error(message.error));
            return;
          }
          case 'start-failed':
            this.lastError = { message: `the projector thread could not start: ${message.error}`, position: 0, eventType: '' };
            if (!ready) reject(new Error(this.lastError.message));
            return;
          case 'stopped':
            return;
        }
      });
      worker.on('error', (error) => {
        this.lastError = { message: `the projector thread failed: ${error.message}`, position: 0, eventType: '' };
        this.options.logger?.error({ msg: 'projector thread failed', error: error.stack ?? error.message });
        if (!ready) reject(error);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        for (const call of this.calls.values()) call.reject(new Error('the projector thread exited'));
        this.calls.clear();
        // Queries waiting for a position keep waiting (within their bound) for the thread that is started again.
        for (const m of this.mirror.values()) m.state = this.stopping ? 'stopped' : 'starting';
        this.wake();
        if (!ready) {
          reject(new Error(this.lastError?.message ?? `the projector thread exited with code ${code} before it started`));
          return;
        }
        if (this.stopping) return;
        this.lastError ??= { message: `the projector thread exited with code ${code}`, position: 0, eventType: '' };
        this.options.logger?.error({ msg: 'projector thread exited; starting it again', code, inMs: this.restartDelay });
        this.scheduleRestart();
      });
    });
  }

  private scheduleRestart(): void {
    const delay = this.restartDelay;
    this.restartDelay = Math.min(MAX_RESTART_DELAY_MS, delay * 2);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.spawn().then(
        () => this.options.logger?.log({ msg: 'projector thread started again' }),
        (error: unknown) => {
          this.options.logger?.error({ msg: 'projector thread could not start again', error: String(error) });
          // The failed worker's exit handler saw `ready` false and did not schedule: do it here.
          if (!this.stopping && !this.worker) this.scheduleRestart();
        },
      );
    }, delay);
    this.restartTimer.unref();
  }

  private apply(progress: readonly ProgressEntry[]): void {
    for (const [name, checkpoint, version, generation, state] of progress) {
      // The serving build first: a query that sees the new checkpoint must also read the build it belongs to.
      this.registry.set(name, { version, generation });
      this.mirror.set(name, { checkpoint, state, version, generation });
    }
    // Progress lists every projection the thread runs. With projector replicas (MONGODB_URI) it runs only those whose
    // lease it holds: one it gave up is forgotten here, so queries wait on its checkpoint in the store instead.
    const running = new Set(progress.map(([name]) => name));
    for (const name of [...this.mirror.keys()]) if (!running.has(name)) this.mirror.delete(name);
    this.wake();
  }

  private wake(): void {
    this.waiters.wakeAll();
  }

  /**
   * The API thread appended: the projector reads now instead of at its next poll of the log. A commit after a quiet
   * spell is signalled in the same turn; under a stream of commits at most one message per APPEND_SIGNAL_GAP_MS, so
   * the thread applies a few commits as one batch per projection instead of one each (at 500 commands/s: ~8 % less
   * CPU for the process, lag p50 1 → 2.3 ms, p99 unchanged).
   */
  signalAppend(): void {
    if (this.appendSignalled || !this.worker) return;
    this.appendSignalled = true;
    const wait = this.lastSignalAt + APPEND_SIGNAL_GAP_MS - performance.now();
    const send = (): void => {
      this.appendSignalled = false;
      this.lastSignalAt = performance.now();
      this.send({ t: 'appended' });
    };
    if (wait > 0) setTimeout(send, wait);
    else setImmediate(send);
  }

  private send(message: ToProjectorThread): void {
    this.worker?.postMessage(message);
  }

  private call<T>(message: { op: 'status' } | { op: 'rebuild'; name: string }, timeoutMs: number): Promise<T> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error(this.lastError?.message ?? 'the projector thread is not running'));
    const id = this.nextCall++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new Error(`the projector thread did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.calls.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const call: ToProjectorThread = { t: 'call', id, ...message };
      worker.postMessage(call);
    });
  }

  checkpointOf(name: string): number | undefined {
    const m = this.mirror.get(name);
    return m && m.checkpoint >= 0 ? m.checkpoint : undefined;
  }

  async waitFor(name: string, position: number, timeoutMs: number): Promise<boolean> {
    if (!ALL_PROJECTIONS.some((p) => p.name === name)) throw new Error(`unknown projection ${name}`);
    return this.waiters.waitFor(
      position, timeoutMs, () => this.checkpointOf(name) ?? 0, () => this.mirror.get(name)?.state === 'failed' || this.stopping,
    );
  }

  /** The thread's full status; if it does not answer (down, starting again, stuck), the last progress it sent. */
  async status(): Promise<ProjectionStatus[]> {
    try {
      return await this.call<StatusReply>({ op: 'status' }, this.options.callTimeoutMs ?? 2000);
    } catch (error) {
      const reason = { message: error instanceof Error ? error.message : String(error), position: 0, eventType: '' };
      return ALL_PROJECTIONS.map((p) => {
        const m = this.mirror.get(p.name);
        return {
          name: p.name,
          version: p.version,
          checkpoint: Math.max(0, m?.checkpoint ?? 0),
          status: this.worker ? (m?.state ?? 'starting') : this.stopping ? 'stopped' : 'failed',
          lastError: this.lastError ?? reason,
          eventsApplied: 0,
          serving: { version: m?.version ?? p.version, generation: m?.generation ?? 0 },
          rebuild: null,
        };
      });
    }
  }

  rebuild(name: string): Promise<RebuildReply> {
    return this.call<RebuildReply>({ op: 'rebuild', name }, 30_000);
  }

  /**
   * Ends the thread at once, as a crash would (a batch stuck on a store that does not answer, say): it is started
   * again from the checkpoints after the restart delay, like after any other exit.
   */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Asks the thread to stop between batches and close its connections; ends it after a grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    this.wake();
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.send({ t: 'stop' });
    const grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    await exited;
    clearTimeout(grace);
  }
}

import { checkpointName, physicalCollection, type DocumentChange, type ProjectedEvent, type Projection } from '../projection/projection';
import type { Doc, DocumentWrite, ReadModelStore } from '../store/read-model-store.port';
import type { EventFeed } from './event-feed';

export type ProjectionState = 'starting' | 'catching-up' | 'live' | 'failed' | 'stopped';

export interface ProjectionStatus {
  readonly name: string;
  readonly version: number;
  /** Every event at or before this position has been applied (or was of no interest). */
  readonly checkpoint: number;
  readonly status: ProjectionState;
  readonly lastError: { readonly message: string; readonly position: number; readonly eventType: string } | null;
  readonly eventsApplied: number;
}

export interface RunnerOptions {
  readonly batchSize?: number;
  /** Fallback poll when no append signal arrives (appends from other processes). */
  readonly idlePollMs?: number;
  readonly logger?: { error(message: unknown, ...rest: unknown[]): void; log(message: unknown, ...rest: unknown[]): void };
  /** Called after each applied batch, for metrics. */
  readonly onBatch?: (projection: string, events: number, durationMs: number) => void;
}

class ProjectionFailure extends Error {
  constructor(readonly event: ProjectedEvent, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

interface Worker {
  readonly projection: Projection;
  checkpoint: number;
  status: ProjectionState;
  lastError: ProjectionStatus['lastError'];
  eventsApplied: number;
  done?: Promise<void>;
}

/**
 * Runs projections against the global log: each from its own checkpoint, catch-up then live, in batches.
 * Documents and the checkpoint of a batch are written by one `applyBatch`; documents carry the position of the last
 * event applied to them, so a batch replayed after a crash is skipped per document. A projection whose event throws
 * stops alone, with the error and position in its status; the others go on.
 */
export class ProjectionRunner {
  private readonly workers: Worker[];
  private readonly batchSize: number;
  private readonly idlePollMs: number;
  private stopped = false;
  /** Counts append signals, so a signal that arrives while a worker is reading is not lost. */
  private appendSeq = 0;
  private wakers = new Set<() => void>();
  private positionWaiters = new Set<() => void>();
  private subscription: (AsyncIterable<ProjectedEvent> & { close(): Promise<void> }) | undefined;
  private subscriptionDone: Promise<void> | undefined;

  constructor(
    private readonly feed: EventFeed,
    private readonly store: ReadModelStore,
    projections: readonly Projection[],
    private readonly options: RunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.idlePollMs = options.idlePollMs ?? 1000;
    this.workers = projections.map((projection) => ({
      projection, checkpoint: 0, status: 'starting', lastError: null, eventsApplied: 0,
    }));
  }

  async start(): Promise<void> {
    for (const w of this.workers) {
      for (const c of w.projection.collections) {
        await this.store.ensureCollection(physicalCollection(w.projection, c.name), c.indexes);
      }
      w.checkpoint = (await this.store.getCheckpoint(checkpointName(w.projection)))?.position ?? 0;
    }
    const head = await this.feed.headPosition();
    this.subscription = this.feed.subscribeToAll({ fromPosition: head });
    this.subscriptionDone = this.listen(this.subscription);
    for (const w of this.workers) w.done = this.run(w);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeAll();
    this.notifyPositionWaiters();
    await this.subscription?.close();
    await Promise.allSettled([this.subscriptionDone, ...this.workers.map((w) => w.done)]);
    for (const w of this.workers) if (w.status !== 'failed') w.status = 'stopped';
  }

  status(): ProjectionStatus[] {
    return this.workers.map((w) => ({
      name: w.projection.name,
      version: w.projection.version,
      checkpoint: w.checkpoint,
      status: w.status,
      lastError: w.lastError,
      eventsApplied: w.eventsApplied,
    }));
  }

  checkpointOf(name: string): number | undefined {
    return this.workers.find((w) => w.projection.name === name)?.checkpoint;
  }

  /** Resolves true once the projection has applied `position`, false after `timeoutMs` or when it failed. */
  async waitFor(name: string, position: number, timeoutMs: number): Promise<boolean> {
    const worker = this.workers.find((w) => w.projection.name === name);
    if (!worker) throw new Error(`unknown projection ${name}`);
    const deadline = Date.now() + timeoutMs;
    while (worker.checkpoint < position) {
      const left = deadline - Date.now();
      if (left <= 0 || worker.status === 'failed' || this.stopped) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.positionWaiters.add(done);
      });
    }
    return true;
  }

  private async listen(subscription: AsyncIterable<ProjectedEvent>): Promise<void> {
    try {
      for await (const _event of subscription) {
        if (this.stopped) return;
        this.wakeAll();
      }
    } catch (error) {
      // Without the live signal the workers still poll; log and carry on.
      if (!this.stopped) this.options.logger?.error({ msg: 'append subscription ended', error: String(error) });
    }
  }

  private wakeAll(): void {
    this.appendSeq += 1;
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }

  private notifyPositionWaiters(): void {
    const waiters = [...this.positionWaiters];
    this.positionWaiters.clear();
    for (const w of waiters) w();
  }

  private idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.idlePollMs);
      const wakers = this.wakers;
      function done(): void {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });
  }

  private async run(w: Worker): Promise<void> {
    w.status = 'catching-up';
    while (!this.stopped) {
      const seenSeq = this.appendSeq;
      try {
        const head = await this.feed.headPosition();
        const page = await this.feed.readAll({ fromPosition: w.checkpoint, maxCount: this.batchSize, eventTypes: w.projection.eventTypes });
        const complete = page.length < this.batchSize;
        // A short page read after `head` means every event up to `head` was scanned, interesting or not.
        const reached = Math.max(page.at(-1)?.position ?? w.checkpoint, complete ? head : 0);
        if (reached > w.checkpoint) {
          const started = Date.now();
          await this.applyPage(w, page, reached);
          this.options.onBatch?.(w.projection.name, page.length, Date.now() - started);
        }
        if (w.lastError && w.lastError.eventType === '') w.lastError = null; // a store error that has passed
        this.notifyPositionWaiters();
        if (complete) {
          w.status = 'live';
          // Only sleep when no append was signalled since this read began (else read again at once).
          if (this.appendSeq === seenSeq && !this.stopped) await this.idle();
        }
      } catch (error) {
        if (error instanceof ProjectionFailure) {
          w.status = 'failed';
          w.lastError = { message: error.message, position: error.event.position, eventType: error.event.type };
          this.options.logger?.error({ msg: 'projection stopped on a failing event', projection: w.projection.name, position: error.event.position, type: error.event.type, error: error.message });
          this.notifyPositionWaiters();
          return;
        }
        // The store is unreachable or similar: retry after a pause, from the same checkpoint.
        w.lastError = { message: error instanceof Error ? error.message : String(error), position: w.checkpoint, eventType: '' };
        this.options.logger?.error({ msg: 'projection batch failed, retrying', projection: w.projection.name, error: w.lastError.message });
        await this.idle();
      }
    }
  }

  private async applyPage(w: Worker, page: readonly ProjectedEvent[], reached: number): Promise<void> {
    const p = w.projection;
    const planned: Array<{ event: ProjectedEvent; changes: DocumentChange[] }> = [];
    let failure: ProjectionFailure | undefined;
    for (const event of page) {
      try {
        planned.push({ event, changes: p.changes(event) });
      } catch (cause) {
        failure = new ProjectionFailure(event, cause);
        break;
      }
    }
    const cache = await this.prefetch(p, planned);
    const dirty = new Map<string, DocumentWrite>();
    let lastApplied = w.checkpoint;
    let applied = 0;
    for (const { event, changes } of planned) {
      const staged = new Map<string, { write: DocumentWrite; doc: Doc | null }>();
      try {
        for (const change of changes) {
          const collection = physicalCollection(p, change.collection);
          const key = `${collection}\u0000${change.id}`;
          const current = staged.has(key) ? staged.get(key)!.doc : (cache.get(key) ?? null);
          if (current && current._position >= event.position) continue;
          const next = change.evolve(current);
          if (current === null && next === null) continue;
          const doc: Doc | null = next === null ? null : { ...next, _id: change.id, _position: event.position };
          staged.set(key, { doc, write: { collection, id: change.id, doc, position: event.position } });
        }
      } catch (cause) {
        failure = new ProjectionFailure(event, cause);
        break;
      }
      for (const [key, { doc, write }] of staged) {
        cache.set(key, doc);
        dirty.set(key, write);
      }
      lastApplied = event.position;
      applied += 1;
    }
    const checkpoint = failure ? lastApplied : reached;
    if (checkpoint > w.checkpoint || dirty.size > 0) {
      await this.store.applyBatch([...dirty.values()], { projection: checkpointName(p), position: checkpoint });
      w.checkpoint = Math.max(w.checkpoint, checkpoint);
      w.eventsApplied += applied;
    }
    if (failure) throw failure;
  }

  private async prefetch(
    p: Projection,
    planned: ReadonlyArray<{ changes: DocumentChange[] }>,
  ): Promise<Map<string, Doc | null>> {
    const idsByCollection = new Map<string, Set<string>>();
    for (const { changes } of planned) {
      for (const c of changes) {
        const collection = physicalCollection(p, c.collection);
        let ids = idsByCollection.get(collection);
        if (!ids) idsByCollection.set(collection, (ids = new Set()));
        ids.add(c.id);
      }
    }
    const cache = new Map<string, Doc | null>();
    for (const [collection, ids] of idsByCollection) {
      const found = await this.store.getMany(collection, [...ids]);
      for (const id of ids) cache.set(`${collection}\u0000${id}`, found.get(id) ?? null);
    }
    return cache;
  }
}

import {
  checkpointName, isDocumentsChange, parseCheckpointName, physicalCollection, readyMarkerName, type Change,
  type DocumentChange, type ProjectedEvent, type Projection,
} from '../projection/projection';
import type { PersonalFieldSelection } from '@crm/event-store';
import { buildsOf } from '../serving/every-build';
import { chooseServing, ServingRegistry, type Serving } from '../serving/serving-registry';
import { FencedOff } from '../store/errors';
import { asDoc, type Doc, type DocumentWrite, type ReadModelStore } from '../store/read-model-store.port';
import { CarriedDocuments, DEFAULT_CARRY_LIMITS, type CarryLimits } from './carried-documents';
import type { EventFeed } from './event-feed';
import { PositionWaiters } from './position-waiters';
import { ResilientSubscription, type ResubscribeOptions } from './resilient-subscription';
import { SharedLogReader } from './shared-log-reader';
import { tracedBatch } from './projection-tracing';

/**
 * `paused`: a store (event log or read models) is unreachable; the worker retries from its checkpoint with a capped
 * backoff and goes on by itself when the store answers. `failed` is for an event the projection cannot apply.
 */
export type ProjectionState = 'starting' | 'catching-up' | 'live' | 'paused' | 'failed' | 'stopped';

export interface ProjectionStatus {
  readonly name: string;
  readonly version: number;
  /** Every event at or before this position has been applied (or was of no interest), and committed. */
  readonly checkpoint: number;
  readonly status: ProjectionState;
  readonly lastError: { readonly message: string; readonly position: number; readonly eventType: string } | null;
  readonly eventsApplied: number;
  /** The build that serves queries: code version and generation (a rebuild is generation + 1). */
  readonly serving?: Serving;
  /** A build running beside the serving one (rebuild, or a new code version catching up). */
  readonly rebuild?: { readonly version: number; readonly generation: number; readonly checkpoint: number; readonly status: ProjectionState } | null;
}

export interface RunnerOptions {
  readonly batchSize?: number;
  /**
   * Events per batch of a build running beside a serving one (rebuild, new code version): smaller, because the
   * runner applies one batch at a time and the live projections wait for it (default min(batchSize, 1000)).
   */
  readonly rebuildBatchSize?: number;
  /** Fallback poll when no append signal arrives (appends from other processes). */
  readonly idlePollMs?: number;
  /**
   * Live tail: an append after a quiet spell wakes the projections at once; under a stream of appends they are woken
   * at most once per this many ms, so one wake applies every append since the last as one batch per projection
   * instead of a batch each (default 0: every append wakes them).
   */
  readonly liveCoalesceMs?: number;
  readonly logger?: { error(message: unknown, ...rest: unknown[]): void; log(message: unknown, ...rest: unknown[]): void };
  /** Called after each applied batch, for metrics. */
  readonly onBatch?: (projection: string, events: number, durationMs: number) => void;
  /** How long a replaced build is kept after the switch, for queries still reading it (other processes refresh). */
  readonly dropDelayMs?: number;
  /** Called whenever a checkpoint, a status or the serving build may have changed (where position waiters wake). */
  readonly onProgress?: () => void;
  /** Backoff of a worker whose batch failed on a store error (100 ms doubling to 5 s by default, like resubscribe). */
  readonly storeRetry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** Backoff of re-opening the live subscription after the store dropped it (100 ms doubling to 5 s by default). */
  readonly resubscribe?: ResubscribeOptions;
  /** Called each time the live subscription is re-opened, with why it ended (for metrics). */
  readonly onSubscriptionRestart?: (reason: string) => void;
  /**
   * A write of `projection` was refused because a newer lease holder wrote it (FencedOff): its workers have stopped
   * on this replica. The lease manager then gives the projection up (libs/read-models/src/leases/lease-manager.ts).
   */
  readonly onFencedOff?: (projection: string) => void;
  /**
   * What a build that serves no queries yet may carry in memory from one page to the next while it catches up, instead
   * of committing every page (see CarriedDocuments; default DEFAULT_CARRY_LIMITS).
   */
  readonly carry?: CarryLimits;
}

/**
 * What the API needs from the projections, wherever they run: the runner itself (in the API's thread) or a proxy to
 * a runner in a worker thread. Queries read the build `registry` names; `checkpointOf` is what that build reflects.
 */
export interface ProjectionControl {
  readonly registry: ServingRegistry;
  status(): readonly ProjectionStatus[] | Promise<readonly ProjectionStatus[]>;
  checkpointOf(name: string): number | undefined;
  waitFor(name: string, position: number, timeoutMs: number): Promise<boolean>;
  rebuild(name: string): Promise<{ generation: number; alreadyRunning: boolean }>;
}

class ProjectionFailure extends Error {
  constructor(readonly event: ProjectedEvent, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

interface Worker {
  readonly projection: Projection;
  readonly generation: number;
  readonly types: ReadonlySet<string>;
  /** Serving builds answer queries; a rebuilding one switches in once it has caught up (blue/green). */
  role: 'serving' | 'rebuilding';
  ready: boolean;
  retired: boolean;
  /** Committed: documents and checkpoint written together. */
  checkpoint: number;
  /** Read and applied up to here (>= checkpoint): what lies between is carried, not committed yet. */
  cursor: number;
  carried: CarriedDocuments | null;
  status: ProjectionState;
  lastError: ProjectionStatus['lastError'];
  eventsApplied: number;
  /** A build that is not ready yet writes without its secondary indexes: they are created when it catches up. */
  indexesPending: boolean;
  /** Fencing token of this replica's lease on the projection, carried by every write (undefined: not leased). */
  readonly fence: number | undefined;
  done?: Promise<void>;
}

const NOTHING: PersonalFieldSelection = Object.freeze({});

/**
 * The personal fields the plaintext projections of a runner read, per event type: the union of their `opens`;
 * undefined (open every field) when one of them does not say; NOTHING when none reads any.
 */
function openedFields(projections: readonly Projection[]): PersonalFieldSelection | undefined {
  const union = new Map<string, Set<string>>();
  for (const p of projections) {
    if (p.sealed) continue;
    if (!p.opens) return undefined;
    for (const [type, paths] of Object.entries(p.opens)) {
      const set = union.get(type) ?? new Set<string>();
      paths.forEach((path) => set.add(path));
      union.set(type, set);
    }
  }
  const entries = [...union].filter(([, paths]) => paths.size > 0);
  return entries.length === 0 ? NOTHING : Object.fromEntries(entries.map(([type, paths]) => [type, [...paths].sort()]));
}

/**
 * Runs projections against the global log: each from its own checkpoint, catch-up then live, in batches.
 * Documents and the checkpoint of a batch are written by one `applyBatch`; documents carry the position of the last
 * event applied to them, so a batch replayed after a crash is skipped per document. A projection whose event throws
 * stops alone, with the error and position in its status; the others go on.
 */
export class ProjectionRunner implements ProjectionControl {
  private workers: Worker[] = [];
  private readonly projections: readonly Projection[];
  /** Which build serves each projection; shared with the API's serving store in the embedded process. */
  readonly registry: ServingRegistry;
  /** Checkpoints of older code versions that still serve until the current version is ready. */
  private readonly frozen = new Map<string, number>();
  private readonly dropTimers = new Set<NodeJS.Timeout>();
  private readonly reader: SharedLogReader;
  private readonly readsSealed: boolean;
  /** The personal fields the runner's projections read in clear (undefined: all of them; NOTHING: none). */
  private readonly opens: PersonalFieldSelection | undefined;
  private readonly opened = new WeakMap<ProjectedEvent, { readonly batch: Promise<ProjectedEvent[]>; readonly index: number }>();
  private readonly batchSize: number;
  private readonly rebuildBatchSize: number;
  private readonly idlePollMs: number;
  private readonly liveCoalesceMs: number;
  private readonly carryLimits: CarryLimits;
  private stopped = false;
  /** Counts the wakes delivered, so a wake that arrives while a worker is reading is not lost. */
  private appendSeq = 0;
  /** A coalesced wake due later (see wakeIdle), and when the last wake was delivered. */
  private wakeTimer: NodeJS.Timeout | undefined;
  private lastWakeAt = Number.NEGATIVE_INFINITY;
  /** The log's head as read for the workers of one wake (see headForWake). */
  private headRead: Promise<number> | undefined;
  private wakers = new Set<() => void>();
  /** Workers waiting out a store error's backoff: woken by a stop, not by appends (an outage is not hammered per append). */
  private backoffWakers = new Set<() => void>();
  private readonly positionWaiters = new PositionWaiters();
  /** Wakes the workers on every append; re-opened from the last position seen when the store drops it. */
  private subscription: ResilientSubscription | undefined;
  /** Checkpoint-only moves waiting for the shared write (see moveCheckpoint). */
  private readonly pendingMoves = new Map<string, { position: number; fence: number | undefined }>();
  private movesWritten: Promise<void> | undefined;
  /** Resolves when the batch being applied is done (see oneAtATime). */
  private turn: Promise<void> = Promise.resolve();
  /**
   * The projections this runner runs, with the fencing token of its lease on each (undefined: unleased). All of them
   * in the embedded mode; with projector replicas, those whose lease this replica holds (see LeaseManager).
   */
  private readonly active = new Map<string, number | undefined>();

  constructor(
    private readonly feed: EventFeed,
    private readonly store: ReadModelStore,
    projections: readonly Projection[],
    private readonly options: RunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.rebuildBatchSize = Math.max(1, options.rebuildBatchSize ?? Math.min(this.batchSize, 1000));
    this.idlePollMs = options.idlePollMs ?? 1000;
    this.liveCoalesceMs = Math.max(0, options.liveCoalesceMs ?? 0);
    this.carryLimits = options.carry ?? DEFAULT_CARRY_LIMITS;
    this.projections = projections;
    this.registry = new ServingRegistry(store, projections);
    const types = new Set(projections.flatMap((p) => p.eventTypes));
    // Sealed reads when the feed can open them again, for the projections that need personal data in clear, and there
    // is one that keeps them sealed or reads only some of them (`opens`): the others stay sealed.
    this.opens = openedFields(projections);
    this.readsSealed = typeof feed.openSealed === 'function' && projections.some((p) => p.sealed || p.opens !== undefined);
    // The log's text of each event's data only for a runner of sealed projections alone (the timeline rebuilt by
    // itself, or in a projector thread of its own): they keep their data as the log has it and store the text. Beside
    // the others the timeline is the slowest reader, the shared window holds up to 20,000 events ahead of it, and their
    // texts took the all-together build at 1M past its 400 MB bound (bench/README.md, projection-rebuild).
    const dataJson = projections.length > 0 && projections.every((p) => p.sealed);
    this.reader = new SharedLogReader(
      feed, Math.max(this.batchSize, 2000), Math.max(20_000, this.batchSize * 4), types, this.readsSealed, () => this.readerPositions(), dataJson,
    );
  }

  /**
   * A sealed page as a projection gets it: as it is for a sealed projection, else opened, each event once however many
   * projections read it (the window is shared, and so is this memo; it goes with the events). Workers interleave at
   * every await, so the memo holds the opening in flight, not only its result.
   */
  private async eventsFor(w: Worker, page: ProjectedEvent[]): Promise<ProjectedEvent[]> {
    const openSealed = this.feed.openSealed?.bind(this.feed);
    if (!this.readsSealed || w.projection.sealed || page.length === 0 || !openSealed || this.opens === NOTHING) return page;
    const missing = page.filter((e) => !this.opened.has(e));
    if (missing.length > 0) {
      const batch = openSealed(missing, this.opens);
      missing.forEach((e, index) => this.opened.set(e, { batch, index }));
      // A failed opening (key store unreachable) is forgotten, so the worker's retry opens the events again.
      batch.catch(() => missing.forEach((e) => this.opened.delete(e)));
    }
    const results = new Map<Promise<ProjectedEvent[]>, ProjectedEvent[]>();
    for (const e of page) {
      const memo = this.opened.get(e);
      if (memo && !results.has(memo.batch)) results.set(memo.batch, await memo.batch);
    }
    return page.map((e) => {
      const memo = this.opened.get(e);
      return (memo && results.get(memo.batch)?.[memo.index]) ?? e;
    });
  }

  /**
   * For each projection: the newest ready build of the current code version serves (generation 0 on a first start);
   * an unfinished newer build (a rebuild interrupted by a crash) resumes beside it; a new code version builds beside
   * the older version's data, which keeps serving, frozen, until the new one is ready.
   */
  async start(names: readonly string[] | 'all' = 'all'): Promise<void> {
    for (const p of this.projections) if (names === 'all' || names.includes(p.name)) await this.startProjection(p.name);
    const head = await this.feed.headPosition();
    this.subscription = new ResilientSubscription((fromPosition) => this.feed.subscribeToAll({ fromPosition }), head, () => this.wakeIdle(), {
      ...this.options.resubscribe,
      logger: this.options.logger,
      onRestart: this.options.onSubscriptionRestart,
    });
    this.subscription.start();
  }

  /**
   * Starts running one projection (a lease taken: `fence` is its token, carried by every write). Nothing when it
   * runs already.
   */
  async startProjection(name: string, fence?: number): Promise<void> {
    const p = this.projections.find((x) => x.name === name);
    if (!p) throw new Error(`unknown projection ${name}`);
    if (this.stopped || this.active.has(name)) return;
    this.active.set(name, fence);
    const ready = (await this.store.listCheckpoints(`ready:${p.name}@v`)).map((c) => parseCheckpointName(p.name, c.projection)).filter((x): x is Serving => x !== null);
    const builds = (await this.store.listCheckpoints(`${p.name}@v${p.version}`)).map((c) => parseCheckpointName(p.name, c.projection)).filter((x): x is Serving => x !== null && x.version === p.version);
    const serving = chooseServing(p, ready);
    this.registry.set(p.name, serving);
    const keep: Serving[] = [serving];
    if (serving.version === p.version) {
      await this.addWorker(p, serving.generation, 'serving', ready.some((r) => r.version === p.version && r.generation === serving.generation));
      const unfinished = builds.filter((b) => b.generation > serving.generation).sort((a, b) => b.generation - a.generation)[0];
      if (unfinished) {
        keep.push(unfinished);
        await this.addWorker(p, unfinished.generation, 'rebuilding', false);
      }
    } else {
      this.frozen.set(p.name, (await this.store.getCheckpoint(checkpointName(p, serving.generation, serving.version)))?.position ?? 0);
      const resume = builds.sort((a, b) => b.generation - a.generation)[0]?.generation ?? 0;
      keep.push({ version: p.version, generation: resume });
      await this.addWorker(p, resume, 'rebuilding', false);
    }
    await this.dropRetiredBuilds(p, keep);
  }

  /**
   * Stops running one projection (its lease lost or given up): its workers stop after the write in flight, which the
   * store refuses anyway if a newer holder has written meanwhile. Resolves when none of them writes any more.
   */
  async stopProjection(name: string): Promise<void> {
    if (!this.active.delete(name)) return;
    this.frozen.delete(name);
    const mine = this.workers.filter((w) => w.projection.name === name);
    for (const w of mine) w.retired = true;
    this.wakeAll();
    await Promise.allSettled(mine.map((w) => w.done ?? Promise.resolve()));
    this.workers = this.workers.filter((w) => !mine.includes(w));
    this.notifyPositionWaiters();
  }

  /** The projections this runner runs now (all of them unless leases share them out among replicas). */
  running(): string[] {
    return [...this.active.keys()];
  }

  /**
   * Blue/green rebuild: builds generation N+1 beside the serving N, which keeps serving; switches when N+1 has caught
   * up with the log, then drops N. A crash before the switch leaves N serving; the rebuild resumes at the next start.
   */
  async rebuild(name: string): Promise<{ generation: number; alreadyRunning: boolean }> {
    const p = this.projections.find((x) => x.name === name);
    if (!p) throw new Error(`unknown projection ${name}`);
    if (!this.active.has(name)) throw new Error(`projection ${name} runs on another projector replica`);
    const running = this.workers.find((w) => w.projection.name === name && w.role === 'rebuilding' && !w.retired);
    if (running) return { generation: running.generation, alreadyRunning: true };
    const known = (await this.store.listCheckpoints(`${p.name}@v${p.version}`)).map((c) => parseCheckpointName(p.name, c.projection)?.generation ?? 0);
    const generation = Math.max(0, ...known, ...this.workers.filter((w) => w.projection.name === name).map((w) => w.generation)) + 1;
    await this.addWorker(p, generation, 'rebuilding', false);
    return { generation, alreadyRunning: false };
  }

  private async addWorker(p: Projection, generation: number, role: Worker['role'], ready: boolean): Promise<void> {
    // Inserting into a table is several times cheaper without its secondary indexes, and building an index once over
    // the finished table is cheaper still: a build that is not ready (first build, rebuild, new code version) gets
    // them when it catches up, before it is marked ready, or as soon as a query-wide change needs them. Unique
    // indexes are constraints, not speed-ups: they are there from the start.
    await this.ensureCollections(p, generation, ready ? 'all' : 'unique');
    const checkpoint = (await this.store.getCheckpoint(checkpointName(p, generation)))?.position ?? 0;
    const w: Worker = {
      projection: p, generation, role, ready, retired: false, types: new Set(p.eventTypes), checkpoint, cursor: checkpoint, carried: null,
      status: 'starting', lastError: null, eventsApplied: 0, indexesPending: !ready, fence: this.active.get(p.name),
    };
    this.workers.push(w);
    w.done = this.run(w);
  }

  private servingWorker(name: string): Worker | undefined {
    return this.workers.find((w) => w.projection.name === name && w.role === 'serving' && !w.retired);
  }

  private async ensureCollections(p: Projection, generation: number, indexes: 'all' | 'unique'): Promise<void> {
    for (const c of p.collections) {
      await this.store.ensureCollection(physicalCollection(p, c.name, generation), indexes === 'all' ? c.indexes : c.indexes.filter((i) => i.unique));
    }
  }

  private async ensureIndexes(w: Worker): Promise<void> {
    if (!w.indexesPending) return;
    await this.ensureCollections(w.projection, w.generation, 'all');
    w.indexesPending = false;
  }

  /** First catch-up of a build: index it, mark it ready; a rebuilding build then takes over from the serving one. */
  private async onCaughtUp(w: Worker): Promise<void> {
    if (w.ready) return;
    const p = w.projection;
    await this.ensureIndexes(w);
    await this.store.applyBatch([], { projection: readyMarkerName(p, w.generation), position: Math.max(1, w.checkpoint), fence: w.fence });
    w.ready = true;
    if (w.role !== 'rebuilding') return;
    const previous = this.registry.servingOf(p);
    const old = this.servingWorker(p.name);
    w.role = 'serving';
    this.registry.set(p.name, { version: p.version, generation: w.generation });
    this.frozen.delete(p.name);
    if (old) old.retired = true;
    this.options.logger?.log({ msg: 'projection switched to new build', projection: p.name, version: p.version, generation: w.generation, from: previous });
    this.notifyPositionWaiters();
    this.wakeAll();
    const timer = setTimeout(() => {
      this.dropTimers.delete(timer);
      // The replaced worker may be finishing a batch: drop its build only once it has stopped writing.
      void Promise.resolve(old?.done).then(() => this.dropBuild(p, previous)).catch((error: unknown) => this.options.logger?.error({ msg: 'dropping the replaced build failed', projection: p.name, error: String(error) }));
    }, this.options.dropDelayMs ?? 10_000);
    timer.unref?.();
    this.dropTimers.add(timer);
  }

  /**
   * Drops every build of `p` other than `keep` (the one that serves and the one being built): builds replaced before a
   * restart whose delayed drop never ran. Nothing serves from them (the registry chooses the newest ready build, and
   * other processes refresh within a second), and no runner advances them, so an erasure after the switch would
   * otherwise have to find them forever.
   */
  private async dropRetiredBuilds(p: Projection, keep: readonly Serving[]): Promise<void> {
    const kept = (b: Serving): boolean => keep.some((k) => k.version === b.version && k.generation === b.generation);
    const names = await this.store.listCollections();
    const retired = new Map<string, Serving>();
    for (const c of p.collections) {
      for (const b of buildsOf(c.name, names)) if (!kept(b)) retired.set(`${b.version}#${b.generation}`, b);
    }
    for (const prefix of [`${p.name}@v`, `ready:${p.name}@v`]) {
      for (const c of await this.store.listCheckpoints(prefix)) {
        const b = parseCheckpointName(p.name, c.projection);
        if (b && !kept(b)) retired.set(`${b.version}#${b.generation}`, b);
      }
    }
    for (const b of retired.values()) {
      this.options.logger?.log({ msg: 'dropping a retired build', projection: p.name, version: b.version, generation: b.generation });
      await this.dropBuild(p, b);
    }
  }

  private async dropBuild(p: Projection, build: Serving): Promise<void> {
    const serving = this.registry.servingOf(p);
    if (serving.version === build.version && serving.generation === build.generation) return;
    for (const c of p.collections) await this.store.dropCollection(physicalCollection(p, c.name, build.generation, build.version));
    await this.store.deleteCheckpoint(checkpointName(p, build.generation, build.version));
    await this.store.deleteCheckpoint(readyMarkerName(p, build.generation, build.version));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // A coalesced wake still pending is not waited for: wakeAll below wakes every worker, which sees `stopped` and
    // ends; whatever it had not applied stays after its checkpoint and is applied at the next start.
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    for (const t of this.dropTimers) clearTimeout(t);
    this.dropTimers.clear();
    this.wakeAll();
    this.notifyPositionWaiters();
    await this.subscription?.close();
    await Promise.allSettled(this.workers.map((w) => w.done ?? Promise.resolve()));
    for (const w of this.workers) if (w.status !== 'failed') w.status = 'stopped';
  }

  /** One entry per projection this runner runs: the serving build, and the build running beside it if any. */
  status(): ProjectionStatus[] {
    return this.projections.filter((p) => this.active.has(p.name)).map((p) => {
      const serving = this.servingWorker(p.name);
      const beside = this.workers.find((w) => w.projection.name === p.name && w.role === 'rebuilding' && !w.retired);
      const frozen = this.frozen.get(p.name);
      return {
        name: p.name,
        version: p.version,
        checkpoint: serving?.checkpoint ?? frozen ?? 0,
        status: serving?.status ?? (frozen !== undefined ? 'catching-up' : 'starting'),
        lastError: serving?.lastError ?? beside?.lastError ?? null,
        eventsApplied: serving?.eventsApplied ?? 0,
        serving: this.registry.servingOf(p),
        rebuild: beside ? { version: p.version, generation: beside.generation, checkpoint: beside.checkpoint, status: beside.status } : null,
      };
    });
  }

  /** The checkpoint of the build that serves queries (a frozen older version's while a new version catches up). */
  checkpointOf(name: string): number | undefined {
    const serving = this.servingWorker(name);
    if (serving) return serving.checkpoint;
    return this.frozen.get(name);
  }

  /** Resolves true once the projection has applied `position`, false after `timeoutMs` or when it failed. */
  async waitFor(name: string, position: number, timeoutMs: number): Promise<boolean> {
    if (!this.projections.some((p) => p.name === name)) throw new Error(`unknown projection ${name}`);
    return this.positionWaiters.waitFor(
      position, timeoutMs, () => this.checkpointOf(name) ?? 0, () => this.servingWorker(name)?.status === 'failed' || this.stopped,
    );
  }

  /**
   * An append. After a quiet spell the idle workers read again at once; while appends keep coming, at most once per
   * `liveCoalesceMs`: the appends in between wait for the wake already due and are applied with it in one batch per
   * projection (each wake costs every projection a head read, a window read, a transaction or a checkpoint move and
   * a progress report, whether it brings one event or fifty). The delay is bounded by `liveCoalesceMs`.
   */
  private wakeIdle(): void {
    if (this.wakeTimer || this.stopped) return;
    const wait = this.lastWakeAt + this.liveCoalesceMs - performance.now();
    if (this.liveCoalesceMs <= 0 || wait <= 0) return this.wakeNow();
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeNow();
    }, wait);
  }

  private wakeNow(): void {
    this.lastWakeAt = performance.now();
    this.appendSeq += 1;
    this.headRead = undefined;
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }

  /** A stop or a switch: every waiting worker, also those backing off, looks at its state again (not coalesced). */
  private wakeAll(): void {
    this.wakeNow();
    this.reader.wakeWaiting();
    const backingOff = [...this.backoffWakers];
    this.backoffWakers.clear();
    for (const wake of backingOff) wake();
  }

  private notifyPositionWaiters(): void {
    this.positionWaiters.wakeAll();
    this.options.onProgress?.();
  }

  private idle(): Promise<void> {
    return this.pause(this.idlePollMs, this.wakers);
  }

  /** Sleeps `ms`, or less when woken through `wakers` (appends and stops for `wakers`, stops for `backoffWakers`). */
  private pause(ms: number, wakers: Set<() => void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
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
    const firstRetryMs = this.options.storeRetry?.initialDelayMs ?? 100;
    const maxRetryMs = this.options.storeRetry?.maxDelayMs ?? 5_000;
    let retryMs = firstRetryMs;
    while (!this.stopped && !w.retired) {
      const seenSeq = this.appendSeq;
      try {
        const complete = await this.step(w);
        if (w.lastError && w.lastError.eventType === '') w.lastError = null; // a store error that has passed
        if (w.status === 'paused') {
          w.status = 'catching-up';
          retryMs = firstRetryMs;
          this.options.logger?.log({ msg: 'projection resumed after a store error', projection: w.projection.name, checkpoint: w.checkpoint });
        }
        if (complete) w.status = 'live';
        this.notifyPositionWaiters();
        if (complete && !w.ready) await this.onCaughtUp(w);
        // The SQLite driver is synchronous: without a turn of the event loop between batches a catch-up would starve
        // queries (and the garbage collector) until it ends.
        await new Promise<void>((resolve) => setImmediate(resolve));
        // Only sleep when no wake was delivered since this read began (else read again at once). An append whose
        // coalesced wake is still due is not a reason to read now: that wake comes within liveCoalesceMs.
        if (complete && this.appendSeq === seenSeq && !this.stopped) await this.idle();
      } catch (error) {
        this.dropCarried(w);
        if (error instanceof FencedOff) {
          // Another replica holds the projection now (this one paused past its lease): stop here, leave it to them.
          w.status = 'stopped';
          w.lastError = { message: error.message, position: w.checkpoint, eventType: '' };
          this.options.logger?.error({ msg: 'projection fenced off by a newer lease holder, stopping it here', projection: w.projection.name, fence: w.fence });
          this.notifyPositionWaiters();
          this.options.onFencedOff?.(w.projection.name);
          return;
        }
        if (error instanceof ProjectionFailure) {
          w.status = 'failed';
          w.lastError = { message: error.message, position: error.event.position, eventType: error.event.type };
          this.options.logger?.error({ msg: 'projection stopped on a failing event', projection: w.projection.name, position: error.event.position, type: error.event.type, error: error.message });
          this.notifyPositionWaiters();
          return;
        }
        // Not the projection's fault (evolve's errors are ProjectionFailure above): the event log or the read-model
        // store is unreachable or similar. Transient, never poison: pause, retry from the same checkpoint with a
        // capped backoff (an outage is not hammered), and go on by itself when the store answers again.
        // A worker stopped meanwhile (lease lost in the same outage) must not sleep out its backoff before it ends.
        if (this.stopped || w.retired) return;
        w.status = 'paused';
        w.lastError = { message: error instanceof Error ? error.message : String(error), position: w.checkpoint, eventType: '' };
        this.options.logger?.error({ msg: 'projection paused on a store error, retrying', projection: w.projection.name, error: w.lastError.message, retryInMs: retryMs });
        this.notifyPositionWaiters();
        await this.pause(retryMs, this.backoffWakers);
        retryMs = Math.min(maxRetryMs, retryMs * 2);
      }
    }
    await this.commitCarried(w);
  }

  /** A stopped worker commits what it carries (else its next start would apply it again); a refused write loses only that. */
  private async commitCarried(w: Worker): Promise<void> {
    const carried = w.carried;
    if (!carried) return;
    try {
      await this.commit(w, carried, w.cursor);
    } catch (error) {
      this.options.logger?.error({ msg: 'a stopped build could not commit what it carried; it applies it again at its next start', projection: w.projection.name, error: String(error) });
    }
    this.dropCarried(w);
  }

  /** Writes the carry's unsaved documents with the checkpoint at `position`, and counts its events as applied. */
  private async commit(w: Worker, carried: CarriedDocuments, position: number): Promise<void> {
    await this.store.applyBatch([...carried.unsaved.values()], { projection: checkpointName(w.projection, w.generation), position, fence: w.fence });
    w.checkpoint = Math.max(w.checkpoint, position);
    w.cursor = Math.max(w.cursor, w.checkpoint);
    w.eventsApplied += carried.applied;
    carried.applied = 0;
    carried.unsaved.clear();
  }

  /** Forgets the carried documents: the worker reads on from its checkpoint. */
  private dropCarried(w: Worker): void {
    w.carried = null;
    w.cursor = w.checkpoint;
  }

  /**
   * Reads the worker's next page and applies it; whether the log was scanned to the head. A method of its own so that
   * nothing of the page outlives it: the page is captured by the closures below, so it lives in this call's context;
   * had it been in the run loop's, it stayed reachable across that loop's turn of the event loop, where V8's scavenges
   * run. Each page (~1,000 events, ~3 MB) was then copied, promoted, and collected by a mark-compact every few pages
   * (docs/decisions.md, "A page held across the turn of the event loop").
   */
  private async step(w: Worker): Promise<boolean> {
    const head = await this.headForWake();
    const batchSize = Math.min(w.role === 'rebuilding' ? this.rebuildBatchSize : this.batchSize, w.projection.maxBatchSize ?? Number.POSITIVE_INFINITY);
    const slice = await this.reader.read(w.cursor, batchSize, w.types, head);
    const { scannedTo } = slice;
    const page = await this.eventsFor(w, slice.events);
    // Every event up to `scannedTo` was looked at, interesting or not: the checkpoint may move there.
    const reached = Math.max(page.at(-1)?.position ?? w.cursor, scannedTo);
    const complete = scannedTo >= head;
    if (reached > w.cursor || (complete && w.carried)) {
      const started = Date.now();
      if (page.length === 0 && !w.carried) await this.moveCheckpoint(w, reached);
      else await tracedBatch(w.projection.name, w.generation, page, () => this.oneAtATime(() => this.applyPage(w, page, reached, complete)));
      this.options.onBatch?.(w.projection.name, page.length, Date.now() - started);
      this.releaseWindow();
    }
    return complete;
  }

  /**
   * One head read for all the workers a wake sets going in the same turn of the event loop, instead of one each (ten
   * projections: ten queries per wake for the same answer). Safe to share: an append signalled after this read
   * delivers a wake, which forgets it and moves `appendSeq`, so every worker that used it reads again.
   */
  private headForWake(): Promise<number> {
    if (this.headRead) return this.headRead;
    const read = this.feed.headPosition();
    this.headRead = read;
    const forget = (): void => {
      if (this.headRead === read) this.headRead = undefined;
    };
    // Forgotten after this turn (a worker looping on a catch-up reads afresh), and at once if it failed.
    setImmediate(forget);
    read.catch(forget);
    return read;
  }

  /** The shared window keeps only what the slowest running worker in it has not read yet. */
  private releaseWindow(): void {
    this.reader.release();
  }

  /**
   * Where the workers that read on stand, for the shared window (which keeps them in step). A failed worker, or one
   * backing off from a store error, must not hold the others: it reads the log on its own when it goes on.
   */
  private *readerPositions(): Iterable<number> {
    if (this.stopped) return;
    for (const w of this.workers) {
      if (!w.retired && w.status !== 'failed' && w.status !== 'paused' && w.status !== 'stopped') yield w.cursor;
    }
  }

  /**
   * Runs one worker's batch at a time, and the next one in a later turn of the event loop. The SQLite driver is
   * synchronous: nine projections woken by one append would otherwise apply their batches back to back in one turn
   * (microtasks), and an HTTP request arriving meanwhile would wait for all nine. This way it waits for one at most.
   */
  private async oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.turn;
    let release!: () => void;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await work();
    } finally {
      setImmediate(release);
    }
  }

  /**
   * A worker that found nothing of its types only moves its checkpoint. Live, an append wakes every projection and
   * most have nothing to do: their moves of the same turn of the event loop share one write instead of one each.
   */
  private moveCheckpoint(w: Worker, position: number): Promise<void> {
    const name = checkpointName(w.projection, w.generation);
    this.pendingMoves.set(name, { position, fence: w.fence });
    this.movesWritten ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const moves = [...this.pendingMoves].map(([projection, at]) => ({ projection, ...at }));
      this.pendingMoves.clear();
      this.movesWritten = undefined;
      return this.store.saveCheckpoints(moves);
    });
    const moved = (): void => {
      w.checkpoint = Math.max(w.checkpoint, position);
      w.cursor = Math.max(w.cursor, w.checkpoint);
    };
    // The shared write refuses only the fenced-off checkpoints among its moves: the others' were written.
    return this.movesWritten.then(moved, (error: unknown) => {
      if (error instanceof FencedOff && !error.projections.includes(name)) return moved();
      throw error;
    });
  }

  /**
   * Applies a page to the documents it changes and commits them with the checkpoint (`reached`), or carries them on to
   * the next page (a build that serves no queries yet, whose page read documents, within the carry's limits; never
   * the page that reaches the head, nor one that failed).
   */
  private async applyPage(w: Worker, page: readonly ProjectedEvent[], reached: number, complete: boolean): Promise<void> {
    const p = w.projection;
    const planned: Array<{ event: ProjectedEvent; changes: Change[] }> = [];
    let failure: ProjectionFailure | undefined;
    for (const event of page) {
      try {
        planned.push({ event, changes: p.changes(event) });
      } catch (cause) {
        failure = new ProjectionFailure(event, cause);
        break;
      }
    }
    const carried = w.carried ?? new CarriedDocuments(performance.now());
    w.carried = null;
    const cache = carried.docs;
    // A carry goes on through a page that reads nothing (none of its events were of this build's types).
    let readsDocuments = cache.size > 0;
    await this.prefetch(p, w.generation, planned, cache);
    const dirty = carried.unsaved;
    let lastApplied = w.cursor;
    // Commits what this batch applied so far, so that a query over the store sees it.
    const flush = async (): Promise<void> => {
      if (dirty.size === 0 && lastApplied <= w.checkpoint) return;
      await this.commit(w, carried, lastApplied);
    };
    for (const { event, changes: planned_ } of planned) {
      const staged = new Map<string, { write: DocumentWrite; doc: Doc | null }>();
      try {
        const changes: DocumentChange[] = [];
        for (const change of planned_) {
          if (!isDocumentsChange(change)) {
            changes.push(change);
            continue;
          }
          await flush();
          await this.ensureIndexes(w);
          readsDocuments = true;
          const collection = physicalCollection(p, change.collection, w.generation);
          for (const doc of await this.store.find(collection, change.where)) {
            cache.set(`${collection}\u0000${doc._id}`, doc);
            changes.push({ collection: change.collection, id: doc._id, evolve: (current) => (current ? change.evolve(current) : null) });
          }
        }
        for (const change of changes) {
          const collection = physicalCollection(p, change.collection, w.generation);
          const key = `${collection}\u0000${change.id}`;
          const current = staged.has(key) ? staged.get(key)!.doc : (cache.get(key) ?? null);
          if (current && current._position >= event.position) continue;
          if (!change.replaces) readsDocuments = true;
          const read = (change.reads ?? []).map((r) => {
            const readKey = `${physicalCollection(p, r.collection, w.generation)}\u0000${r.id}`;
            return staged.has(readKey) ? staged.get(readKey)!.doc : (cache.get(readKey) ?? null);
          });
          const next = change.evolve(current, read);
          if (current === null && next === null) continue;
          const doc: Doc | null = next === null ? null : asDoc(next, change.id, event.position);
          const json = next !== null && change.json ? change.json(next) : undefined;
          staged.set(key, { doc, write: json === undefined ? { collection, id: change.id, doc, position: event.position } : { collection, id: change.id, doc, position: event.position, json } });
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
      carried.applied += 1;
    }
    const checkpoint = failure ? lastApplied : reached;
    w.cursor = Math.max(w.cursor, checkpoint);
    // A page whose documents were only written (a timeline's entries) gains nothing from being carried: a page of them
    // is no cheaper to write with the next, and would only be held in memory.
    if (!failure && !complete && readsDocuments && !w.ready && !this.stopped && !w.retired && carried.mayGoOn(this.carryLimits, this.carriedByOthers(w), performance.now())) {
      w.carried = carried;
      return;
    }
    if (checkpoint > w.checkpoint || dirty.size > 0) await this.commit(w, carried, checkpoint);
    if (failure) throw failure;
  }

  private carriedByOthers(w: Worker): number {
    let n = 0;
    for (const other of this.workers) if (other !== w && other.carried) n += other.carried.docs.size;
    return n;
  }

  /** Reads into `cache` the documents the planned changes read that it does not hold yet (absent ones as null). */
  private async prefetch(
    p: Projection,
    generation: number,
    planned: ReadonlyArray<{ changes: Change[] }>,
    cache: Map<string, Doc | null>,
  ): Promise<void> {
    const idsByCollection = new Map<string, Set<string>>();
    for (const { changes } of planned) {
      for (const c of changes) {
        if (isDocumentsChange(c)) continue;
        const wanted = c.replaces ? [...(c.reads ?? [])] : [c, ...(c.reads ?? [])];
        for (const { collection: logical, id } of wanted) {
          const collection = physicalCollection(p, logical, generation);
          if (cache.has(`${collection}\u0000${id}`)) continue;
          let ids = idsByCollection.get(collection);
          if (!ids) idsByCollection.set(collection, (ids = new Set()));
          ids.add(id);
        }
      }
    }
    for (const [collection, ids] of idsByCollection) {
      const found = await this.store.getMany(collection, [...ids]);
      for (const id of ids) cache.set(`${collection}\u0000${id}`, found.get(id) ?? null);
    }
  }
}

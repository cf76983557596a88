import { parseCheckpointName, physicalCollection, type Projection } from '../projection/projection';
import type {
  Checkpoint, CheckpointWrite, Doc, DocumentWrite, FindOptions, IndexSpec, Query, ReadModelStore,
} from '../store/read-model-store.port';

export interface Serving {
  readonly version: number;
  readonly generation: number;
}

/**
 * Which build of each projection serves queries. The newest *ready* generation of the current code version serves;
 * while the current version has none ready yet (a new version catching up after a deploy), the newest ready build of
 * an older version keeps serving; with nothing ready at all (first start), generation 0 of the current version serves
 * while it catches up. The runner switches it in-process; other processes refresh it from the store's markers.
 */
export class ServingRegistry {
  private readonly serving = new Map<string, Serving>();
  private readonly byLogical = new Map<string, { projection: Projection; collection: string }>();
  private lastRefresh = 0;

  constructor(
    private readonly store: ReadModelStore,
    private readonly projections: readonly Projection[],
    private readonly refreshMs = 1000,
  ) {
    for (const p of projections) {
      for (const c of p.collections) this.byLogical.set(physicalCollection(p, c.name), { projection: p, collection: c.name });
    }
  }

  async refresh(): Promise<void> {
    for (const p of this.projections) {
      const ready = (await this.store.listCheckpoints(`ready:${p.name}@v`))
        .map((c) => parseCheckpointName(p.name, c.projection))
        .filter((s): s is Serving => s !== null);
      this.serving.set(p.name, chooseServing(p, ready));
    }
    this.lastRefresh = Date.now();
  }

  async refreshIfStale(): Promise<void> {
    if (Date.now() - this.lastRefresh >= this.refreshMs) await this.refresh();
  }

  set(name: string, serving: Serving): void {
    this.serving.set(name, serving);
  }

  servingOf(projection: Pick<Projection, 'name' | 'version'>): Serving {
    return this.serving.get(projection.name) ?? { version: projection.version, generation: 0 };
  }

  /** Logical (`<collection>_v<version>`) → physical name of the build that serves. */
  physical(logical: string): string {
    const target = this.byLogical.get(logical);
    if (!target) return logical;
    const s = this.servingOf(target.projection);
    return physicalCollection(target.projection, target.collection, s.generation, s.version);
  }
}

export function chooseServing(p: Pick<Projection, 'version'>, ready: readonly Serving[]): Serving {
  const newest = (list: readonly Serving[]): Serving | undefined =>
    [...list].sort((a, b) => b.version - a.version || b.generation - a.generation)[0];
  return (
    newest(ready.filter((r) => r.version === p.version)) ??
    newest(ready.filter((r) => r.version < p.version)) ?? { version: p.version, generation: 0 }
  );
}

/** The read side of a ReadModelStore as queries see it: logical collection names resolved to the serving build. */
export class ServingReadModelStore implements ReadModelStore {
  constructor(
    private readonly inner: ReadModelStore,
    private readonly registry: ServingRegistry,
  ) {}

  private async target(collection: string): Promise<string> {
    await this.registry.refreshIfStale();
    return this.registry.physical(collection);
  }

  ensureCollection(collection: string, indexes: readonly IndexSpec[]): Promise<void> {
    return this.inner.ensureCollection(collection, indexes);
  }
  dropCollection(collection: string): Promise<void> {
    return this.inner.dropCollection(collection);
  }
  /** Physical names, as they are: erasure and clean-up work on every build, not on the one that serves. */
  listCollections(): Promise<string[]> {
    return this.inner.listCollections();
  }
  rewrite(collection: string, query: Query, evolve: (doc: Doc) => Readonly<Record<string, unknown>> | null): Promise<number> {
    return this.inner.rewrite(collection, query, evolve);
  }
  async get(collection: string, id: string): Promise<Doc | null> {
    return this.inner.get(await this.target(collection), id);
  }
  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, Doc>> {
    return this.inner.getMany(await this.target(collection), ids);
  }
  async find(collection: string, query: Query, options?: FindOptions): Promise<Doc[]> {
    return this.inner.find(await this.target(collection), query, options);
  }
  async count(collection: string, query: Query): Promise<number> {
    return this.inner.count(await this.target(collection), query);
  }
  applyBatch(writes: readonly DocumentWrite[], checkpoint: CheckpointWrite): Promise<void> {
    return this.inner.applyBatch(writes, checkpoint);
  }
  saveCheckpoints(checkpoints: ReadonlyArray<CheckpointWrite>): Promise<void> {
    return this.inner.saveCheckpoints(checkpoints);
  }
  getCheckpoint(projection: string): Promise<Checkpoint | null> {
    return this.inner.getCheckpoint(projection);
  }
  listCheckpoints(prefix: string): Promise<Checkpoint[]> {
    return this.inner.listCheckpoints(prefix);
  }
  deleteCheckpoint(projection: string): Promise<void> {
    return this.inner.deleteCheckpoint(projection);
  }
  compact(): Promise<boolean> {
    return this.inner.compact();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

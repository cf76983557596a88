/**
 * The read-model store port: named collections of JSON documents, a small Mongo-like query language, and one
 * atomic-enough write primitive for projections (`applyBatch`).
 *
 * Exactly-once application without transactions (DESIGN §6): every document carries `_position`, the global
 * position of the last event applied to it. The runner skips an event for a document whose `_position` is already
 * at or past the event, and `applyBatch` writes a document only if the stored `_position` is lower than the new one.
 * A crash between document writes and the checkpoint therefore replays events that every document either already
 * has (skipped) or has not (applied): never skipped, never applied twice.
 */
export type Scalar = string | number | boolean | null;

export interface Doc {
  readonly _id: string;
  /** Position of the last event applied to this document. */
  readonly _position: number;
  readonly [field: string]: unknown;
}

/**
 * `body` as a document: a copy with `_id` and `_position` set. Not `{ ...body, _id, _position }`: on Node 20's V8 a
 * spread that adds properties the source lacks takes a slow path (the clone's hidden class does not join the usual
 * transitions), ~2.5-4 µs per document against ~0.15 µs for `Object.assign`; a rebuild of the 1M-entry
 * timeline spent 2.5 s in that one spread (docs/decisions.md "Object spreads that add properties").
 */
export function asDoc(body: Readonly<Record<string, unknown>>, id: string, position: number): Doc {
  return Object.assign({}, body, { _id: id, _position: position });
}

/** Equality on a (dotted) field, or operators. All conditions are ANDed. */
export type FieldCondition =
  | Scalar
  | {
      $eq?: Scalar;
      $ne?: Scalar;
      $gt?: string | number;
      $gte?: string | number;
      $lt?: string | number;
      $lte?: string | number;
      $in?: readonly Scalar[];
      $exists?: boolean;
      /** Substring of a string field (case-sensitive: store a normalised copy of what you search). */
      $contains?: string;
    };

export type Query = Readonly<Record<string, FieldCondition>>;

export interface FindOptions {
  /** Fields in order of precedence, 1 ascending, -1 descending. `_id` is always the final tie-breaker. */
  readonly sort?: ReadonlyArray<readonly [field: string, direction: 1 | -1]>;
  readonly limit?: number;
  readonly skip?: number;
}

export interface IndexSpec {
  /** Fields of a compound index, in order. */
  readonly fields: ReadonlyArray<readonly [field: string, direction: 1 | -1]>;
  readonly unique?: boolean;
}

/**
 * The keys an adapter builds an index on: a non-unique index ends with `_id`, because `find` always breaks ties by
 * `_id` and the index can then deliver that order instead of a sort of every match (SQLite's temporary B-tree made
 * the busiest customer's timeline page 876 µs instead of 184 µs at 1M entries). A unique index keeps its fields: `_id`
 * would make it unique whatever they hold.
 */
export function indexKeys(index: IndexSpec): IndexSpec['fields'] {
  return index.unique ? index.fields : [...index.fields, ['_id', 1]];
}

export interface DocumentWrite {
  readonly collection: string;
  readonly id: string;
  /** The new document, or null to delete it. */
  readonly doc: Doc | null;
  /** Position of the last event that produced this write; guards against stale and replayed writes. */
  readonly position: number;
  /** `doc` without `_id`/`_position` as JSON text, when the projection made it: a store of JSON text stores it as is. */
  readonly json?: string;
}

/**
 * A checkpoint write. `fence` is the fencing token of the projector replica's lease on the projection (see
 * libs/read-models/src/leases): the store refuses (FencedOff) a write whose fence is lower than the highest it has
 * recorded for this checkpoint, and the documents of a fenced batch are refused likewise. No fence: no check (the
 * embedded single-process mode, tools).
 */
export interface CheckpointWrite {
  readonly projection: string;
  readonly position: number;
  readonly fence?: number;
}

export interface Checkpoint {
  readonly projection: string;
  /** Position of the last event the projection has fully applied (0: none). */
  readonly position: number;
  readonly updatedAt: string;
  /** Highest fencing token that wrote this checkpoint (0 when never fenced). */
  readonly fence?: number;
}

export interface ReadModelStore {
  ensureCollection(collection: string, indexes: readonly IndexSpec[]): Promise<void>;
  dropCollection(collection: string): Promise<void>;
  /**
   * The collections that exist (at least those holding documents), by name: every build of every projection, serving,
   * building or retired, so an erasure can reach them all and a restart can drop the retired ones.
   */
  listCollections(): Promise<string[]>;
  /**
   * Rewrites the documents matching `query` with `evolve` (null deletes), keeping each one's `_position`. Unlike
   * `applyBatch` it is not a projection step: it masks personal data (erasure) in builds that no runner advances, and
   * in a build a runner is behind on, whose own pass over the erasure event later finds the data masked already. A
   * document written meanwhile (another `_position`) is left to that writer. Returns how many documents it changed
   * (one `evolve` leaves as it was is not written).
   */
  rewrite(collection: string, query: Query, evolve: (doc: Doc) => Readonly<Record<string, unknown>> | null): Promise<number>;
  get(collection: string, id: string): Promise<Doc | null>;
  /** Several documents by id; missing ones are absent from the map. */
  getMany(collection: string, ids: readonly string[]): Promise<Map<string, Doc>>;
  find(collection: string, query: Query, options?: FindOptions): Promise<Doc[]>;
  count(collection: string, query: Query): Promise<number>;
  /**
   * Writes documents (guarded by `_position`) and then the checkpoint. SQLite does both in one transaction; MongoDB
   * writes documents first and the checkpoint last, which the position guard makes safe to replay.
   * With `checkpoint.fence`: raises FencedOff, writing nothing more, when a newer lease holder has written
   * (SQLite: nothing of the batch is written; MongoDB: documents carry `_fence`, and only those a newer holder has
   * not touched may have been written, which the position guard makes harmless).
   */
  applyBatch(writes: readonly DocumentWrite[], checkpoint: CheckpointWrite): Promise<void>;
  /**
   * Moves several checkpoints forward (never back) in one write, with no documents: projections that had nothing to
   * apply in a stretch of the log. One transaction for all instead of one per projection. A fenced-off entry is
   * skipped, the others are written, then FencedOff names the skipped ones.
   */
  saveCheckpoints(checkpoints: ReadonlyArray<CheckpointWrite>): Promise<void>;
  getCheckpoint(projection: string): Promise<Checkpoint | null>;
  /** Checkpoints whose name starts with `prefix`, by name. */
  listCheckpoints(prefix: string): Promise<Checkpoint[]>;
  /** Removes a projection's checkpoint (rebuild from scratch). */
  deleteCheckpoint(projection: string): Promise<void>;
  /**
   * Makes overwritten data unrecoverable from the files (after an erasure): WAL truncated, freed pages zeroed. False
   * when other connections (a projector thread or process writing, a long read) kept it from finishing: try again.
   */
  compact(): Promise<boolean>;
  close(): Promise<void>;
}

export const READ_MODEL_STORE = Symbol('ReadModelStore');

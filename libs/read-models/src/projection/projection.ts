import type { PersonalFieldSelection } from '@crm/event-store';
import type { Doc, IndexSpec, Query } from '../store/read-model-store.port';

/** An event as projections see it: what the log recorded, with the metadata projections may show. */
export interface ProjectedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
  readonly recordedAt: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  /**
   * The log's JSON text of `data` when the feed has it (undefined when `data` is not what the log stored: upcast,
   * opened): a projection that keeps the data as it is stores this text instead of serialising `data` again.
   */
  readonly dataJson?: string;
}

/** A document's fields without the store's `_id`/`_position`, which the runner sets. */
export type DocBody = Readonly<Record<string, unknown>>;

/**
 * What one event does to one document: a pure function of the current document (null when absent) to the next one
 * (null deletes it). The runner loads the document, skips the change when the document already includes the event
 * (`_position >= position`), and writes the result with the event's position.
 */
export interface DocumentChange {
  readonly collection: string;
  readonly id: string;
  /**
   * `read` holds the documents named by `reads`, in that order, as they stand after the earlier events (and the
   * earlier changes of this event): null for an absent one. Every applier passes it when `reads` is set.
   */
  readonly evolve: (current: Doc | null, read?: ReadonlyArray<Doc | null>) => DocBody | null;
  /**
   * Other documents of the projection that `evolve` depends on, e.g. the loyalty policy in force when a purchase is
   * projected (its rates are in the log, so a rebuild values the purchase as the live run did). Only read, never
   * written by this change, and not subject to the `_position` skip of the changed document.
   */
  readonly reads?: ReadonlyArray<{ readonly collection: string; readonly id: string }>;
  /**
   * The event's own document (one timeline entry per event): `evolve` ignores the current document, so the runner
   * does not read it first. A replay is still applied once: the store keeps a stored document whose `_position` is
   * at or past the event's.
   */
  readonly replaces?: true;
  /**
   * The document `evolve` returned, as JSON text that parses to it (without `_id`/`_position`), made cheaper than
   * serialising it field by field: the timeline splices in the log's own text of the event's data. A store that keeps
   * documents as JSON text (SQLite) stores it as it is; the others store the document.
   */
  readonly json?: (body: DocBody) => string;
}

/**
 * What one event does to every document matching a query (e.g. erasure masks all timeline entries of a customer).
 * Rare by design: the runner commits the batch so far, then reads the matching documents from the store.
 */
export interface DocumentsChange {
  readonly collection: string;
  readonly where: Query;
  readonly evolve: (current: Doc) => DocBody | null;
}

export type Change = DocumentChange | DocumentsChange;

export const isDocumentsChange = (c: Change): c is DocumentsChange => 'where' in c;

export interface CollectionSpec {
  readonly name: string;
  readonly indexes: readonly IndexSpec[];
}

export interface Projection {
  readonly name: string;
  /** Bump when the documents' shape or meaning changes: the new version is built beside the old one. */
  readonly version: number;
  readonly eventTypes: readonly string[];
  readonly collections: readonly CollectionSpec[];
  /**
   * The projection gets events with their personal fields as the log stores them (sealed under the key of the
   * customer the event is about) and keeps them so in its documents: every sealed value in a document is sealed for
   * the customer the document names (`customerId`), and queries open a page with one key lookup (apps/api
   * read-side/sealed-fields.ts). Its rebuild decrypts nothing, and an erasure (key destroyed) reaches its documents
   * at once. Such a projection must not compute on a personal field's value (it may be ciphertext).
   */
  readonly sealed?: true;
  /**
   * The personal fields it reads, per event type (paths of PERSONAL_FIELDS in @crm/domain; `{}`: none). The runner
   * opens only these, the union over its projections (each event once), and leaves the others sealed: a rebuild of
   * loyalty no longer decrypts every order line's description. Absent: every personal field of its events is opened.
   * A field read but not listed would reach the projection sealed (ciphertext): projections-replay.spec replays every
   * projection with only its listed fields opened and requires the same documents.
   */
  readonly opens?: PersonalFieldSelection;
  /**
   * At most this many events per batch, whatever the runner's batch size. Large batches pay where a document takes
   * many events (a profile is written once per batch); a projection that writes one document per event gains nothing
   * from them, and its batch's documents outlive V8's young generation (copied, promoted, then collected).
   */
  readonly maxBatchSize?: number;
  changes(event: ProjectedEvent): Change[];
}

/**
 * Physical names carry the code version and the build generation, so a new version or a rebuild (generation g+1) is
 * built beside the one that serves (blue/green). Generation 0 keeps the plain `<collection>_v<version>` name, which is
 * also the *logical* name queries use; the serving registry maps it to whatever generation serves.
 */
export function physicalCollection(
  projection: Pick<Projection, 'version'>,
  collection: string,
  generation = 0,
  version = projection.version,
): string {
  return `${collection}_v${version}${generation > 0 ? `_g${generation}` : ''}`;
}

export function checkpointName(projection: Pick<Projection, 'name' | 'version'>, generation = 0, version = projection.version): string {
  return `${projection.name}@v${version}${generation > 0 ? `#g${generation}` : ''}`;
}

/** Written once a generation has caught up with the log: from then on it may serve. */
export function readyMarkerName(projection: Pick<Projection, 'name' | 'version'>, generation = 0, version = projection.version): string {
  return `ready:${checkpointName(projection, generation, version)}`;
}

/** Parses `<name>@v<version>[#g<generation>]` (optionally `ready:`-prefixed) for the given projection name. */
export function parseCheckpointName(name: string, checkpoint: string): { version: number; generation: number } | null {
  const m = /^(?:ready:)?(.+)@v(\d+)(?:#g(\d+))?$/.exec(checkpoint);
  if (!m || m[1] !== name) return null;
  return { version: Number(m[2]), generation: Number(m[3] ?? 0) };
}

/** Reads the fields a projection needs from an event's metadata, tolerating events written without them. */
export function actorOf(event: ProjectedEvent): { id: string; role: string } | null {
  const actor = event.metadata['actor'] as { id?: unknown; role?: unknown } | undefined;
  return actor && typeof actor.id === 'string' && typeof actor.role === 'string' ? { id: actor.id, role: actor.role } : null;
}

export function occurredAtOf(event: ProjectedEvent): string {
  const at = event.metadata['occurredAt'];
  return typeof at === 'string' ? at : event.recordedAt;
}

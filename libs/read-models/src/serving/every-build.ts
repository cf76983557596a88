import { isDocumentsChange, type ProjectedEvent, type Projection } from '../projection/projection';
import type { Doc, ReadModelStore } from '../store/read-model-store.port';

export interface Build {
  /** Physical collection name, e.g. `timeline_entries_v1_g2`. */
  readonly name: string;
  readonly version: number;
  readonly generation: number;
}

/** The builds (every code version and generation) of one logical collection among the store's collection names. */
export function buildsOf(collection: string, names: readonly string[]): Build[] {
  const pattern = new RegExp(`^${collection}_v(\\d+)(?:_g(\\d+))?$`);
  return names.flatMap((name) => {
    const m = pattern.exec(name);
    return m ? [{ name, version: Number(m[1]), generation: Number(m[2] ?? 0) }] : [];
  });
}

/**
 * Applies what `event` does to existing documents (an erasure's masks) to every build of the projections, serving,
 * building or retired, in place (`ReadModelStore.rewrite`). A runner applies the event only to the builds it
 * advances: a build replaced by a rebuild, or an older code version's, would otherwise keep the personal data it had
 * until it is dropped. Changes that create the event's own document are not applied: no build is advanced by this.
 * Idempotent (masking masked data changes nothing). Returns the number of documents rewritten or deleted.
 */
export async function applyToEveryBuild(store: ReadModelStore, projections: readonly Projection[], event: ProjectedEvent): Promise<number> {
  const names = await store.listCollections();
  let rewritten = 0;
  for (const p of projections) {
    if (!p.eventTypes.includes(event.type)) continue;
    for (const change of p.changes(event)) {
      if (!isDocumentsChange(change) && change.replaces) continue;
      const query = isDocumentsChange(change) ? change.where : { _id: change.id };
      // A build of an older code version may hold documents this code's evolve cannot read: such a document is
      // deleted rather than left with personal data in it (a frozen older build serving a while longer then lacks it).
      const evolve = (doc: Doc): Readonly<Record<string, unknown>> | null => {
        try {
          // Masks need no other document; a change that reads some is not an erasure's and is not applied here.
          if (isDocumentsChange(change)) return change.evolve(doc);
          return change.reads?.length ? doc : change.evolve(doc, []);
        } catch {
          return null;
        }
      };
      for (const build of buildsOf(change.collection, names)) rewritten += await store.rewrite(build.name, query, evolve);
    }
  }
  return rewritten;
}

import { asDoc, type Doc } from '../store/read-model-store.port';
import { isDocumentsChange, type ProjectedEvent, type Projection } from './projection';
import type { Query } from '../store/read-model-store.port';

/** Equality-only matching (what DocumentsChange queries use: `{ customerId: id }`). */
function matches(doc: Doc, where: Query): boolean {
  return Object.entries(where).every(([field, value]) => (typeof value === 'object' && value !== null ? false : doc[field] === value));
}

/**
 * Applies events to a projection entirely in memory, with the runner's rules (skip what a document already has,
 * null deletes). Used for answers "as of" a past point, computed from the log without touching any store.
 */
export function projectInMemory(projection: Projection, events: Iterable<ProjectedEvent>): Map<string, Map<string, Doc>> {
  const collections = new Map<string, Map<string, Doc>>();
  const handled = new Set(projection.eventTypes);
  for (const event of events) {
    if (!handled.has(event.type)) continue;
    for (const planned of projection.changes(event)) {
      let docs = collections.get(planned.collection);
      if (!docs) collections.set(planned.collection, (docs = new Map()));
      const targets = isDocumentsChange(planned)
        ? [...docs.values()].filter((d) => matches(d, planned.where)).map((d) => ({ collection: planned.collection, id: d._id, evolve: (c: Doc | null) => (c ? planned.evolve(c) : null) }))
        : [planned];
      for (const change of targets) {
      const current = docs.get(change.id) ?? null;
      if (current && current._position >= event.position) continue;
      const read = ('reads' in change ? (change.reads ?? []) : []).map((r) => collections.get(r.collection)?.get(r.id) ?? null);
      const next = change.evolve(current, read);
      if (next === null) docs.delete(change.id);
      else docs.set(change.id, asDoc(next, change.id, event.position));
      }
    }
  }
  return collections;
}

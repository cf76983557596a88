import type { Doc } from '../store/read-model-store.port';
import type { ProjectedEvent, Projection } from './projection';

/**
 * Applies events to a projection entirely in memory, with the runner's rules (skip what a document already has,
 * null deletes). Used for answers "as of" a past point, computed from the log without touching any store.
 */
export function projectInMemory(projection: Projection, events: Iterable<ProjectedEvent>): Map<string, Map<string, Doc>> {
  const collections = new Map<string, Map<string, Doc>>();
  const handled = new Set(projection.eventTypes);
  for (const event of events) {
    if (!handled.has(event.type)) continue;
    for (const change of projection.changes(event)) {
      let docs = collections.get(change.collection);
      if (!docs) collections.set(change.collection, (docs = new Map()));
      const current = docs.get(change.id) ?? null;
      if (current && current._position >= event.position) continue;
      const next = change.evolve(current);
      if (next === null) docs.delete(change.id);
      else docs.set(change.id, { ...next, _id: change.id, _position: event.position });
    }
  }
  return collections;
}

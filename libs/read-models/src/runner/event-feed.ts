import type { ProjectedEvent } from '../projection/projection';

/**
 * What the runner needs of the event log. The EventStore port of libs/event-store satisfies it structurally;
 * this library does not import it (read models depend on the domain only).
 */
export interface EventFeed {
  readAll(options: { fromPosition?: number; maxCount?: number; eventTypes?: readonly string[] }): Promise<ProjectedEvent[]>;
  headPosition(): Promise<number>;
  subscribeToAll(options: { fromPosition?: number }): AsyncIterable<ProjectedEvent> & { close(): Promise<void> };
}

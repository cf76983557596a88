import type { PersonalFieldSelection } from '@crm/event-store';
import type { ProjectedEvent } from '../projection/projection';

/**
 * What the runner needs of the event log. The EventStore port of libs/event-store satisfies it structurally;
 * the runner does not depend on that interface (only on the port's PersonalFieldSelection type).
 */
export interface EventFeed {
  /** `sealed`: personal fields as stored (see `openSealed`); a feed without `openSealed` is never asked for it. */
  readAll(options: { fromPosition?: number; maxCount?: number; eventTypes?: readonly string[]; sealed?: boolean; dataJson?: boolean }): Promise<ProjectedEvent[]>;
  /**
   * The events of a sealed read with their personal fields opened (one key lookup for all of them). A feed that has it
   * is read sealed: sealed projections get the events as they are, the others opened (`only`: just these fields, per
   * event type; see `Projection.opens`).
   */
  openSealed?(events: readonly ProjectedEvent[], only?: PersonalFieldSelection): Promise<ProjectedEvent[]>;
  headPosition(): Promise<number>;
  subscribeToAll(options: { fromPosition?: number }): AsyncIterable<ProjectedEvent> & { close(): Promise<void> };
}

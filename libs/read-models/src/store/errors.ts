/** The read-model store cannot be reached (no server selected, network failure); the operation may be retried. */
export class ReadModelStoreUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReadModelStoreUnavailable';
  }
}

/**
 * A write carried a fencing token older than one the store has seen for that projection: another projector replica
 * took the projection's lease over (this one paused past its lease, or lost it). Stops that projection's worker on this
 * replica, never the process; not to be retried.
 */
export class FencedOff extends Error {
  constructor(readonly projections: readonly string[], readonly fence: number) {
    super(`fenced off: a newer lease holder writes ${projections.join(', ')} (this write's fence ${fence})`);
    this.name = 'FencedOff';
  }
}

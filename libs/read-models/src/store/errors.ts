/** The read-model store cannot be reached (no server selected, network failure); the operation may be retried. */
export class ReadModelStoreUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReadModelStoreUnavailable';
  }
}

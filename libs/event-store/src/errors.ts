import type { ExpectedRevision } from './event-store.port';

/** The stream's revision was not what the caller expected. Nothing was appended. */
export class StreamVersionConflict extends Error {
  override readonly name = 'StreamVersionConflict';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** -1 when the stream does not exist; undefined when the store did not say. */
    readonly actual: number | undefined,
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${actual === undefined ? 'unknown' : actual}`);
  }
}

/** The store could not be reached or failed for a reason that is not the caller's. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The store refused an append as larger than it accepts (EventStoreDB's maximum append size, 1 MiB by default, over
 * the events' data, metadata and twice their type names). Nothing was appended; the same append will always be
 * refused, so it is not to be retried.
 */
export class AppendTooLarge extends Error {
  override readonly name = 'AppendTooLarge';
  constructor(
    readonly streamId: string,
    /** The store's limit in bytes, when it said. */
    readonly maxBytes: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`stream ${streamId}: the append exceeds the store's maximum append size${maxBytes === undefined ? '' : ` of ${maxBytes} bytes`}`, options);
  }
}

/**
 * The store refused an append as invalid (EventStoreDB's INVALID_ARGUMENT: a required property missing, an event the
 * server cannot take). Nothing was appended, and the same append will be refused again: not to be retried.
 */
export class InvalidAppend extends Error {
  override readonly name = 'InvalidAppend';
  constructor(readonly streamId: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`stream ${streamId}: the store refused the append: ${reason}`, options);
  }
}

/** An event id that is already in the log (event ids are unique across the store). */
export class DuplicateEventId extends Error {
  override readonly name = 'DuplicateEventId';
  constructor(readonly eventId: string) {
    super(`event id ${eventId} is already in the log`);
  }
}

export function checkExpectedRevision(streamId: string, expected: ExpectedRevision, actual: number): void {
  const ok =
    expected === 'any' ||
    (expected === 'no-stream' && actual === -1) ||
    (expected === 'stream-exists' && actual >= 0) ||
    expected === actual;
  if (!ok) throw new StreamVersionConflict(streamId, expected, actual);
}

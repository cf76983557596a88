import type { EventStore, RecordedEvent } from './event-store.port';

/**
 * The global log forwards from an exclusive position, page by page, as an async iterable: callers stop whenever they
 * like and hold one page at a time (constant memory for any log size).
 */
export async function* readLogForwards(
  store: Pick<EventStore, 'readAll'>,
  options: { fromPosition?: number; eventTypes?: readonly string[]; pageSize?: number } = {},
): AsyncGenerator<RecordedEvent> {
  const pageSize = options.pageSize ?? 1000;
  let checkpoint = options.fromPosition ?? 0;
  for (;;) {
    const page = await store.readAll({ fromPosition: checkpoint, maxCount: pageSize, eventTypes: options.eventTypes });
    for (const e of page) {
      checkpoint = e.position;
      yield e;
    }
    if (page.length < pageSize) return;
  }
}

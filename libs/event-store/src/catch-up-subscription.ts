import type { ReadAllOptions, RecordedEvent, SubscribeOptions, Subscription } from './event-store.port';

/**
 * Wakes waiting subscriptions when an append commits in this process. Appends from other processes
 * are picked up by the poll interval.
 */
export class AppendNotifier {
  private waiters = new Set<() => void>();

  notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  wait(timeoutMs: number): { promise: Promise<void>; cancel: () => void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(wake, timeoutMs);
    timer.unref?.();
    const onWake = (): void => {
      clearTimeout(timer);
      wake();
    };
    this.waiters.add(onWake);
    return {
      promise: promise.then(() => void this.waiters.delete(onWake)),
      cancel: onWake,
    };
  }
}

/**
 * Catch-up subscription over any store that can read the global log forwards: read pages after the
 * checkpoint until the head, then wait for an append (or the poll interval) and read again.
 * Delivery order is the log order, and the checkpoint only moves forwards, so nothing is delivered twice.
 */
export function catchUpSubscription(
  readAll: (options: ReadAllOptions) => Promise<RecordedEvent[]>,
  notifier: AppendNotifier,
  options: SubscribeOptions & { pageSize?: number; pollMs?: number } = {},
): Subscription {
  const pageSize = options.pageSize ?? 1000;
  const pollMs = options.pollMs ?? 250;
  let closed = false;
  let cancelWait: (() => void) | undefined;

  async function* iterate(): AsyncGenerator<RecordedEvent> {
    let checkpoint = options.fromPosition ?? 0;
    while (!closed) {
      const page = await readAll({ fromPosition: checkpoint, maxCount: pageSize, eventTypes: options.eventTypes });
      for (const event of page) {
        if (closed) return;
        checkpoint = event.position;
        yield event;
      }
      if (page.length < pageSize && !closed) {
        const waiting = notifier.wait(pollMs);
        cancelWait = waiting.cancel;
        await waiting.promise;
        cancelWait = undefined;
      }
    }
  }

  const iterator = iterate();
  return {
    [Symbol.asyncIterator]: () => iterator,
    close: async () => {
      closed = true;
      cancelWait?.();
      await iterator.return(undefined);
    },
  };
}

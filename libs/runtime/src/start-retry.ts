import { StoreUnavailable } from '@crm/event-store';
import { ReadModelStoreUnavailable } from '@crm/read-models';

/**
 * Whether a failure to start is the stores' (down, slow, unreachable) rather than the process's own (configuration,
 * a bug): the first is waited out, the second ends the process with its message.
 */
export function isStoreOutage(error: unknown): boolean {
  if (error instanceof StoreUnavailable || error instanceof ReadModelStoreUnavailable) return true;
  // The MongoDB driver's connection failures (before any store wraps them): MongoServerSelectionError, MongoNetworkError…
  return error instanceof Error && /^Mongo(ServerSelection|Network|NetworkTimeout|Topology)/.test(error.name);
}

export interface StartRetryOptions {
  /** First wait after a failed start; doubles up to `maxDelayMs`. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Stops the waiting (e.g. SIGTERM while the stores are down): the last outage is then thrown. */
  readonly stopped?: () => boolean;
}

/**
 * Opens something that needs the stores, waiting out their outages: a projector replica started while KurrentDB or
 * MongoDB is down or too slow to answer in STORE_TIMEOUT_MS waits for them (1 s doubling to 30 s) instead of exiting,
 * as a running one pauses. `open` must clean up after itself when it fails (openProjector closes what it opened).
 */
export async function openWaitingForStores<T>(open: () => Promise<T>, options: StartRetryOptions = {}): Promise<T> {
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delayMs = options.initialDelayMs ?? 1_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if (!isStoreOutage(error) || options.stopped?.()) throw error;
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
      delayMs = Math.min(maxDelayMs, delayMs * 2);
    }
  }
}

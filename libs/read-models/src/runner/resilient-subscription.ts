import type { ProjectedEvent } from '../projection/projection';

type Source = AsyncIterable<ProjectedEvent> & { close(): Promise<void> };

export interface ResubscribeOptions {
  /** Pause before the first re-open after a drop (default 100 ms); doubles with every drop in a row. */
  readonly initialDelayMs?: number;
  /** Cap of the pause (default 5 s). */
  readonly maxDelayMs?: number;
  /** How to wait (tests inject one that records the pauses). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ResilientSubscriptionOptions extends ResubscribeOptions {
  readonly logger?: { error(message: unknown): void };
  /** Called once per re-open, with why the previous subscription ended (a short label, for metrics). */
  readonly onRestart?: (reason: string) => void;
}

/**
 * A subscription to the global log that survives the store: when the store drops it (a server restart, a slow
 * consumer cut off, a network error) or it simply ends, it is re-opened from the last position seen, after a pause
 * that doubles with every drop in a row (capped) and starts over once events flow again. Every re-open is logged
 * and reported through `onRestart`. Lives in the consumer rather than in an adapter because the consumer knows
 * what it has seen (an adapter's buffer may hold more), it works the same for every adapter, and the outage stays
 * visible where the metrics and logs are (see docs/decisions.md).
 */
export class ResilientSubscription {
  private position: number;
  private current: Source | undefined;
  private closed = false;
  private done: Promise<void> | undefined;
  private wakeFromPause: (() => void) | undefined;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** How many times the subscription was re-opened. */
  restarts = 0;

  constructor(
    private readonly open: (fromPosition: number) => Source,
    fromPosition: number,
    private readonly onEvent: (event: ProjectedEvent) => void,
    private readonly options: ResilientSubscriptionOptions = {},
  ) {
    this.position = fromPosition;
    this.initialDelayMs = options.initialDelayMs ?? 100;
    this.maxDelayMs = Math.max(this.initialDelayMs, options.maxDelayMs ?? 5000);
    this.sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.()));
  }

  /** The position of the last event delivered (or the start position): where a re-open continues from. */
  get lastPosition(): number {
    return this.position;
  }

  start(): void {
    this.done ??= this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeFromPause?.();
    await this.current?.close();
    await this.done;
  }

  private async run(): Promise<void> {
    let delay = this.initialDelayMs;
    while (!this.closed) {
      let reason = 'ended';
      let detail = 'the subscription ended';
      try {
        const source = this.open(this.position);
        this.current = source;
        for await (const event of source) {
          if (this.closed) return;
          this.position = Math.max(this.position, event.position);
          delay = this.initialDelayMs; // events flow again: the next drop starts the backoff over
          this.onEvent(event);
        }
      } catch (error) {
        reason = reasonOf(error);
        detail = error instanceof Error ? error.message : String(error);
      }
      await this.current?.close().catch(() => undefined);
      this.current = undefined;
      if (this.closed) return;
      this.restarts += 1;
      this.options.logger?.error({ msg: 'subscription dropped, resubscribing', reason, error: detail, fromPosition: this.position, retryInMs: delay });
      this.options.onRestart?.(reason);
      await this.pause(delay);
      delay = Math.min(delay * 2, this.maxDelayMs);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wakeFromPause = resolve;
      void this.sleep(ms).then(resolve, resolve);
    }).finally(() => (this.wakeFromPause = undefined));
  }
}

/**
 * A short, bounded label for why a subscription ended: the innermost cause's `type` when it has one (the ESDB
 * client's error types: `timeout` for a slow consumer cut off, `unavailable`, `unknown`, ...), else its name.
 */
export function reasonOf(error: unknown): string {
  let innermost: unknown = error;
  for (let depth = 0; depth < 5 && innermost instanceof Error && innermost.cause !== undefined; depth++) innermost = innermost.cause;
  const type = (innermost as { type?: unknown } | null)?.type;
  const raw = typeof type === 'string' ? type : innermost instanceof Error ? innermost.name : 'error';
  const label = raw.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return label.slice(0, 40) || 'error';
}

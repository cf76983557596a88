/**
 * Callers waiting for a projection's checkpoint to reach a position (read-your-writes), woken whenever it may have
 * moved. Shared by the runner and by the API's proxy to a runner in a worker thread.
 */
export class PositionWaiters {
  private readonly waiting = new Set<() => void>();

  wakeAll(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const wake of waiting) wake();
  }

  /** Resolves true once `reached()` is at least `position`; false at the deadline, or at once when `hopeless()`. */
  async waitFor(position: number, timeoutMs: number, reached: () => number, hopeless: () => boolean): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (reached() < position) {
      const left = deadline - Date.now();
      if (left <= 0 || hopeless()) return false;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiting.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiting.add(done);
      });
    }
    return true;
  }
}

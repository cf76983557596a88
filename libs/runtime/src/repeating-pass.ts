/**
 * Runs a pass, then again `intervalMs` after it ended, until stopped: the loop of the SLA watcher and the owner
 * hand-over (each started and stopped with its lease). A failed pass is reported and the next one runs as planned;
 * `stop` waits for the pass in flight.
 */
export class RepeatingPass {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** True from `stop` until the next `start`: a long pass checks it to end early. */
  get stopRequested(): boolean {
    return this.stopped;
  }

  start(intervalMs: number): void {
    this.stopped = false;
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.pass()
        .then(() => undefined)
        .catch(this.onError)
        .then(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

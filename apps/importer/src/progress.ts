/**
 * Progress of a long import on stderr (stdout carries the summary, so it can be piped). On a terminal: one line
 * redrawn at most every 100 ms; otherwise (CI, a log file): a plain line every few seconds.
 */
export interface ProgressSink {
  phase(name: string, total: number | null, unit: string): void;
  update(done: number): void;
  finish(): void;
}

export const silentProgress: ProgressSink = { phase: () => undefined, update: () => undefined, finish: () => undefined };

interface Writable {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

const BAR_WIDTH = 24;

export class StderrProgress implements ProgressSink {
  private name = '';
  private total: number | null = null;
  private unit = '';
  private done = 0;
  private startedAt = 0;
  private lastDraw = 0;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly out: Writable = process.stderr,
    options: { now?: () => number; plainIntervalMs?: number } = {},
  ) {
    this.tty = out.isTTY === true;
    this.now = options.now ?? Date.now;
    this.intervalMs = this.tty ? 100 : (options.plainIntervalMs ?? 5000);
  }

  phase(name: string, total: number | null, unit: string): void {
    this.finish();
    this.name = name;
    this.total = total;
    this.unit = unit;
    this.done = 0;
    this.startedAt = this.now();
    this.lastDraw = this.startedAt;
    if (!this.tty) this.out.write(`${name}…\n`);
  }

  update(done: number): void {
    this.done = done;
    const t = this.now();
    if (t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    this.draw();
  }

  finish(): void {
    if (!this.name) return;
    this.draw();
    if (this.tty) this.out.write('\n');
    this.name = '';
  }

  private draw(): void {
    const elapsed = Math.max(1, this.now() - this.startedAt) / 1000;
    const rate = Math.round(this.done / elapsed);
    const count = this.total === null ? `${this.done.toLocaleString('en-GB')}` : `${this.done.toLocaleString('en-GB')}/${this.total.toLocaleString('en-GB')}`;
    let bar = '';
    if (this.total !== null && this.total > 0) {
      const ratio = Math.min(1, this.done / this.total);
      const filled = Math.round(ratio * BAR_WIDTH);
      bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% `;
    }
    const line = `${this.name.padEnd(10)} ${bar}${count} ${this.unit}  ${rate.toLocaleString('en-GB')} ${this.unit}/s  ${elapsed.toFixed(1)} s`;
    if (this.tty) {
      this.out.write(`\r${line.slice(0, (this.out.columns ?? 120) - 1)}\u001b[K`);
    } else {
      this.out.write(`${line}\n`);
    }
  }
}

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { percentileSorted, round } from './stats';

/**
 * What the command-path bench's `app/thread` costs the read side: how far the projections trail the log during the
 * measured window, where they stand when the load stops, and how long they take to catch up after. Read from the
 * SUT's files by the bench (read-only connections, WAL readers block no one), so the server does no work for it:
 * the log's head (max position), the slowest projection's checkpoint (its serving build, not the ready markers), and
 * the age of the oldest event not applied yet (now − its recorded_at).
 */
export interface ReadSideLag {
  /** Samples taken during the measured window (every `sampleMs`). */
  samples: number;
  /** Events the slowest projection trailed the head by, over the window's samples. */
  behindEvents: { p50: number; p99: number; max: number };
  /** Age of the oldest event not applied yet (0 when caught up), ms, over the window's samples. */
  lagMs: { p50: number; p99: number; max: number };
  /** At the end of the measured window. */
  atEnd: { behindEvents: number; lagMs: number };
  /** From the end of the load until every projection has applied the head as it was then (null: not within the bound). */
  catchUpMs: number | null;
}

interface Reader {
  /** [head, slowest checkpoint, age ms of the oldest unapplied event]. */
  read(now: number): [head: number, applied: number, lagMs: number];
  close(): void;
}

function openReader(dataDir: string): Reader {
  const events = new Database(join(dataDir, 'events.db'), { readonly: true, fileMustExist: true });
  const readModels = new Database(join(dataDir, 'read-models.db'), { readonly: true, fileMustExist: true });
  const head = events.prepare('SELECT coalesce(max(position), 0) FROM events').pluck();
  const recordedAt = events.prepare('SELECT recorded_at FROM events WHERE position > ? ORDER BY position LIMIT 1').pluck();
  // `<name>@v<version>[#g<generation>]` rows are the builds' checkpoints; `ready:` rows mark a build as caught up once.
  const applied = readModels.prepare("SELECT coalesce(min(position), 0) FROM rm_checkpoints WHERE projection LIKE '%@v%' AND projection NOT LIKE 'ready:%'").pluck();
  return {
    read(now) {
      const h = head.get() as number;
      const a = applied.get() as number;
      if (a >= h) return [h, a, 0];
      const oldest = recordedAt.get(a) as string | undefined;
      return [h, a, oldest === undefined ? 0 : Math.max(0, now - Date.parse(oldest))];
    },
    close() {
      events.close();
      readModels.close();
    },
  };
}

const summary = (values: readonly number[]): { p50: number; p99: number; max: number } => {
  const sorted = Float64Array.from(values).sort();
  return { p50: round(percentileSorted(sorted, 50), 1), p99: round(percentileSorted(sorted, 99), 1), max: round(sorted[sorted.length - 1] ?? 0, 1) };
};

/** Samples the lag from now until `stop()`; `stop()` then waits for the catch-up (at most `catchUpBoundMs`). */
export function sampleReadSideLag(dataDir: string, options: { sampleMs?: number; catchUpBoundMs?: number } = {}): { stop(): Promise<ReadSideLag> } {
  const sampleMs = options.sampleMs ?? 100;
  const reader = openReader(dataDir);
  const behind: number[] = [];
  const lag: number[] = [];
  const timer = setInterval(() => {
    const [h, a, ms] = reader.read(Date.now());
    behind.push(h - a);
    lag.push(ms);
  }, sampleMs);
  return {
    async stop() {
      clearInterval(timer);
      try {
        const stoppedAt = performance.now();
        const [head, appliedAtEnd, lagAtEnd] = reader.read(Date.now());
        const bound = options.catchUpBoundMs ?? 120_000;
        let catchUpMs: number | null = null;
        for (;;) {
          const [, a] = reader.read(Date.now());
          if (a >= head) {
            catchUpMs = round(performance.now() - stoppedAt, 0);
            break;
          }
          if (performance.now() - stoppedAt > bound) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return {
          samples: behind.length,
          behindEvents: summary(behind),
          lagMs: summary(lag),
          atEnd: { behindEvents: head - appliedAtEnd, lagMs: round(lagAtEnd, 0) },
          catchUpMs,
        };
      } finally {
        reader.close();
      }
    },
  };
}

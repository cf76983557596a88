import { readLogForwards, type EventStore, type RecordedEvent } from '@crm/event-store';
import { ProjectionRunner, SqliteReadModelStore, type EventFeed, type Projection } from '@crm/read-models';

export interface ReplayOptions {
  readonly events: EventStore;
  readonly projections: readonly Projection[];
  /** A log position (inclusive) or an ISO time (events recorded at or before it). */
  readonly until: number | string;
  /** SQLite file for the replayed read model; never the live store. */
  readonly out: string;
}

/** The last position at or before `until`: the position itself, or the last event recorded by that time. */
export async function resolveUntil(events: EventStore, until: number | string): Promise<number> {
  const head = await events.headPosition();
  if (typeof until === 'number') return Math.min(until, head);
  let last = 0;
  for await (const e of readLogForwards(events)) {
    if (e.recordedAt > until) return last;
    last = e.position;
  }
  return last;
}

/** The log as it was at `limit`: reads stop there, the head is there, and nothing arrives live. */
function feedUntil(events: EventStore, limit: number): EventFeed {
  return {
    readAll: async (o) => (await events.readAll(o)).filter((e: RecordedEvent) => e.position <= limit),
    headPosition: async () => limit,
    subscribeToAll: () => ({
      [Symbol.asyncIterator]: async function* () {
        /* a replay has no live tail */
      },
      close: async () => undefined,
    }),
  };
}

/**
 * Builds read models as of a past point into a separate SQLite file, with the same projection code and runner as
 * production (analysts' replays; `npm run replay`). Returns the position the result reflects.
 */
export async function replayProjections(options: ReplayOptions): Promise<{ position: number; eventsApplied: number }> {
  const limit = await resolveUntil(options.events, options.until);
  const store = new SqliteReadModelStore(options.out);
  const runner = new ProjectionRunner(feedUntil(options.events, limit), store, options.projections, { batchSize: 1000, idlePollMs: 60_000 });
  try {
    await runner.start();
    for (const p of options.projections) {
      if (!(await runner.waitFor(p.name, limit, 24 * 3600_000))) {
        const failed = runner.status().find((s) => s.name === p.name);
        throw new Error(`replay of ${p.name} stopped: ${failed?.lastError?.message ?? 'unknown error'}`);
      }
    }
    return { position: limit, eventsApplied: runner.status().reduce((n, s) => n + s.eventsApplied, 0) };
  } finally {
    await runner.stop();
    await store.close();
  }
}

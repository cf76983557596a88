/**
 * What one wake of the live tail costs (issue 18, items 2 and 3), independent of how loaded the machine is: every
 * projection over the SQLite log and read-model store, on this thread; each round appends `k` contacts (one append
 * each, to different customers, as k commands would), then wakes the runner once and waits until every projection
 * has applied them. Only the wake-to-applied part is timed, in CPU (process.cpuUsage), so the figure is CPU µs per
 * event at k events per wake: with the API's 5 ms signal gap a stream of 500 commands/s gives k ≈ 2.5, with
 * PROJECTION_COALESCE_MS=20 k ≈ 10.
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/live-wake-cost.ts
 *   WAKE_K=1,2,5,10,20 WAKE_EVENTS=3000 WAKE_CUSTOMERS=2000
 */
import { join } from 'node:path';
import { SqliteEventStore } from '@crm/event-store';
import { ALL_PROJECTIONS, ProjectionRunner, SqliteReadModelStore, type EventFeed, type ProjectedEvent } from '@crm/read-models';
import { contactLogged, customerRegistered, toAppend } from '../libs/read-models/test-support/project';
import { makeTempDir } from '../test/support/temp-dir';

/** The log as the runner's feed, with a subscription that delivers only when told to: one wake per `wake()`. */
class WakeOnDemandFeed implements EventFeed {
  private push: ((event: ProjectedEvent) => void) | undefined;
  constructor(private readonly log: SqliteEventStore) {}
  readAll(options: Parameters<EventFeed['readAll']>[0]): Promise<ProjectedEvent[]> {
    return this.log.readAll(options);
  }
  headPosition(): Promise<number> {
    return this.log.headPosition();
  }
  subscribeToAll(): AsyncIterable<ProjectedEvent> & { close(): Promise<void> } {
    const queue: ProjectedEvent[] = [];
    let waiting: ((r: IteratorResult<ProjectedEvent>) => void) | undefined;
    let closed = false;
    this.push = (event) => {
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w({ done: false, value: event });
      } else queue.push(event);
    };
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          const queued = queue.shift();
          if (queued) return Promise.resolve({ done: false, value: queued });
          if (closed) return Promise.resolve({ done: true, value: undefined });
          return new Promise<IteratorResult<ProjectedEvent>>((resolve) => (waiting = resolve));
        },
      }),
      close: async () => {
        closed = true;
        waiting?.({ done: true, value: undefined });
      },
    };
  }
  async wake(): Promise<void> {
    const [last] = await this.log.readAll({ direction: 'backwards', maxCount: 1 });
    if (last) this.push?.(last);
  }
}

async function main(): Promise<void> {
  const ks = (process.env.WAKE_K ?? '1,2,5,10,20').split(',').map(Number);
  const eventsPerK = Number(process.env.WAKE_EVENTS ?? 3000);
  const customers = Number(process.env.WAKE_CUSTOMERS ?? 2000);
  const tmp = makeTempDir('live-wake-');
  const log = new SqliteEventStore({ filename: join(tmp.dir, 'events.db'), synchronous: 'NORMAL', pollMs: 60_000 });
  const store = new SqliteReadModelStore(join(tmp.dir, 'read-models.db'));
  let eventNo = 0;
  const at = (n: number): string => new Date(Date.parse('2026-03-01T09:00:00.000Z') + n * 1000).toISOString();
  for (let c = 0; c < customers; c++) {
    const fact = customerRegistered(at(c), { customerId: `cust-${c}`, name: `Customer ${c}`, email: `c${c}@example.com` });
    await log.appendToStream(fact.streamId, [toAppend(fact, `e-${++eventNo}`)]);
  }
  const feed = new WakeOnDemandFeed(log);
  const runner = new ProjectionRunner(feed, store, ALL_PROJECTIONS, { idlePollMs: 60_000, batchSize: 5000 });
  await runner.start();
  const caughtUp = async (position: number): Promise<void> => {
    for (const p of ALL_PROJECTIONS) if (!(await runner.waitFor(p.name, position, 30_000))) throw new Error(`${p.name} did not reach ${position}`);
  };
  await caughtUp(await log.headPosition());
  const results: Array<{ k: number; wakes: number; events: number; cpuUsPerEvent: number; cpuUsPerWake: number }> = [];
  // A warm-up pass at the first k (JIT, statement caches), not counted.
  for (const [k, counted] of [[ks[0] ?? 1, false], ...ks.map((k) => [k, true] as const)] as Array<[number, boolean]>) {
    const wakes = Math.max(1, Math.round((counted ? eventsPerK : 500) / k));
    let cpuUs = 0;
    for (let w = 0; w < wakes; w++) {
      let position = 0;
      for (let i = 0; i < k; i++) {
        const n = ++eventNo;
        const fact = contactLogged(at(n), { contactId: `c-${n}`, customerId: `cust-${n % customers}`, summary: 'Customer called about the delivery date of order 4711.' });
        position = (await log.appendToStream(fact.streamId, [toAppend(fact, `e-${n}`)])).position;
      }
      const before = process.cpuUsage();
      await feed.wake();
      await caughtUp(position);
      const used = process.cpuUsage(before);
      cpuUs += used.user + used.system;
    }
    if (counted) results.push({ k, wakes, events: wakes * k, cpuUsPerEvent: Math.round(cpuUs / (wakes * k)), cpuUsPerWake: Math.round(cpuUs / wakes) });
  }
  await runner.stop();
  await store.close();
  await log.close();
  tmp.remove();
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

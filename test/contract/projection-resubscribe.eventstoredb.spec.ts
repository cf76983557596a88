import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { EventStoreDbEventStore } from '@crm/event-store';
import { ProjectionRunner, SqliteReadModelStore, type Doc, type Projection } from '@crm/read-models';
import { Metrics } from '@crm/runtime/metrics';
import { startEventStoreDbDouble, type EventStoreDbDouble, type SubscriptionDropReason } from '../doubles/eventstoredb-grpc-double';
import { makeTempDir } from '../support/temp-dir';

/**
 * The projection runner over the real @eventstore/db-client and the gRPC double, when the server ends the live
 * subscription: the runner re-opens it, counts it, and events appended afterwards reach the projection through the
 * new subscription. The runner's fallback poll is a minute, far beyond the waits here, so only the subscription
 * can have woken it.
 */
describe('ProjectionRunner over EventStoreDB: subscriptions the server drops', () => {
  let double: EventStoreDbDouble | undefined;
  let events: EventStoreDbEventStore | undefined;
  let store: SqliteReadModelStore | undefined;
  let runner: ProjectionRunner | undefined;
  let temp: ReturnType<typeof makeTempDir> | undefined;
  afterEach(async () => {
    await runner?.stop();
    await store?.close();
    await events?.close();
    await double?.stop();
    temp?.remove();
  });

  const counting: Projection = {
    name: 'counting', version: 1, eventTypes: ['Counted'], collections: [{ name: 'counters', indexes: [] }],
    changes: () => [{ collection: 'counters', id: 'all', evolve: (doc: Doc | null) => ({ count: Number(doc?.['count'] ?? 0) + 1 }) }],
  };
  const IDLE_POLL_MS = 60_000;
  const WAIT_MS = 5_000;

  async function start(options: Parameters<typeof startEventStoreDbDouble>[0] = {}): Promise<{ runner: ProjectionRunner; metrics: Metrics; append: () => Promise<number> }> {
    double = await startEventStoreDbDouble(options);
    events = new EventStoreDbEventStore(double.connectionString);
    temp = makeTempDir('resubscribe-');
    store = new SqliteReadModelStore(join(temp.dir, 'read-models.db'));
    const metrics = new Metrics();
    runner = new ProjectionRunner(events, store, [counting], {
      idlePollMs: IDLE_POLL_MS,
      resubscribe: { initialDelayMs: 10, maxDelayMs: 100 },
      onSubscriptionRestart: (reason) => metrics.subscriptionRestarts.inc({ reason }),
    });
    await runner.start();
    const eventStore = events;
    const stream = `counted-${randomUUID()}`;
    const append = async (): Promise<number> =>
      (await eventStore.appendToStream(stream, [{ eventId: randomUUID(), type: 'Counted', data: {}, metadata: {} }])).position;
    return { runner, metrics, append };
  }

  /** Appends one event and waits, well under the poll interval, until the projection has applied it. */
  async function appendAndWait(r: ProjectionRunner, append: () => Promise<number>): Promise<number> {
    const position = await append();
    const started = Date.now();
    await expect(r.waitFor('counting', position, WAIT_MS)).resolves.toBe(true);
    return Date.now() - started;
  }

  async function waitForSubscriber(): Promise<void> {
    // The runner subscribes asynchronously after start; a drop before that would find nothing to drop.
    const deadline = Date.now() + WAIT_MS;
    while (double && double.calls.subscription === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  it.each<[SubscriptionDropReason, string]>([
    ['server-error', 'unknown'],
    ['consumer-too-slow', 'timeout'],
    ['unavailable', 'unavailable'],
  ])('dropped as %s: re-opened, counted as %s, and later appends are applied at once', async (reason, label) => {
    const { runner: r, metrics, append } = await start();
    await appendAndWait(r, append);
    await waitForSubscriber();
    const before = double?.calls.subscription ?? 0;
    expect(double?.dropSubscriptions(reason)).toBe(1);
    // Appended after the drop: applied through the re-opened subscription (its catch-up or live part), not the poll.
    expect(await appendAndWait(r, append)).toBeLessThan(IDLE_POLL_MS / 10);
    expect(await appendAndWait(r, append)).toBeLessThan(IDLE_POLL_MS / 10);
    expect(double?.calls.subscription).toBe(before + 1);
    expect(await metrics.render()).toContain(`crm_subscription_restarts_total{reason="${label}"} 1`);
  });

  it('a server that drops every subscription after a few events: each is re-opened from where it stopped, nothing is missed', async () => {
    const { runner: r, metrics, append } = await start({ maxEventsPerSubscription: 2 });
    for (let i = 0; i < 7; i++) await appendAndWait(r, append);
    const status = r.status().find((s) => s.name === 'counting');
    expect(status?.eventsApplied).toBe(7);
    expect(await metrics.render()).toMatch(/crm_subscription_restarts_total\{reason="timeout"\} [1-9]/);
  });
});

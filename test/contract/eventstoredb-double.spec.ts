import { randomUUID } from 'node:crypto';
import {
  ErrorType, EventStoreDBClient, MaxAppendSizeExceededError, NO_STREAM, START, WrongExpectedVersionError, isCommandError, jsonEvent, streamNameFilter,
  type AllStreamResolvedEvent, type JSONType,
} from '@eventstore/db-client';
import { startEventStoreDbDouble, type EventStoreDbDouble, type SubscriptionDropReason } from '../doubles/eventstoredb-grpc-double';

/**
 * The double itself, through the real client: the client must take the path it takes against a current server
 * (BatchAppend, announced by ServerFeatures), and a subscription must be endable from the server side.
 */
describe('EventStoreDB gRPC double', () => {
  const doubles: EventStoreDbDouble[] = [];
  const clients: EventStoreDBClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await Promise.all(doubles.splice(0).map((d) => d.stop()));
  });
  const start = async (options: Parameters<typeof startEventStoreDbDouble>[0] = {}): Promise<{ double: EventStoreDbDouble; client: EventStoreDBClient }> => {
    const double = await startEventStoreDbDouble(options);
    doubles.push(double);
    const client = EventStoreDBClient.connectionString(double.connectionString);
    clients.push(client);
    return { double, client };
  };
  const event = (data: JSONType = { n: 1 }, id = randomUUID()) => jsonEvent({ id, type: 'Tested', data });

  it('announces BatchAppend, and the client appends through it', async () => {
    const { double, client } = await start();
    const stream = `s-${randomUUID()}`;
    const first = await client.appendToStream(stream, [event(), event()], { expectedRevision: NO_STREAM });
    const second = await client.appendToStream(stream, event(), { expectedRevision: 1n });
    expect({ first: first.nextExpectedRevision, second: second.nextExpectedRevision }).toEqual({ first: 1n, second: 2n });
    expect(second.position?.commit).toBeGreaterThan(first.position?.commit ?? Infinity);
    expect(double.calls).toMatchObject({ serverFeatures: 1, batchAppend: 2, append: 0 });
  });

  it('without ServerFeatures, the client falls back to Append', async () => {
    const { double, client } = await start({ serverFeatures: false });
    await client.appendToStream(`s-${randomUUID()}`, event());
    expect(double.calls).toMatchObject({ batchAppend: 0, append: 1 });
  });

  it('BatchAppend: wrong expected version with the actual revision, nothing written; then the right revision succeeds', async () => {
    const { client } = await start();
    const stream = `s-${randomUUID()}`;
    await client.appendToStream(stream, event());
    const refused = await client.appendToStream(stream, event(), { expectedRevision: 5n }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WrongExpectedVersionError);
    expect(refused).toMatchObject({ actualVersion: 0n, expectedVersion: 5n });
    const missing = await client.appendToStream(`s-${randomUUID()}`, event(), { expectedRevision: 0n }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ actualVersion: NO_STREAM });
    await expect(client.appendToStream(stream, event(), { expectedRevision: 0n })).resolves.toMatchObject({ nextExpectedRevision: 1n });
  });

  it('BatchAppend: concurrent appends on one call are told apart by correlation id', async () => {
    const { double, client } = await start();
    const streams = Array.from({ length: 20 }, () => `s-${randomUUID()}`);
    const results = await Promise.all(streams.map((s, i) => client.appendToStream(s, Array.from({ length: i + 1 }, () => event()))));
    expect(results.map((r) => Number(r.nextExpectedRevision))).toEqual(streams.map((_, i) => i));
    expect(double.calls.batchAppend).toBe(20);
  });

  it('BatchAppend: re-appending the same ids at the same place is idempotent', async () => {
    const { client } = await start();
    const stream = `s-${randomUUID()}`;
    const ids = [randomUUID(), randomUUID()];
    const first = await client.appendToStream(stream, ids.map((id) => event({}, id)), { expectedRevision: NO_STREAM });
    const again = await client.appendToStream(stream, ids.map((id) => event({}, id)), { expectedRevision: NO_STREAM });
    expect(again).toMatchObject({ nextExpectedRevision: first.nextExpectedRevision, position: first.position });
    let count = 0;
    for await (const _ of client.readStream(stream)) count += 1;
    expect(count).toBe(2);
  });

  it('BatchAppend: over the maximum append size, MaxAppendSizeExceededError, and the call goes on', async () => {
    const { client } = await start({ maxAppendSize: 4096 });
    const stream = `s-${randomUUID()}`;
    const refused = await client.appendToStream(stream, event({ big: 'x'.repeat(5000) })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MaxAppendSizeExceededError);
    expect(refused).toMatchObject({ maxAppendSize: 4096 });
    await expect(client.appendToStream(stream, event(), { expectedRevision: NO_STREAM })).resolves.toMatchObject({ nextExpectedRevision: 0n });
  });

  const failureOf = (subscription: NodeJS.EventEmitter): Promise<unknown> =>
    new Promise((resolve) => subscription.once('error', resolve));

  it.each<[SubscriptionDropReason, ErrorType]>([
    ['consumer-too-slow', ErrorType.TIMEOUT],
    ['server-error', ErrorType.UNKNOWN],
    ['unavailable', ErrorType.UNAVAILABLE],
  ])('dropSubscriptions(%s) ends live subscriptions with the status the client reports as %s', async (reason, type) => {
    const { double, client } = await start();
    const subscription = client.subscribeToAll({ fromPosition: START });
    const confirmed = new Promise((resolve) => subscription.once('confirmation', resolve));
    const failed = failureOf(subscription);
    subscription.on('data', () => undefined);
    await confirmed;
    expect(double.dropSubscriptions(reason)).toBe(1);
    const error = await failed;
    expect(isCommandError(error as Error) && (error as { type: ErrorType }).type).toBe(type);
    expect(double.dropSubscriptions(reason)).toBe(0);
  });

  it('maxEventsPerSubscription drops a subscription as a slow consumer after that many events', async () => {
    const { client } = await start({ maxEventsPerSubscription: 3 });
    const stream = `s-${randomUUID()}`;
    const subscription = client.subscribeToAll({ fromPosition: START, filter: streamNameFilter({ prefixes: [stream] }) });
    const seen: string[] = [];
    subscription.on('data', (e: AllStreamResolvedEvent) => seen.push(e.event?.streamId ?? ''));
    const failed = failureOf(subscription);
    for (let i = 0; i < 5; i++) await client.appendToStream(stream, event());
    const error = await failed;
    expect((error as { type: ErrorType }).type).toBe(ErrorType.TIMEOUT);
    expect(seen).toHaveLength(3);
  });
});

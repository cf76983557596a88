import { randomUUID } from 'node:crypto';
import { AppendTooLarge, EventStoreDbEventStore, InvalidAppend, StoreUnavailable, type EventToAppend } from '@crm/event-store';
import { DEFAULT_MAX_APPEND_SIZE, type EventStoreDbDouble, startEventStoreDbDouble } from '../doubles/eventstoredb-grpc-double';

/**
 * Appends the server refuses for what they are, through the real @eventstore/db-client: they are the caller's, will be
 * refused again, and must not read as "store unavailable" (which clients retry forever).
 */
// Both append paths of the client: BatchAppend (a server that announces it, as every current one does) and Append.
describe.each([
  { path: 'BatchAppend', serverFeatures: true, reason: 'BadRequest' },
  { path: 'Append', serverFeatures: false, reason: 'Required Metadata Property \'type\' is missing' },
])('EventStoreDB adapter: appends the server refuses ($path)', ({ path, serverFeatures, reason }) => {
  let double: EventStoreDbDouble;
  let store: EventStoreDbEventStore;
  beforeAll(async () => {
    double = await startEventStoreDbDouble({ serverFeatures, refuseAppendsTo: { streamPrefix: 'refused-', details: 'Required Metadata Property \'type\' is missing' } });
    store = new EventStoreDbEventStore(double.connectionString);
  });
  afterAll(async () => {
    // Every append of this file went the way the server's features say.
    expect(double.calls[path === 'BatchAppend' ? 'append' : 'batchAppend']).toBe(0);
    expect(double.calls[path === 'BatchAppend' ? 'batchAppend' : 'append']).toBeGreaterThan(0);
    await store.close();
    await double.stop();
  });

  const event = (data: unknown): EventToAppend => ({ eventId: randomUUID(), type: 'Sized', data, metadata: { note: 'm' } });
  const refusalOf = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'appended', (error: unknown) => error);

  it('over the maximum append size (1 MiB by default): AppendTooLarge with the limit, nothing appended', async () => {
    const stream = `big-${randomUUID()}`;
    const refusal = await refusalOf(store.appendToStream(stream, [event('x'.repeat(DEFAULT_MAX_APPEND_SIZE))], { expectedRevision: 'no-stream' }));
    expect(refusal).toBeInstanceOf(AppendTooLarge);
    expect(refusal).toMatchObject({ streamId: stream, maxBytes: DEFAULT_MAX_APPEND_SIZE });
    expect(await store.readStream(stream)).toEqual([]);
    // A refused append changes nothing: the next one with the same expectation succeeds.
    await expect(store.appendToStream(stream, [event('small')], { expectedRevision: 'no-stream' })).resolves.toMatchObject({ nextExpectedRevision: 0 });
  });

  it('the limit counts the whole append: several events that are small alone are refused together', async () => {
    const stream = `many-${randomUUID()}`;
    const quarter = 'y'.repeat(DEFAULT_MAX_APPEND_SIZE / 4);
    await expect(store.appendToStream(stream, [event(quarter), event(quarter), event(quarter)])).resolves.toMatchObject({ nextExpectedRevision: 2 });
    expect(await refusalOf(store.appendToStream(stream, [event(quarter), event(quarter), event(quarter), event(quarter)]))).toBeInstanceOf(AppendTooLarge);
    expect(await store.readStream(stream)).toHaveLength(3);
  });

  // On BatchAppend the 6.x client drops the server's reason and keeps "BadRequest".
  it('any other INVALID_ARGUMENT on an append: InvalidAppend with the server\'s reason, not StoreUnavailable', async () => {
    const stream = `refused-${randomUUID()}`;
    const refusal = await refusalOf(store.appendToStream(stream, [event('ok')]));
    expect(refusal).not.toBeInstanceOf(StoreUnavailable);
    expect(refusal).toBeInstanceOf(InvalidAppend);
    expect(refusal).toMatchObject({ streamId: stream, reason });
  });
});

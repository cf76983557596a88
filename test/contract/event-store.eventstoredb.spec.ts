import { EventStoreDbEventStore } from '@crm/event-store';
import { type EventStoreDbDouble, startEventStoreDbDouble } from '../doubles/eventstoredb-grpc-double';
import { describeEventStoreContract } from './event-store.contract';

// Both append paths of the client: BatchAppend, which it uses when ServerFeatures announces it (every current server
// does), and the streaming Append of older servers (the double's ServerFeatures turned off).
describe.each([
  { path: 'BatchAppend' as const, serverFeatures: true },
  { path: 'Append' as const, serverFeatures: false },
])('EventStoreDB adapter against the in-process gRPC double ($path)', ({ path, serverFeatures }) => {
  let double: EventStoreDbDouble;

  beforeAll(async () => {
    double = await startEventStoreDbDouble({ serverFeatures });
  });
  afterAll(async () => {
    // The suite's appends all went the way the server's features say (the client picks the path per append).
    const other = path === 'BatchAppend' ? 'append' : 'batchAppend';
    expect({ [path]: double.calls[path === 'BatchAppend' ? 'batchAppend' : 'append'] > 0, [other]: double.calls[other] }).toEqual({ [path]: true, [other]: 0 });
    await double.stop();
  });

  // One double per path (tests use random stream names); a fresh adapter and client per test.
  // As deployed: ESDB's own id semantics (same-stream re-append is idempotent, ids are not globally unique).
  describeEventStoreContract(
    `eventstoredb (gRPC double, ${path})`,
    async () => {
      const store = new EventStoreDbEventStore(double.connectionString);
      return { store, dispose: () => store.close() };
    },
    { uniqueEventIds: false },
  );

  // Opt-in: globally unique event ids through reservation streams (one extra round trip per append).
  describeEventStoreContract(`eventstoredb (gRPC double, ${path}, reserveEventIds)`, async () => {
    const store = new EventStoreDbEventStore(double.connectionString, { reserveEventIds: true });
    return { store, dispose: () => store.close() };
  });
});

const realServer = process.env.EVENTSTORE_CONNECTION_STRING;
if (realServer) {
  describeEventStoreContract(
    'eventstoredb (real server)',
    async () => {
      const store = new EventStoreDbEventStore(realServer);
      return { store, dispose: () => store.close() };
    },
    { uniqueEventIds: false },
  );
} else {
  // Said once, not as a test that passes without asserting anything.
  console.warn('EventStore contract against a real EventStoreDB skipped: set EVENTSTORE_CONNECTION_STRING to run it');
}

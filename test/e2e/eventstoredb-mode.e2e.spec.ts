import { startEventStoreDbDouble, type EventStoreDbDouble } from '../doubles/eventstoredb-grpc-double';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The same app and code paths with the event log in EventStoreDB (the in-process gRPC double, real client), on both
 * append paths of the client: BatchAppend (a server announcing it, as current ones do) and the older streaming Append.
 */
const PATHS = [
  { path: 'BatchAppend', serverFeatures: true, refusedDetail: 'BadRequest' },
  { path: 'Append', serverFeatures: false, refusedDetail: 'the server says no' },
] as const;

describe.each(PATHS)('the API with EVENTSTORE_CONNECTION_STRING ($path)', ({ path, serverFeatures }) => {
  let double: EventStoreDbDouble;
  let t: TestApp;
  beforeAll(async () => {
    double = await startEventStoreDbDouble({ serverFeatures });
    t = await startTestApp({ env: { EVENTSTORE_CONNECTION_STRING: double.connectionString } });
  });
  let stopped = false;
  afterAll(async () => {
    await t.close();
    if (!stopped) await double.stop();
  });

  it('registers, logs contacts with If-Match conflicts, records a purchase and reads the stream back', async () => {
    const created = await t.request('POST', '/customers', { body: { name: 'Esdb', kind: 'customer', ownerId: 'agent-ana' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const contact = { channel: 'chat', direction: 'inbound', purpose: 'support', summary: 's', outcome: 'o' };
    const [a, b] = await Promise.all([
      t.request('POST', `/customers/${id}/contacts`, { body: contact, headers: { 'if-match': '"0"' } }),
      t.request('POST', `/customers/${id}/contacts`, { body: contact, headers: { 'if-match': '"0"' } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 412]);
    const purchase = await t.request('POST', '/purchases', {
      body: { customerId: id, currency: 'EUR', lines: [{ sku: 'X', quantity: 2, unitPrice: '9.99' }] },
    });
    expect(purchase.status).toBe(201);
    expect(purchase.body.position).toBeGreaterThan(created.body.position);
    const events = await t.request('GET', `/streams/customer-${id}/events`);
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual(['CustomerRegistered', 'ContactLogged']);
    expect(events.body.events[1].metadata.actor).toEqual({ id: 'agent-ana', role: 'agent' });
    const refused = await t.request('POST', `/purchases/${purchase.body.id}/returns`, { body: { lines: [{ sku: 'X', quantity: 3 }], reason: 'r' } });
    expect(refused.status).toBe(422);
    expect((await t.request('GET', '/health/ready', { token: null })).status).toBe(200);
    expect(path === 'BatchAppend' ? [double.calls.batchAppend > 0, double.calls.append] : [double.calls.append > 0, double.calls.batchAppend]).toEqual([true, 0]);
  });

  it('re-opens the projector\'s subscription when the server drops it, counts it in /metrics, and keeps projecting', async () => {
    const restartsOf = async (): Promise<number> => {
      const text = String((await t.request('GET', '/metrics', { token: null })).body);
      return Number(/crm_subscription_restarts_total\{reason="unknown"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const before = await restartsOf();
    expect(double.dropSubscriptions('server-error')).toBeGreaterThan(0);
    const created = await t.request('POST', '/customers', { body: { name: 'After the drop', kind: 'customer' } });
    expect(created.status).toBe(201);
    const read = await t.request('GET', `/customers/${created.body.id as string}?minPosition=${created.body.position as number}`);
    expect({ status: read.status, name: read.body.name }).toEqual({ status: 200, name: 'After the drop' });
    // The counter travels with the projector's next progress report: wait for it, bounded.
    const deadline = Date.now() + 5_000;
    let restarts = await restartsOf();
    while (restarts <= before && Date.now() < deadline) restarts = await restartsOf();
    expect(restarts).toBeGreaterThan(before);
  });

  it('answers 503 store-unavailable with Retry-After when the event store is down, and the readiness probe fails', async () => {
    await double.stop();
    stopped = true;
    const res = await t.request('POST', '/customers', { body: { name: 'Down', kind: 'customer' } });
    expect(res.status).toBe(503);
    expect(res.body.type).toBe('store-unavailable');
    expect(res.headers.get('retry-after')).toBe('5');
    expect((await t.request('GET', '/health/ready', { token: null })).status).toBe(503);
  });
});

describe.each(PATHS)('the API with EventStoreDB refusing an append as too large or invalid ($path)', ({ serverFeatures, refusedDetail }) => {
  let double: EventStoreDbDouble;
  let t: TestApp;
  beforeAll(async () => {
    // A small maximum append size, so that an ordinary command's events exceed it; registrations of ids starting
    // `refused-` answer a bare INVALID_ARGUMENT.
    double = await startEventStoreDbDouble({ serverFeatures, maxAppendSize: 2048, refuseAppendsTo: { streamPrefix: 'customer-refused-', details: 'the server says no' } });
    t = await startTestApp({ env: { EVENTSTORE_CONNECTION_STRING: double.connectionString } });
  });
  afterAll(async () => {
    await t.close();
    await double.stop();
  });

  it('413 append-too-large, not retryable, nothing appended', async () => {
    const created = await t.request('POST', '/customers', { body: { id: 'esdb-size-1', name: 'Size', kind: 'customer' } });
    expect(created.status).toBe(201);
    const lines = Array.from({ length: 40 }, (_, i) => ({ sku: `SKU-${i}`, description: 'a line long enough to add up', quantity: 1, unitPrice: '1.00' }));
    const res = await t.request('POST', '/purchases', { body: { customerId: 'esdb-size-1', orderId: 'esdb-order-1', currency: 'EUR', lines } });
    expect({ status: res.status, type: res.body.type, contentType: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after') }).toEqual({
      status: 413, type: 'append-too-large', contentType: expect.stringMatching(/^application\/problem\+json/), retryAfter: null,
    });
    expect(res.body).toMatchObject({ maxAppendBytes: 2048 });
    expect((await t.request('GET', '/streams/order-esdb-order-1/events')).body.events ?? []).toEqual([]);
  });

  it('422 append-refused for any other INVALID_ARGUMENT, with the reason', async () => {
    const res = await t.request('POST', '/customers', { body: { id: 'refused-1', name: 'Refused', kind: 'customer' } });
    expect({ status: res.status, type: res.body.type, retryAfter: res.headers.get('retry-after') }).toEqual({ status: 422, type: 'append-refused', retryAfter: null });
    // On BatchAppend, @eventstore/db-client 6.x keeps no reason but "BadRequest".
    expect(res.body.detail).toContain(refusedDetail);
  });
});

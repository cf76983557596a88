import Database from 'better-sqlite3';
import { join } from 'node:path';
import { startEventStoreDbDouble, type EventStoreDbDouble } from '../doubles/eventstoredb-grpc-double';
import { startTestApp, type TestApp, type TestResponse } from '../support/test-app';

/**
 * A process killed after its append and before its answer leaves the key's reservation pending and its events in the
 * log. Simulated deterministically: the request runs to the end, then its recorded outcome is dropped (the row put back
 * to pending, as the dead process left it) while the app is down, and a new app opens the same DATA_DIR.
 */
function dropRecordedOutcome(dataDir: string, principalId: string, key: string): void {
  const db = new Database(join(dataDir, 'idempotency.db'));
  try {
    const changed = db.prepare(`UPDATE idempotency SET state = 'pending', response = NULL WHERE scope = ?`).run(`${principalId}\n${key}`).changes;
    if (changed !== 1) throw new Error(`no idempotency row for ${key}`);
  } finally {
    db.close();
  }
}

const DAY_MS = 86_400_000;
const contact = { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 'crash-summary', outcome: 'o' };

describe.each([
  ['SQLite', false],
  ['EventStoreDB (gRPC double)', true],
])('Idempotency-Key across a crash between append and answer, event log in %s', (_name, esdb) => {
  let double: EventStoreDbDouble | undefined;
  let t: TestApp;
  beforeAll(async () => {
    double = esdb ? await startEventStoreDbDouble() : undefined;
    t = await startTestApp({ env: double ? { EVENTSTORE_CONNECTION_STRING: double.connectionString } : {} });
  });
  afterAll(async () => {
    await t.close();
    await double?.stop();
  });

  const streamEvents = async (streamId: string): Promise<Array<{ type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }>> =>
    (await t.request('GET', `/streams/${streamId}/events`)).body.events;
  const outcome = (r: TestResponse): unknown => ({ status: r.status, body: r.body, etag: r.headers.get('etag'), location: r.headers.get('location') });

  it('POST /customers: the retry answers the same id, revision and position, and the customer is registered once', async () => {
    const key = `crash-register-${esdb ? 'esdb' : 'sqlite'}-7f3a91`;
    const body = { name: 'Crash Registered', kind: 'customer' };
    const first = await t.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);

    await t.restart(() => dropRecordedOutcome(t.dataDir, 'agent-ana', key));
    t.clock.advance(2 * DAY_MS); // long past any stale-reservation timeout
    const retry = await t.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });

    expect(outcome(retry)).toEqual(outcome(first));
    const events = await streamEvents(`customer-${first.body.id as string}`);
    expect(events.map((e) => e.type)).toEqual(['CustomerRegistered']);
    expect(events[0]?.metadata['idempotencyKey']).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(events[0]?.metadata)).not.toContain(key);
    // Recorded now: a further retry is a plain replay.
    const again = await t.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('POST /customers/:id/contacts: the retry answers the same contact, and the stream has it once', async () => {
    const customer = await t.request('POST', '/customers', { body: { name: 'Crash Contacted', kind: 'customer' } });
    const id = customer.body.id as string;
    const key = `crash-contact-${id}`;
    const first = await t.request('POST', `/customers/${id}/contacts`, { body: contact, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    // Another command lands after it, so the retry must find its outcome below the stream's head.
    expect((await t.request('POST', `/customers/${id}/contacts`, { body: { ...contact, summary: 'later' } })).status).toBe(201);

    await t.restart(() => dropRecordedOutcome(t.dataDir, 'agent-ana', key));
    const retry = await t.request('POST', `/customers/${id}/contacts`, { body: contact, headers: { 'idempotency-key': key } });

    expect(outcome(retry)).toEqual(outcome(first));
    const events = await streamEvents(`customer-${id}`);
    expect(events.map((e) => e.type)).toEqual(['CustomerRegistered', 'ContactLogged', 'ContactLogged']);
    expect(events.filter((e) => e.data['contactId'] === first.body.id)).toHaveLength(1);
  });

  it('every other command that creates an id (follow-up, complaint, purchase, return) answers it again after the crash', async () => {
    const customer = (await t.request('POST', '/customers', { body: { name: 'Crash Buyer', kind: 'customer', ownerId: 'agent-ana' } })).body.id as string;
    const purchase = await t.request('POST', '/purchases', { body: { customerId: customer, currency: 'EUR', lines: [{ sku: 'X', quantity: 2, unitPrice: '9.99' }] }, headers: { 'idempotency-key': `crash-purchase-${customer}` } });
    expect(purchase.status).toBe(201);
    const requests: Array<{ path: string; body: unknown; key: string }> = [
      { path: `/customers/${customer}/follow-ups`, body: { dueAt: '2026-12-01T10:00:00Z', reason: 'call back' }, key: `crash-follow-up-${customer}` },
      { path: '/complaints', body: { customerId: customer, channel: 'email', category: 'delivery', priority: 'P3', description: 'late' }, key: `crash-complaint-${customer}` },
      { path: `/purchases/${purchase.body.id as string}/returns`, body: { lines: [{ sku: 'X', quantity: 1 }], reason: 'broken' }, key: `crash-return-${customer}` },
    ];
    const firsts = await Promise.all(requests.map((r) => t.request('POST', r.path, { body: r.body, headers: { 'idempotency-key': r.key } })));
    expect(firsts.map((r) => r.status)).toEqual([201, 201, 201]);
    const headBefore = (await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition as number;

    await t.restart(() => {
      dropRecordedOutcome(t.dataDir, 'agent-ana', `crash-purchase-${customer}`);
      for (const r of requests) dropRecordedOutcome(t.dataDir, 'agent-ana', r.key);
    });
    const purchaseRetry = await t.request('POST', '/purchases', { body: { customerId: customer, currency: 'EUR', lines: [{ sku: 'X', quantity: 2, unitPrice: '9.99' }] }, headers: { 'idempotency-key': `crash-purchase-${customer}` } });
    const retries = await Promise.all(requests.map((r) => t.request('POST', r.path, { body: r.body, headers: { 'idempotency-key': r.key } })));

    expect(outcome(purchaseRetry)).toEqual(outcome(purchase));
    expect(retries.map(outcome)).toEqual(firsts.map(outcome));
    expect((await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition).toBe(headBefore);
  });
});

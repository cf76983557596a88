import { MongoClient } from 'mongodb';
import { MongoLeaseStore, SLA_WATCHER_LEASE } from '@crm/read-models';
import { startMongoDouble, type MongoDoubleHandle } from '../doubles/mongo-wire-double';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/** The same app with its read models in MongoDB (the real driver against the in-process wire-protocol double). */
describe('the API with MONGODB_URI', () => {
  let mongo: MongoDoubleHandle;
  let t: TestApp;
  beforeAll(async () => {
    mongo = await startMongoDouble();
    t = await startTestApp({ env: { MONGODB_URI: mongo.uri.replace('/?', '/crm_e2e?') } });
  });
  afterAll(async () => {
    await t.close();
    await mongo.stop();
  });

  it('projects commands into Mongo read models and answers queries with read-your-writes', async () => {
    const created = await t.request('POST', '/customers', { body: { name: 'Mónica Mongo', kind: 'customer', ownerId: 'agent-ana', externalRef: 'crm:1' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const purchase = await t.request('POST', '/purchases', { body: { customerId: id, currency: 'GBP', lines: [{ sku: 'X', quantity: 3, unitPrice: '4.50' }] } });
    const contact = await t.request('POST', `/customers/${id}/contacts`, { body: { channel: 'email', direction: 'outbound', purpose: 'follow-up', summary: 's', outcome: 'sent' } });
    const min = Math.max(purchase.body.position, contact.body.position);

    const profile = await t.request('GET', `/customers/${id}?minPosition=${min}`);
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id, name: 'Mónica Mongo', ownerId: 'agent-ana', outboundContactsLast7Days: 1 });
    const search = await t.request('GET', `/customers?q=monica&minPosition=${min}`);
    expect(search.body.items.map((c: { id: string }) => c.id)).toEqual([id]);
    expect((await t.request('GET', `/customers?externalRef=crm:1&minPosition=${min}`)).body.items).toHaveLength(1);
    const loyalty = await t.request('GET', `/customers/${id}/loyalty?minPosition=${min}`);
    expect(loyalty.body).toMatchObject({ points: 13, spend: { GBP: { gross: '13.50', returns: '0.00', net: '13.50' } } });
    const timeline = await t.request('GET', `/customers/${id}/timeline?minPosition=${min}`);
    expect(timeline.body.items.map((e: { type: string }) => e.type).sort()).toEqual(['ContactLogged', 'CustomerRegistered', 'PurchaseRecorded']);
    const top = await t.request('GET', `/loyalty/top?minPosition=${min}`);
    expect(top.body.items[0]).toMatchObject({ rank: 1, customerId: id, monetary: { amount: '13.50', currency: 'GBP' } });
  });

  it('shows in GET /projections which projector replica owns each projection and until when, from the leases in MongoDB', async () => {
    const before = await t.request('GET', '/projections', { token: TOKENS.admin });
    expect(before.body.projections.map((p: { owner: unknown; leaseExpiresAt: unknown }) => [p.owner, p.leaseExpiresAt]))
      .toEqual(before.body.projections.map(() => [null, null]));
    // A projector replica elsewhere takes the timeline's lease (the API runs the others here, unleased).
    const client = await new MongoClient(mongo.uri).connect();
    try {
      const leases = new MongoLeaseStore(client.db('crm_e2e'));
      const now = Date.now();
      await leases.acquire('customer_timelines', 'replica-on-host-b-7qz', now, 600_000);
      await leases.acquire(SLA_WATCHER_LEASE, 'replica-on-host-b-7qz', now, 600_000);
      const expired = await leases.acquire('loyalty', 'replica-gone-k2', now - 700_000, 600_000);
      expect(expired).not.toBeNull();
      const res = await t.request('GET', '/projections', { token: TOKENS.admin });
      const byName = new Map(res.body.projections.map((p: { name: string }) => [p.name, p]));
      expect(byName.get('customer_timelines')).toMatchObject({ owner: 'replica-on-host-b-7qz', leaseExpiresAt: new Date(now + 600_000).toISOString() });
      expect(byName.get('loyalty')).toMatchObject({ owner: null, leaseExpiresAt: null });
      expect(byName.get('complaints')).toMatchObject({ owner: null, leaseExpiresAt: null });
    } finally {
      await client.close();
    }
  });
});

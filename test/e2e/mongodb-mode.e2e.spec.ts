import { startMongoDouble, type MongoDoubleHandle } from '../doubles/mongo-wire-double';
import { startTestApp, type TestApp } from '../support/test-app';

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
});

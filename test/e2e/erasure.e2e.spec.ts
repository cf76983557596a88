import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/**
 * GDPR erasure by crypto-shredding: personal data is encrypted per customer in the log, the key is destroyed on
 * erasure, every read model masks what it had, and no personal value is left in any file of the data directory.
 */
describe.each([
  ['on the API\'s event loop (PROJECTOR=embedded)', false],
  ['in the projector thread of npm start (PROJECTOR=thread)', true],
])('erasure of a customer (crypto-shredding), projections %s', (_mode, projectorThread) => {
  let t: TestApp;
  const PERSONAL = ['Eleanor Rigby', 'eleanor@example.com', '447700900123', '+44 7700 900123', 'picks up rice in a church', 'lonely people everywhere', 'darning socks at night', 'wearing the face'];
  beforeAll(async () => {
    // The receipt is asserted with every read model masked: the erasure's wait for them (READ_WAIT_MS, 2 s by default)
    // must not run out on a loaded CI machine. It ends as soon as they have masked.
    t = await startTestApp({ projectorThread, env: { READ_WAIT_MS: '30000' }, customerTokens: [{ token: 'eleanor-portal', customerId: 'eleanor' }] });
  });
  afterAll(async () => {
    await t.close();
  });

  it('exports first, erases with a receipt, keeps the non-personal history, and leaves no personal value on disk', async () => {
    await t.request('POST', '/customers', { body: { id: 'eleanor', name: 'Eleanor Rigby', email: 'eleanor@example.com', phone: '+44 7700 900123', kind: 'customer', ownerId: 'agent-ana' } });
    await t.request('POST', '/customers', { body: { id: 'father-mckenzie', name: 'Father McKenzie', kind: 'customer' } });
    await t.request('POST', '/customers/eleanor/contacts', { body: { channel: 'visit', direction: 'inbound', purpose: 'sales', summary: 'picks up rice in a church', outcome: 'bought' } });
    const complaint = (await t.request('POST', '/complaints', { body: { customerId: 'eleanor', channel: 'letter', category: 'service', priority: 'P3', description: 'lonely people everywhere' } })).body.id;
    await t.request('POST', `/complaints/${complaint}/respond`, { body: { message: 'wearing the face' } });
    await t.request('POST', '/customers/eleanor/follow-ups', { body: { dueAt: '2026-11-30T09:00:00Z', reason: 'darning socks at night' } });
    const purchase = (await t.request('POST', '/purchases', { body: { customerId: 'eleanor', orderId: 'rice-1', currency: 'GBP', lines: [{ sku: 'RICE', quantity: 2, unitPrice: '1.25' }] } })).body;
    await t.request('GET', `/customers/eleanor/timeline?minPosition=${purchase.position}`);

    // The log itself never held the personal values in clear.
    const events = readFileSync(join(t.dataDir, 'events.db'));
    expect(PERSONAL.filter((v) => events.includes(v))).toEqual([]);

    const exported = await t.request('GET', '/customers/eleanor/export', { token: 'eleanor-portal' });
    expect(exported.status).toBe(200);
    expect(JSON.stringify(exported.body)).toContain('picks up rice in a church');
    expect((await t.request('GET', '/customers/father-mckenzie/export', { token: 'eleanor-portal' })).status).toBe(404);

    expect((await t.request('POST', '/customers/eleanor/erase', { body: { reason: 'GDPR request #42' } })).status).toBe(403);
    const erased = await t.request('POST', '/customers/eleanor/erase', { token: TOKENS.admin, body: { reason: 'GDPR request #42' } });
    expect(erased.status).toBe(201);
    expect(erased.body.receipt).toMatchObject({
      customerId: 'eleanor', keyDestroyed: true, reason: 'GDPR request #42', eventsWithPersonalData: 5,
      fields: { CustomerRegistered: ['name', 'email', 'phone'], ContactLogged: ['summary'], ComplaintFiled: ['description'], ComplaintResponded: ['message'], FollowUpScheduled: ['reason'] },
      readModelsMasked: ['customer_profiles', 'customer_timelines', 'complaints', 'follow_ups'], readModelsPending: [], readModelFilesCompacted: true,
    });

    const profile = await t.request('GET', `/customers/eleanor?minPosition=${erased.body.position}`);
    expect(profile.body).toMatchObject({ name: '[erased]', email: null, phone: null, ownerId: 'agent-ana' });
    expect((await t.request('GET', '/customers?q=eleanor')).body.items).toEqual([]);
    const timeline = await t.request('GET', `/customers/eleanor/timeline?minPosition=${erased.body.position}`);
    expect(timeline.body.items.map((e: { type: string }) => e.type)).toContain('PurchaseRecorded');
    const trail = await t.request('GET', '/customers/eleanor/trail', { token: TOKENS.auditor });
    const registered = trail.body.events.find((e: { type: string }) => e.type === 'CustomerRegistered');
    expect(registered.data).toMatchObject({ customerId: 'eleanor', kind: 'customer', name: '[erased]', email: '[erased]', ownerId: 'agent-ana' });
    expect(trail.body.events.find((e: { type: string }) => e.type === 'PurchaseRecorded').data.total).toEqual({ amount: 250, scale: 2, currency: 'GBP' });
    expect(trail.body.events.at(-1)).toMatchObject({ type: 'CustomerErased', actor: { id: 'admin-1', role: 'admin' } });

    const again = await t.request('POST', '/customers/eleanor/contacts', { body: { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 'hello again', outcome: 'x' } });
    expect(again.status).toBe(410);
    expect(again.body.type).toBe('customer-erased');
    expect((await t.request('POST', '/purchases', { body: { customerId: 'eleanor', currency: 'GBP', lines: [{ sku: 'R', quantity: 1, unitPrice: '1' }] } })).status).toBe(410);
    expect((await t.request('POST', '/customers/eleanor/erase', { token: TOKENS.admin, body: { reason: 'again' } })).status).toBe(410);

    const exportAfter = await t.request('GET', '/events', { token: TOKENS.auditor });
    const audit = await t.request('GET', '/audit/export?customerId=eleanor', { token: TOKENS.auditor });
    const answers = [JSON.stringify(profile.body), JSON.stringify(timeline.body), JSON.stringify(trail.body), String(exportAfter.body), String(audit.body),
      JSON.stringify((await t.request('GET', `/complaints/${complaint}`)).body), JSON.stringify((await t.request('GET', '/follow-ups')).body)];
    expect(PERSONAL.flatMap((v) => answers.flatMap((a, i) => (a.includes(v) ? [`${i}: ${v}`] : [])))).toEqual([]);

    // No personal value left in any file of the data directory (SQLite files, WALs, key store, idempotency store).
    const leftovers = readdirSync(t.dataDir).flatMap((file) => {
      const bytes = readFileSync(join(t.dataDir, file));
      return PERSONAL.filter((v) => bytes.includes(v) || bytes.includes(Buffer.from(v, 'utf16le'))).map((v) => `${file}: ${v}`);
    });
    expect(leftovers).toEqual([]);
    // The other customer is untouched.
    expect((await t.request('GET', '/customers/father-mckenzie')).body.name).toBe('Father McKenzie');
  });
});

import { startTestApp, type TestApp } from '../support/test-app';

describe('contacts, the contact policy and follow-ups over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const newCustomer = async (): Promise<string> =>
    (await t.request('POST', '/customers', { body: { name: 'Cap Test', kind: 'customer', ownerId: 'agent-ana' } })).body.id;
  const contact = (id: string, body: Record<string, unknown>) =>
    t.request('POST', `/customers/${id}/contacts`, {
      body: { channel: 'phone', direction: 'outbound', purpose: 'sales', summary: 'called', outcome: 'interested', ...body },
    });
  const types = async (stream: string): Promise<string[]> =>
    (await t.request('GET', `/streams/${stream}/events`)).body.events.map((e: { type: string }) => e.type);

  it('logs every channel and purpose, with the agent and a past occurredAt kept as business time', async () => {
    const id = await newCustomer();
    const res = await contact(id, { channel: 'video', direction: 'inbound', purpose: 'support', occurredAt: '2026-11-20T09:30:00+01:00' });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/customers/${id}/contacts/${res.body.id}`);
    const events = (await t.request('GET', `/streams/customer-${id}/events`)).body.events;
    expect(events[1].type).toBe('ContactLogged');
    expect(events[1].data).toMatchObject({ contactId: res.body.id, channel: 'video', direction: 'inbound', purpose: 'support', occurredAt: '2026-11-20T08:30:00.000Z', agentId: 'agent-ana' });
    expect(events[1].metadata.occurredAt).toBe('2026-11-20T08:30:00.000Z');
    expect(events[1].metadata.recordedAt).toBe('2026-11-23T10:00:00.000Z');
  });

  it('refuses a contact dated in the future and a date without a zone', async () => {
    const id = await newCustomer();
    expect((await contact(id, { occurredAt: '2026-11-24T10:00:00Z' })).status).toBe(400);
    expect((await contact(id, { occurredAt: '2026-11-20T10:00:00' })).status).toBe(400);
    expect((await contact(id, { channel: 'pigeon' })).body.errors[0].field).toBe('channel');
  });

  it('caps outbound contacts per rolling 7 days, names the rule, never caps inbound, and appends nothing when refused', async () => {
    const id = await newCustomer();
    expect((await t.request('PUT', `/customers/${id}/contact-preferences`, { body: { maxContactsPer7Days: 2, doNotContact: false, channels: [] } })).status).toBe(201);
    expect((await contact(id, {})).status).toBe(201);
    expect((await contact(id, { purpose: 'follow-up' })).status).toBe(201);
    const third = await contact(id, {});
    expect(third.status).toBe(422);
    expect(third.body).toMatchObject({ type: 'contact-cap-exceeded', status: 422, rule: 'rolling-7-day-cap' });
    expect((await contact(id, { direction: 'inbound', purpose: 'support' })).status).toBe(201);
    expect(await types(`customer-${id}`)).toEqual(['CustomerRegistered', 'ContactPreferencesSet', 'ContactLogged', 'ContactLogged', 'ContactLogged']);
    t.clock.advance(7 * 24 * 3600_000);
    expect((await contact(id, {})).status).toBe(201);
    t.clock.set(new Date('2026-11-23T10:00:00Z'));
  });

  it('blocks marketing for do-not-contact but never a reply to an open complaint of the customer', async () => {
    const id = await newCustomer();
    await t.request('PUT', `/customers/${id}/contact-preferences`, { body: { maxContactsPer7Days: 0, doNotContact: true, channels: ['email'] } });
    const marketing = await contact(id, { purpose: 'marketing', channel: 'email' });
    expect(marketing.status).toBe(422);
    expect(marketing.body.rule).toBe('do-not-contact');
    const complaint = await t.request('POST', '/complaints', {
      body: { customerId: id, channel: 'phone', category: 'billing', priority: 'P2', description: 'double charge' },
    });
    expect(complaint.status).toBe(201);
    const reply = await contact(id, { purpose: 'support', channel: 'phone', complaintId: complaint.body.id });
    expect(reply.status).toBe(201);
    const other = await newCustomer();
    const foreign = await contact(other, { purpose: 'support', complaintId: complaint.body.id });
    expect(foreign.status).toBe(422);
    expect(foreign.body.type).toBe('complaint-not-of-customer');
  });

  it('schedules, completes and cancels follow-ups; a closed follow-up cannot change again', async () => {
    const id = await newCustomer();
    const a = await t.request('POST', `/customers/${id}/follow-ups`, { body: { dueAt: '2026-11-25T09:00:00Z', reason: 'check delivery' } });
    expect(a.status).toBe(201);
    const b = await t.request('POST', `/customers/${id}/follow-ups`, { body: { dueAt: '2026-11-26T09:00:00Z', reason: 'survey' } });
    expect((await t.request('POST', `/customers/${id}/follow-ups/${a.body.id}/complete`, { body: { note: 'delivered' } })).status).toBe(201);
    expect((await t.request('POST', `/customers/${id}/follow-ups/${b.body.id}/cancel`)).status).toBe(201);
    const again = await t.request('POST', `/customers/${id}/follow-ups/${a.body.id}/cancel`, { body: {} });
    expect(again.status).toBe(422);
    expect(again.body.type).toBe('follow-up-closed');
    const unknown = await t.request('POST', `/customers/${id}/follow-ups/nope/complete`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('follow-up-not-found');
    const events = (await t.request('GET', `/streams/customer-${id}/events`)).body.events;
    expect(events[1].data).toMatchObject({ followUpId: a.body.id, dueAt: '2026-11-25T09:00:00.000Z', ownerId: 'agent-ana' });
  });
});

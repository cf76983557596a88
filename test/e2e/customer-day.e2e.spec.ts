import { startTestApp, type TestApp } from '../support/test-app';

/**
 * A scripted day of one customer, through the real HTTP app and the embedded projector, with the clock moved by
 * hand: prospect → contact → conversion → purchase → complaint → SLA breach → late response → return → resolution.
 * Every read model is asserted exactly, read with minPosition (never by sleeping).
 */
describe('a day in the life of a customer', () => {
  let t: TestApp;
  let last = 0;
  const at = (hhmm: string): void => t.clock.set(new Date(`2026-11-23T${hhmm}:00.000Z`));
  const send = async (method: string, path: string, body?: unknown): Promise<{ id: string; position: number }> => {
    const res = await t.request(method, path, { body });
    expect(res.status).toBe(201);
    last = Math.max(last, res.body.position);
    return res.body;
  };
  const read = async (path: string): Promise<any> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${last}`);
    expect(res.status).toBe(200);
    expect(res.body.asOfPosition).toBeGreaterThanOrEqual(last);
    expect(res.headers.get('x-read-model-position')).toBe(String(res.body.asOfPosition));
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestApp({ now: new Date('2026-11-23T09:00:00Z') });
  });
  afterAll(async () => {
    await t.close();
  });

  it('ends with the exact timeline, loyalty, breach and profile documents', async () => {
    at('09:00');
    const { id } = await send('POST', '/customers', { name: 'Zoë Ångström', email: 'zoe@example.com', phone: '+44 20 7946 0001', kind: 'prospect', ownerId: 'agent-ana' });
    at('09:10');
    await send('POST', `/customers/${id}/contacts`, { channel: 'phone', direction: 'outbound', purpose: 'sales', summary: 'intro call', outcome: 'interested' });
    at('09:30');
    await send('POST', `/customers/${id}/convert`);
    at('09:40');
    await send('POST', '/purchases', { customerId: id, orderId: `day-${id}`, currency: 'GBP', lines: [{ sku: 'A', description: 'Mug', quantity: 2, unitPrice: '10.00' }, { sku: 'B', quantity: 3, unitPrice: '2.50' }] });
    at('10:00');
    const complaint = await send('POST', '/complaints', { customerId: id, channel: 'email', category: 'delivery', priority: 'P1', description: 'mug arrived broken' });
    at('10:59');
    expect(await t.projector!.slaWatcher.checkOnce()).toBe(0);
    at('11:30');
    await read('/complaints?status=open');
    expect(await t.projector!.slaWatcher.checkOnce()).toBe(1);
    expect(await t.projector!.slaWatcher.checkOnce()).toBe(0);
    last = (await t.request('GET', `/streams/complaint-${complaint.id}/events`)).body.events.at(-1).position;
    at('11:45');
    await send('POST', `/complaints/${complaint.id}/respond`, { message: 'sorry, replacing it' });
    at('12:00');
    await send('POST', `/purchases/day-${id}/returns`, { lines: [{ sku: 'A', quantity: 1 }], reason: 'broken' });
    at('12:10');
    await send('POST', `/complaints/${complaint.id}/resolve`, { resolution: 'refunded one mug' });
    at('14:30');
    await read('/complaints?status=open');
    expect(await t.projector!.slaWatcher.checkOnce()).toBe(0);

    const timeline = await read(`/customers/${id}/timeline`);
    expect(timeline.items.map((e: { type: string; occurredAt: string }) => [e.type, e.occurredAt.slice(11, 16)])).toEqual([
      ['ComplaintResolved', '12:10'],
      ['ReturnRecorded', '12:00'],
      ['ComplaintResponded', '11:45'],
      ['SlaBreached', '11:00'],
      ['ComplaintFiled', '10:00'],
      ['PurchaseRecorded', '09:40'],
      ['ProspectConverted', '09:30'],
      ['ContactLogged', '09:10'],
      ['CustomerRegistered', '09:00'],
    ]);
    expect(timeline.items[3]).toMatchObject({ actor: { id: 'sla-watcher', role: 'system' }, recordedAt: '2026-11-23T11:30:00.000Z', summary: 'SLA first-response deadline 2026-11-23T11:00:00.000Z missed' });
    expect(timeline.items[7]).toMatchObject({ actor: { id: 'agent-ana', role: 'agent' }, summary: 'outbound phone contact (sales): interested' });
    expect(timeline.nextCursor).toBeNull();
    const page1 = await read(`/customers/${id}/timeline?limit=4`);
    const page2 = await read(`/customers/${id}/timeline?limit=4&cursor=${page1.nextCursor}`);
    const page3 = await read(`/customers/${id}/timeline?limit=4&cursor=${page2.nextCursor}`);
    expect([...page1.items, ...page2.items, ...page3.items].map((e: { eventId: string }) => e.eventId)).toEqual(timeline.items.map((e: { eventId: string }) => e.eventId));
    expect(page3.nextCursor).toBeNull();
    const onlyMoney = await read(`/customers/${id}/timeline?types=PurchaseRecorded,ReturnRecorded`);
    expect(onlyMoney.items.map((e: { type: string }) => e.type)).toEqual(['ReturnRecorded', 'PurchaseRecorded']);

    expect(await read(`/customers/${id}/loyalty`)).toEqual({
      customerId: id,
      policyVersion: 'loyalty-2026-01',
      currency: 'GBP',
      points: 17,
      tier: 'bronze',
      spend: { GBP: { gross: '27.50', returns: '10.00', net: '17.50' } },
      unconverted: [],
      orders: 1,
      returns: 1,
      referenceDate: '2026-11-23T14:30:00.000Z',
      rfm: { recencyDays: 0, frequency: 1, monetary: { amount: '17.50', currency: 'GBP' }, scores: { recency: 1, frequency: 1, monetary: 1 }, segment: '111', customersScored: 1 },
      firstPurchaseAt: '2026-11-23T09:40:00.000Z',
      lastPurchaseAt: '2026-11-23T09:40:00.000Z',
      purchaseIntervals: { orders: 1, meanDays: null, medianDays: null, nextExpectedAt: null },
      asOfPosition: expect.any(Number),
    });

    const breaches = await read('/sla/breaches?from=2026-11-23&to=2026-11-24');
    expect(breaches.items).toEqual([{
      complaintId: complaint.id, customerId: id, ownerId: 'agent-ana', priority: 'P1', kind: 'first-response',
      dueAt: '2026-11-23T11:00:00.000Z', breachedAt: '2026-11-23T11:00:00.000Z', detectedAt: '2026-11-23T11:30:00.000Z',
      metAt: '2026-11-23T11:45:00.000Z', stillOpen: false, minutesLate: 45,
    }]);
    expect((await read('/sla/breaches?from=2026-11-24')).items).toEqual([]);

    const profile = await read(`/customers/${id}`);
    expect(profile).toMatchObject({
      id, name: 'Zoë Ångström', status: 'customer', ownerId: 'agent-ana', openComplaintCount: 0, openComplaints: [],
      lastContact: { channel: 'phone', direction: 'outbound', purpose: 'sales', outcome: 'interested', occurredAt: '2026-11-23T09:10:00.000Z' },
      contactsLast7Days: 1, outboundContactsLast7Days: 1, followUpsDue: [], streamRevision: 2,
    });
    const found = await read('/customers?q=ZOE%20angstrom');
    expect(found.items.map((c: { id: string }) => c.id)).toEqual([id]);
    expect((await read('/customers?q=7946%200001')).items.map((c: { id: string }) => c.id)).toEqual([id]);

    const complaintDoc = await read(`/complaints/${complaint.id}`);
    expect(complaintDoc).toMatchObject({
      status: 'resolved', open: false, ownerId: 'agent-ana', breached: true, firstRespondedAt: '2026-11-23T11:45:00.000Z',
      resolvedAt: '2026-11-23T12:10:00.000Z', breaches: [{ kind: 'first-response', dueAt: '2026-11-23T11:00:00.000Z' }],
    });
    expect((await read('/complaints?breached=true')).items.map((c: { complaintId: string }) => c.complaintId)).toEqual([complaint.id]);
    expect((await read('/complaints?status=open')).items).toEqual([]);
  });
});

import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

describe('complaints and purchases over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const newCustomer = async (ownerId?: string): Promise<string> =>
    (await t.request('POST', '/customers', { body: { name: 'C', kind: 'customer', ...(ownerId ? { ownerId } : {}) } })).body.id;
  const eventsOf = async (stream: string): Promise<Array<{ type: string; data: any }>> => // eslint-disable-line @typescript-eslint/no-explicit-any
    (await t.request('GET', `/streams/${stream}/events`)).body.events;

  it('files a complaint owned by the customer owner with SLA deadlines, then runs the lifecycle to closed', async () => {
    const customerId = await newCustomer('agent-bob');
    const filed = await t.request('POST', '/complaints', {
      body: { customerId, channel: 'email', category: 'delivery', priority: 'P1', description: 'late' },
    });
    expect(filed.status).toBe(201);
    const id = filed.body.id as string;
    expect(filed.headers.get('location')).toBe(`/complaints/${id}`);
    const [event] = await eventsOf(`complaint-${id}`);
    expect(event?.type).toBe('ComplaintFiled');
    expect(event?.data).toMatchObject({
      customerId, ownerId: 'agent-bob', priority: 'P1', filedAt: '2026-11-23T10:00:00.000Z',
      sla: { policyVersion: 'sla-2026-01', firstResponseDueAt: '2026-11-23T11:00:00.000Z', resolutionDueAt: '2026-11-23T14:00:00.000Z' },
    });
    for (const step of ['respond', 'resolve']) {
      const body = step === 'respond' ? { message: 'on it' } : { resolution: 'refunded' };
      expect((await t.request('POST', `/complaints/${id}/${step}`, { body })).status).toBe(201);
    }
    expect((await t.request('POST', `/complaints/${id}/reopen`, { body: { reason: 'still broken' } })).status).toBe(201);
    const closeOpen = await t.request('POST', `/complaints/${id}/close`);
    expect(closeOpen.status).toBe(422);
    expect(closeOpen.body.type).toBe('complaint-not-resolved');
    expect((await t.request('POST', `/complaints/${id}/resolve`, { body: { resolution: 'replaced' } })).status).toBe(201);
    expect((await t.request('POST', `/complaints/${id}/close`)).status).toBe(201);
    const afterClose = await t.request('POST', `/complaints/${id}/respond`, { body: { message: 'hello?' } });
    expect(afterClose.status).toBe(422);
    expect(afterClose.body.type).toBe('complaint-closed');
    expect((await eventsOf(`complaint-${id}`)).map((e) => e.type)).toEqual([
      'ComplaintFiled', 'ComplaintResponded', 'ComplaintResolved', 'ComplaintReopened', 'ComplaintResolved', 'ComplaintClosed',
    ]);
  });

  it('records a complaint resolved at first contact, reassignment with a reason, and refuses unknown customers', async () => {
    const customerId = await newCustomer();
    const filed = await t.request('POST', '/complaints', {
      body: { customerId, channel: 'chat', category: 'product', priority: 'P4', description: 'how to', resolvedAtFirstContact: true },
    });
    expect(filed.status).toBe(201);
    expect(filed.body.streamRevision).toBe(1);
    expect((await eventsOf(`complaint-${filed.body.id}`)).map((e) => e.type)).toEqual(['ComplaintFiled', 'ComplaintResolved']);
    const owner = await t.request('PUT', `/complaints/${filed.body.id}/owner`, { body: { ownerId: 'agent-carl', reason: 'specialist' } });
    expect(owner.status).toBe(201);
    const unknown = await t.request('POST', '/complaints', {
      body: { customerId: 'nobody', channel: 'chat', category: 'x', priority: 'P3', description: 'x' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('customer-not-found');
    const badPriority = await t.request('POST', '/complaints', {
      body: { customerId, channel: 'chat', category: 'x', priority: 'P9', description: 'x' },
    });
    expect(badPriority.status).toBe(400);
  });

  it('shows a complaint on the board with every field of the contract, its free text redacted for analysts only', async () => {
    const customerId = await newCustomer('agent-bob');
    const filed = await t.request('POST', '/complaints', {
      body: { customerId, channel: 'phone', category: 'billing', priority: 'P2', description: 'charged twice for order 77' },
    });
    expect(filed.status).toBe(201);
    const path = `/complaints/${filed.body.id as string}?minPosition=${filed.body.position as number}`;
    const agent = await t.request('GET', path);
    expect(agent.status).toBe(200);
    expect(agent.body).toEqual({
      id: filed.body.id, complaintId: filed.body.id, customerId, ownerId: 'agent-bob', status: 'filed', open: true,
      priority: 'P2', channel: 'phone', category: 'billing', description: 'charged twice for order 77',
      filedAt: '2026-11-23T10:00:00.000Z', slaPolicyVersion: 'sla-2026-01',
      firstResponseDueAt: expect.any(String), resolutionDueAt: expect.any(String),
      firstRespondedAt: null, firstResponseMetAt: null, resolvedAt: null, closedAt: null, resolvedAtFirstContact: false,
      reopenCount: 0, breached: false, breaches: [], lastPosition: filed.body.position,
      paused: false, pausedSince: null, clocksStopped: false, pausedMinutes: 0, filingPriority: 'P2', priorityChanges: 0,
      escalated: false, escalations: [], nextEscalationAt: null,
      asOfPosition: expect.any(Number),
    });
    const analyst = await t.request('GET', path, { token: TOKENS.analyst });
    expect(analyst.status).toBe(200);
    expect(analyst.body).toEqual({ ...agent.body, category: '[redacted]', description: '[redacted]', asOfPosition: expect.any(Number) });
    const board = await t.request('GET', `/complaints?customerId=${customerId}`, { token: TOKENS.analyst });
    expect(board.body.items).toEqual([expect.objectContaining({ complaintId: filed.body.id, category: '[redacted]', description: '[redacted]', priority: 'P2' })]);
  });

  it('records a purchase with exact money and returns that never exceed what was bought', async () => {
    const customerId = await newCustomer();
    const purchase = await t.request('POST', '/purchases', {
      body: {
        customerId, orderId: 'inv-536365', occurredAt: '2010-12-01T08:26:00Z', currency: 'GBP',
        lines: [
          { sku: '85123A', description: 'WHITE HANGING HEART', quantity: 6, unitPrice: '2.55' },
          { sku: 'PAPER', quantity: 1000, unitPrice: '0.001' },
          { sku: '71053', quantity: 2, unitPrice: 3.39 },
        ],
      },
    });
    expect(purchase.status).toBe(201);
    expect(purchase.body.id).toBe('inv-536365');
    const [recorded] = await eventsOf('order-inv-536365');
    expect(recorded?.data.total).toEqual({ amount: 23080, scale: 3, currency: 'GBP' });
    expect(recorded?.data.lines[1]).toMatchObject({ sku: 'PAPER', unitPrice: { amount: 1, scale: 3 }, lineTotal: { amount: 1000, scale: 3 } });

    const ret = await t.request('POST', '/purchases/inv-536365/returns', { body: { lines: [{ sku: '85123A', quantity: 4 }], reason: 'damaged' } });
    expect(ret.status).toBe(201);
    const tooMany = await t.request('POST', '/purchases/inv-536365/returns', { body: { lines: [{ sku: '85123A', quantity: 3 }], reason: 'again' } });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body).toMatchObject({ type: 'return-exceeds-purchase', sku: '85123A', requested: 3, returnable: 2 });
    const notBought = await t.request('POST', '/purchases/inv-536365/returns', { body: { lines: [{ sku: 'NOPE', quantity: 1 }], reason: 'x' } });
    expect(notBought.status).toBe(422);
    const unknownOrder = await t.request('POST', '/purchases/nope/returns', { body: { lines: [{ sku: 'A', quantity: 1 }], reason: 'x' } });
    expect(unknownOrder.status).toBe(404);
    expect(unknownOrder.body.type).toBe('order-not-found');
    const dup = await t.request('POST', '/purchases', { body: { customerId, orderId: 'inv-536365', currency: 'GBP', lines: [{ sku: 'A', quantity: 1, unitPrice: '1' }] } });
    expect(dup.status).toBe(409);
    expect(dup.body.type).toBe('order-already-exists');
    const badPrice = await t.request('POST', '/purchases', { body: { customerId, currency: 'GBP', lines: [{ sku: 'A', quantity: 1, unitPrice: '1.23456' }] } });
    expect(badPrice.status).toBe(400);
    expect(badPrice.body.errors[0].field).toBe('lines.0.unitPrice');
    expect((await eventsOf('order-inv-536365')).map((e) => e.type)).toEqual(['PurchaseRecorded', 'ReturnRecorded']);
  });
});

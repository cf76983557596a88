import { startTestApp, type TestApp, type TestResponse } from '../support/test-app';

/**
 * Issue 16, items 2 and 3 through the HTTP app: waiting for the customer (pause, resume, resume by an inbound
 * contact), the SLA watcher leaving a waiting complaint alone and breaching at the moved deadline, and priority
 * changes with their analytics. The default policy (24x7, P2 240/1440 and P1 60/240 minutes, no `pauseWhen`: waiting
 * stops the clocks). Clock moved by hand; read models read with minPosition.
 */
describe('SLA pause, resume and priority change over HTTP', () => {
  let t: TestApp;
  let last = 0;
  const at = (hhmm: string, day = '2026-11-23'): string => `${day}T${hhmm}:00.000Z`;
  const setClock = (hhmm: string, day = '2026-11-23'): void => t.clock.set(new Date(at(hhmm, day)));

  const send = async (method: string, path: string, body?: unknown): Promise<{ id: string; position: number }> => {
    const res = await t.request(method, path, { body });
    expect({ path, status: res.status, body: res.status === 201 ? 'created' : res.body }).toEqual({ path, status: 201, body: 'created' });
    last = Math.max(last, res.body.position);
    return res.body;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are asserted field by field
  const read = async (path: string): Promise<any> => {
    const res = await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${last}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const streamEvents = async (complaintId: string): Promise<Array<{ type: string; data: Record<string, unknown>; position: number }>> =>
    (await t.request('GET', `/streams/complaint-${complaintId}/events`, { token: 'admin-token-0123456789' })).body.events;
  const types = async (complaintId: string): Promise<string[]> => (await streamEvents(complaintId)).map((e) => e.type);
  /** The SLA watcher's pass once the board shows everything appended so far. */
  const watch = async (): Promise<number> => {
    last = Math.max(last, (await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition as number);
    await read('/complaints?limit=1');
    return t.projector!.slaWatcher.checkOnce();
  };
  const expectProblem = (res: TestResponse, status: number, type: string): void => {
    expect({ status: res.status, type: res.body?.type, contentType: res.headers.get('content-type') }).toEqual({
      status, type, contentType: expect.stringMatching(/^application\/problem\+json/),
    });
  };

  let customerId = '';
  let seq = 0;
  const fileP2 = async (filedAt = '09:00'): Promise<string> => {
    setClock(filedAt);
    seq += 1;
    const { id } = await send('POST', '/complaints', {
      id: `pause-cmp-${seq}`, customerId, channel: 'email', category: 'delivery', priority: 'P2', description: 'parcel never came',
    });
    return id;
  };

  beforeAll(async () => {
    t = await startTestApp({ now: new Date('2026-11-23T08:00:00Z') });
    customerId = (await send('POST', '/customers', { name: 'Pia Pause', email: 'pia@example.com', kind: 'customer', ownerId: 'agent-ana' })).id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('stops the clocks while waiting: no breach while paused, deadlines moved by the wait, breach at the moved deadline', async () => {
    const id = await fileP2('09:00');
    setClock('10:00');
    await send('POST', `/complaints/${id}/await-customer`, { reason: 'asked for the tracking number' });
    setClock('10:30');
    expect(await read(`/complaints/${id}`)).toMatchObject({
      paused: true, pausedSince: at('10:00'), clocksStopped: true, pausedMinutes: 30,
      firstResponseDueAt: at('13:00'), resolutionDueAt: at('09:00', '2026-11-24'),
    });
    const ids = (body: { items: Array<{ complaintId: string }> }): string[] => body.items.map((c) => c.complaintId);
    expect(ids(await read('/complaints?paused=true'))).toContain(id);
    expect(ids(await read('/complaints?paused=false'))).not.toContain(id);
    expect(ids(await read('/complaints?escalated=false'))).toContain(id);

    // Long past the first-response deadline (13:00): the watcher leaves the waiting complaint alone.
    setClock('14:00');
    expect(await watch()).toBe(0);
    expect(await types(id)).toEqual(['ComplaintFiled', 'ComplaintAwaitingCustomer']);

    await send('POST', `/complaints/${id}/resume`, { reason: 'customer sent it' });
    expect(await read(`/complaints/${id}`)).toMatchObject({
      paused: false, pausedSince: null, pausedMinutes: 240, firstResponseDueAt: at('17:00'), resolutionDueAt: at('13:00', '2026-11-24'),
    });
    setClock('16:59');
    expect(await watch()).toBe(0);
    setClock('17:00');
    expect(await watch()).toBe(1);
    const breach = (await streamEvents(id)).at(-1);
    expect(breach).toMatchObject({ type: 'SlaBreached', data: { kind: 'first-response', dueAt: at('17:00'), breachedAt: at('17:00') } });
  });

  it('refuses a second pause, a resume of a complaint not waiting, and pausing a resolved one: 409 problems, nothing appended', async () => {
    const id = await fileP2('09:00');
    setClock('09:10');
    const notPaused = await t.request('POST', `/complaints/${id}/resume`, { body: {} });
    expectProblem(notPaused, 409, 'complaint-not-paused');
    await send('POST', `/complaints/${id}/await-customer`, { reason: 'asked for a photo' });
    const before = await types(id);
    const again = await t.request('POST', `/complaints/${id}/await-customer`, { body: { reason: 'asked again' } });
    expectProblem(again, 409, 'complaint-already-paused');
    expect(await types(id)).toEqual(before);

    const resolvedId = await fileP2('09:20');
    await send('POST', `/complaints/${resolvedId}/resolve`, { resolution: 'refunded' });
    const resolvedBefore = await types(resolvedId);
    expectProblem(await t.request('POST', `/complaints/${resolvedId}/await-customer`, { body: { reason: 'too late' } }), 409, 'complaint-not-pausable');
    expectProblem(await t.request('POST', `/complaints/${resolvedId}/resume`, { body: {} }), 409, 'complaint-not-paused');
    expect(await types(resolvedId)).toEqual(resolvedBefore);

    expectProblem(await t.request('POST', `/complaints/${id}/await-customer`, { body: {} }), 400, 'validation-error');
    expectProblem(await t.request('POST', '/complaints/pause-nobody/await-customer', { body: { reason: 'x' } }), 404, 'complaint-not-found');
    expect(await types(id)).toEqual(before);
  });

  it('is resumed by an inbound contact linked to it, once (the watcher turns the contact into ComplaintResumed)', async () => {
    const id = await fileP2('09:00');
    setClock('09:30');
    await send('POST', `/complaints/${id}/await-customer`, { reason: 'asked for the address' });
    setClock('09:50');
    const contact = await send('POST', `/customers/${customerId}/contacts`, {
      channel: 'phone', direction: 'inbound', purpose: 'complaint', summary: 'gave the address', outcome: 'info received', complaintId: id,
    });
    expect(await watch()).toBe(0);
    const resumed = (await streamEvents(id)).filter((e) => e.type === 'ComplaintResumed');
    expect(resumed.map((e) => e.data)).toEqual([expect.objectContaining({
      trigger: 'inbound-contact', contactId: expect.any(String), resumedAt: at('09:50'), pausedSince: at('09:30'), pausedMinutes: 20,
      sla: { policyVersion: 'sla-2026-01', firstResponseDueAt: at('13:20'), resolutionDueAt: at('09:20', '2026-11-24') },
    })]);
    expect(contact.position).toBeLessThan(resumed[0]!.position);
    // Another pass, and a restart of the watcher's memory, append nothing more.
    expect(await watch()).toBe(0);
    await t.restart();
    expect(await watch()).toBe(0);
    expect((await types(id)).filter((type) => type === 'ComplaintResumed')).toHaveLength(1);
    expect(await read(`/complaints/${id}`)).toMatchObject({ paused: false, pausedMinutes: 20, firstResponseDueAt: at('13:20') });
  });

  it('changes the priority: deadlines of the new priority from filing, less the time waited; counted under it in analytics', async () => {
    const id = await fileP2('09:00');
    setClock('09:10');
    await send('POST', `/complaints/${id}/await-customer`, { reason: 'asked for the model' });
    setClock('09:40');
    await send('POST', `/complaints/${id}/resume`, {});
    setClock('09:50');
    await send('POST', `/complaints/${id}/priority`, { priority: 'P1', reason: 'customer is a hospital' });
    expect(await read(`/complaints/${id}`)).toMatchObject({
      priority: 'P1', filingPriority: 'P2', priorityChanges: 1, pausedMinutes: 30,
      firstResponseDueAt: at('10:30'), resolutionDueAt: at('13:30'),
    });
    // The customer's profile (what staff see when the customer calls) shows the same.
    const profile = await read(`/customers/${customerId}`);
    expect(profile.openComplaints.find((c: { complaintId: string }) => c.complaintId === id)).toMatchObject({
      priority: 'P1', paused: false, firstResponseDueAt: at('10:30'), resolutionDueAt: at('13:30'),
    });
    const before = await types(id);
    const same = await t.request('POST', `/complaints/${id}/priority`, { body: { priority: 'P1', reason: 'again' } });
    expectProblem(same, 422, 'priority-unchanged');
    expectProblem(await t.request('POST', `/complaints/${id}/priority`, { body: { priority: 'P9', reason: 'x' } }), 400, 'validation-error');
    expect(await types(id)).toEqual(before);

    const window = `from=${encodeURIComponent(at('09:00'))}&to=${encodeURIComponent(at('09:01'))}`;
    const current = await read(`/analytics/sla?${window}`);
    const filing = await read(`/analytics/sla?${window}&priorityAt=filing`);
    const count = (body: { items: Array<{ priority: string; complaints: number }> }, p: string): number => body.items.find((i) => i.priority === p)?.complaints ?? -1;
    expect(current.priorityBasis).toBe('current');
    expect(filing.priorityBasis).toBe('filing');
    expect(count(current, 'P1')).toBe(1);
    expect(count(filing, 'P1')).toBe(0);
    expect(count(filing, 'P2')).toBe(count(current, 'P2') + 1);
    expectProblem(await t.request('GET', '/analytics/sla?priorityAt=yesterday'), 400, 'validation-error');
  });

  it('keeps a recorded breach when the priority changes afterwards, and refuses a change on a closed complaint', async () => {
    const id = await fileP2('09:00');
    setClock('13:30');
    expect(await watch()).toBeGreaterThanOrEqual(1);
    await send('POST', `/complaints/${id}/priority`, { priority: 'P4', reason: 'not urgent after all' });
    expect(await read(`/complaints/${id}`)).toMatchObject({
      priority: 'P4', breached: true, breaches: [{ kind: 'first-response', dueAt: at('13:00') }], firstResponseDueAt: at('13:00'),
    });
    await send('POST', `/complaints/${id}/resolve`, { resolution: 'sent a new one' });
    await send('POST', `/complaints/${id}/close`, {});
    const before = await types(id);
    expectProblem(await t.request('POST', `/complaints/${id}/priority`, { body: { priority: 'P1', reason: 'x' } }), 422, 'complaint-closed');
    expect(await types(id)).toEqual(before);
  });
});

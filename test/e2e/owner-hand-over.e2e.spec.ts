import { randomUUID } from 'node:crypto';
import { until } from '../support/read-model-state';
import { startTestApp, type TestApp } from '../support/test-app';

interface StreamEvent {
  type: string;
  position: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/**
 * Issue 16, item 5: a change of a customer's owner hands the open complaints and follow-ups over (unless the request
 * says `moveOpenWork: false`). The tests drive the hand-over's passes by hand (`runOnce`), as others drive the SLA
 * watcher; one app runs it on its own timer, as production does.
 */
describe('owner hand-over over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const eventsOf = async (app: TestApp, stream: string): Promise<StreamEvent[]> =>
    (await app.request('GET', `/streams/${stream}/events`)).body.events;

  async function customerWithOpenWork(app: TestApp): Promise<{ id: string; open: string; closed: string; followUp: string; doneFollowUp: string }> {
    const id = (await app.request('POST', '/customers', { body: { name: 'Hand Over', kind: 'customer', ownerId: 'agent-ana' } })).body.id as string;
    const file = async (): Promise<string> =>
      (await app.request('POST', '/complaints', { body: { customerId: id, channel: 'email', category: 'delivery', priority: 'P3', description: 'late' } })).body.id;
    const open = await file();
    const closed = await file();
    await app.request('POST', `/complaints/${closed}/resolve`, { body: { resolution: 'refunded' } });
    expect((await app.request('POST', `/complaints/${closed}/close`)).status).toBe(201);
    const schedule = async (): Promise<string> =>
      (await app.request('POST', `/customers/${id}/follow-ups`, { body: { dueAt: '2026-11-30T09:00:00Z', reason: 'check delivery' } })).body.id;
    const followUp = await schedule();
    const doneFollowUp = await schedule();
    expect((await app.request('POST', `/customers/${id}/follow-ups/${doneFollowUp}/complete`, { body: {} })).status).toBe(201);
    return { id, open, closed, followUp, doneFollowUp };
  }

  async function followUpOwners(app: TestApp, customerId: string, minPosition: number): Promise<Record<string, string>> {
    const owners: Record<string, string> = {};
    for (const status of ['open', 'completed']) {
      const res = await app.request('GET', `/follow-ups?customerId=${customerId}&status=${status}&minPosition=${minPosition}`);
      expect(res.status).toBe(200);
      for (const f of res.body.items as Array<{ followUpId: string; ownerId: string }>) owners[f.followUpId] = f.ownerId;
    }
    return owners;
  }

  /** Drives one hand-over pass once the complaints board has reached `position` (the pass itself waits for that). */
  async function handOverAfter(position: number): Promise<{ moved: number }> {
    expect((await t.request('GET', `/complaints?minPosition=${position}&limit=1`)).status).toBe(200);
    return t.projector!.ownerHandOver.runOnce();
  }

  it('moves the open complaints and follow-ups to the new owner, with the reason in the history; closed ones stay', async () => {
    const work = await customerWithOpenWork(t);
    const reason = `ana to key accounts ${randomUUID()}`;
    const change = await t.request('PUT', `/customers/${work.id}/owner`, { body: { ownerId: 'agent-bob', reason } });
    expect(change.status).toBe(201);

    // Follow-ups move in the owner change's own append: visible at its position already.
    expect(await followUpOwners(t, work.id, change.body.position)).toEqual({ [work.followUp]: 'agent-bob', [work.doneFollowUp]: 'agent-ana' });
    const customerEvents = await eventsOf(t, `customer-${work.id}`);
    const ownerChange = customerEvents.find((e) => e.type === 'CustomerOwnerAssigned')!;
    expect(ownerChange.data).toMatchObject({ ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason, moveOpenWork: true });
    expect(customerEvents.filter((e) => e.type === 'FollowUpReassigned').map((e) => e.data)).toEqual([
      { customerId: work.id, followUpId: work.followUp, ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: `owner hand-over: ${reason}` },
    ]);

    expect(await handOverAfter(change.body.position)).toMatchObject({ moved: 1 });
    const moves = (await eventsOf(t, `complaint-${work.open}`)).filter((e) => e.type === 'ComplaintOwnerChanged');
    expect(moves).toHaveLength(1);
    expect(moves[0]!.data).toEqual({
      complaintId: work.open, customerId: work.id, ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: `owner hand-over: ${reason}`,
    });
    expect(moves[0]!.metadata).toMatchObject({ causationId: ownerChange.metadata['eventId'], correlationId: ownerChange.metadata['correlationId'] });
    const complaint = await t.request('GET', `/complaints/${work.open}?minPosition=${moves[0]!.position}`);
    expect(complaint.status).toBe(200);
    expect(complaint.body.ownerId).toBe('agent-bob');

    // The customer 360 shows the same: its open complaint and open follow-up are bob's now.
    const summary = (await t.request('GET', `/customers/${work.id}?minPosition=${moves[0]!.position}`)).body;
    expect(summary.openComplaints.map((c: { complaintId: string; ownerId: string }) => [c.complaintId, c.ownerId])).toEqual([[work.open, 'agent-bob']]);
    expect(summary.openFollowUps.map((f: { followUpId: string; ownerId: string }) => [f.followUpId, f.ownerId])).toEqual([[work.followUp, 'agent-bob']]);

    const closed = await t.request('GET', `/complaints/${work.closed}?minPosition=${moves[0]!.position}`);
    expect(closed.body).toMatchObject({ ownerId: 'agent-ana', status: 'closed' });
    expect((await eventsOf(t, `complaint-${work.closed}`)).map((e) => e.type)).not.toContain('ComplaintOwnerChanged');

    // Again, and after a restart (checkpoint in the read-model store): nothing is moved twice.
    expect(await t.projector!.ownerHandOver.runOnce()).toMatchObject({ moved: 0 });
    await t.restart();
    expect(await handOverAfter(moves[0]!.position)).toMatchObject({ moved: 0 });
    expect((await eventsOf(t, `complaint-${work.open}`)).filter((e) => e.type === 'ComplaintOwnerChanged')).toHaveLength(1);
  });

  it('moves nothing when the request says moveOpenWork: false', async () => {
    const work = await customerWithOpenWork(t);
    const change = await t.request('PUT', `/customers/${work.id}/owner`, { body: { ownerId: 'agent-bob', reason: 'cover for a week', moveOpenWork: false } });
    expect(change.status).toBe(201);

    expect(await followUpOwners(t, work.id, change.body.position)).toEqual({ [work.followUp]: 'agent-ana', [work.doneFollowUp]: 'agent-ana' });
    expect(await handOverAfter(change.body.position)).toMatchObject({ moved: 0 });
    expect((await eventsOf(t, `complaint-${work.open}`)).map((e) => e.type)).toEqual(['ComplaintFiled']);
    const customer = await t.request('GET', `/customers/${work.id}?minPosition=${change.body.position}`);
    expect(customer.body.ownerId).toBe('agent-bob');
  });

  it('refuses a moveOpenWork that is not a boolean, naming the field, and appends nothing', async () => {
    const work = await customerWithOpenWork(t);
    const before = (await eventsOf(t, `customer-${work.id}`)).length;
    const res = await t.request('PUT', `/customers/${work.id}/owner`, { body: { ownerId: 'agent-bob', reason: 'x', moveOpenWork: 'yes' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['moveOpenWork']);
    expect(await eventsOf(t, `customer-${work.id}`)).toHaveLength(before);
  });

  it('runs on its own in the projector, as in production', async () => {
    const live = await startTestApp({ startSlaWatcher: true });
    try {
      const work = await customerWithOpenWork(live);
      const change = await live.request('PUT', `/customers/${work.id}/owner`, { body: { ownerId: 'agent-bob', reason: 'territory' } });
      expect(change.status).toBe(201);
      const ownerOf = async (): Promise<unknown> =>
        (await live.request('GET', `/complaints/${work.open}?minPosition=${change.body.position}`)).body.ownerId;
      await until(async () => (await ownerOf()) === 'agent-bob', 15_000, 'the hand-over of the open complaint');
      expect(await ownerOf()).toBe('agent-bob');
    } finally {
      await live.close();
    }
  });
});

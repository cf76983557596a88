import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

describe('time travel: profile and timeline as of a past time or position, computed from the log', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: new Date('2026-11-23T10:00:00Z') });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers as the system knew it then', async () => {
    const id = (await t.request('POST', '/customers', { body: { name: 'Ada Before', kind: 'prospect', ownerId: 'agent-ana' } })).body.id as string;
    t.clock.set(new Date('2026-11-23T11:00:00Z'));
    const renamed = (await t.request('PATCH', `/customers/${id}`, { body: { name: 'Ada After' } })).body;
    t.clock.set(new Date('2026-11-23T12:00:00Z'));
    await t.request('POST', `/customers/${id}/contacts`, { body: { channel: 'chat', direction: 'inbound', purpose: 'sales', summary: 'hi', outcome: 'quote sent', occurredAt: '2026-11-23T09:00:00Z' } });
    await t.request('POST', `/customers/${id}/convert`);

    const then = await t.request('GET', `/customers/${id}?asOf=2026-11-23T10:30:00Z`);
    expect(then.status).toBe(200);
    expect(then.body).toMatchObject({ name: 'Ada Before', status: 'prospect', lastContact: null, asOf: '2026-11-23T10:30:00.000Z', streamRevision: 0 });
    const atRename = await t.request('GET', `/customers/${id}?asOf=${renamed.position}`);
    expect(atRename.body).toMatchObject({ name: 'Ada After', status: 'prospect', lastContact: null, asOfPosition: renamed.position });
    const now = await t.request('GET', `/customers/${id}?asOf=2026-11-23T12:00:00Z`);
    expect(now.body).toMatchObject({ name: 'Ada After', status: 'customer', lastContact: { outcome: 'quote sent' }, contactsLast7Days: 1 });

    const timelineThen = await t.request('GET', `/customers/${id}/timeline?asOf=2026-11-23T11:30:00Z`);
    expect(timelineThen.body.items.map((e: { type: string }) => e.type)).toEqual(['CustomerProfileChanged', 'CustomerRegistered']);
    const timelineNow = await t.request('GET', `/customers/${id}/timeline?asOf=2026-11-23T12:00:00Z&limit=2`);
    expect(timelineNow.body.items.map((e: { type: string }) => e.type)).toEqual(['ProspectConverted', 'CustomerProfileChanged']);
    expect(timelineNow.body.nextCursor).toEqual(expect.any(String));

    expect((await t.request('GET', `/customers/${id}?asOf=2026-11-22`)).status).toBe(404);
    expect((await t.request('GET', `/customers/${id}?asOf=yesterday`)).status).toBe(400);
    expect((await t.request('GET', `/customers/${id}?asOf=2026-11-23T10:30:00Z`, { token: TOKENS.auditor })).status).toBe(200);
  });
});

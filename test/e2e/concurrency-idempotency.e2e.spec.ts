import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

describe('concurrency, idempotency and durability over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const newCustomer = async (): Promise<string> =>
    (await t.request('POST', '/customers', { body: { name: 'C', kind: 'prospect' } })).body.id;
  const count = async (id: string): Promise<number> =>
    (await t.request('GET', `/streams/customer-${id}/events`)).body.events.length;
  /**
   * Opens `n` keep-alive connections to the app, so that a burst of `n` requests reuses them and reaches the app at
   * once rather than spread out by connection set-up (spread out, even the unqueued API used to get most through).
   */
  const warmConnections = async (n: number): Promise<void> => {
    await Promise.all(Array.from({ length: n }, () => t.request('GET', '/health/live', { token: null })));
  };
  const inbound = { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 's', outcome: 'o' };

  it('applies If-Match: a stale revision is a 412 with nothing appended, the current one succeeds', async () => {
    const id = await newCustomer();
    const stale = await t.request('POST', `/customers/${id}/contacts`, { body: inbound, headers: { 'if-match': '"5"' } });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ type: 'precondition-failed', currentRevision: 0 });
    expect(await count(id)).toBe(1);
    const ok = await t.request('POST', `/customers/${id}/contacts`, { body: inbound, headers: { 'if-match': '"0"' } });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('etag')).toBe('"1"');
    expect((await t.request('POST', `/customers/${id}/contacts`, { body: inbound, headers: { 'if-match': 'garbage' } })).status).toBe(400);
  });

  it('lets exactly one of two parallel commands with the same If-Match win', async () => {
    const id = await newCustomer();
    const results = await Promise.all([
      t.request('POST', `/customers/${id}/contacts`, { body: inbound, headers: { 'if-match': '"0"' } }),
      t.request('POST', `/customers/${id}/contacts`, { body: { ...inbound, summary: 'other' }, headers: { 'if-match': '"0"' } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 412]);
    expect(await count(id)).toBe(2);
  });

  // Whether these arrive spread out or all at once, the API queues one stream's commands, so none is refused: the
  // assertions hold for any interleaving (the executor's unit test makes them reach the stream at the same moment).
  it('serialises parallel commands without If-Match: every one succeeds, each at its own revision, none is lost', async () => {
    const id = await newCustomer();
    await warmConnections(10);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.request('POST', `/customers/${id}/contacts`, { body: { ...inbound, summary: `n${i}` } })),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 201));
    expect(results.map((r) => r.body.streamRevision).sort((a: number, b: number) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await count(id)).toBe(11);
  });

  it('accepts 50 concurrent contacts on one customer: 50 × 201 and exactly 50 new ContactLogged events', async () => {
    const id = await newCustomer();
    // Inbound support contacts: the contact cap governs outbound contacts only, so none is refused by policy.
    const summaries = Array.from({ length: 50 }, (_, i) => `burst-${id}-${i}`);
    await warmConnections(50);
    const results = await Promise.all(summaries.map((summary) => t.request('POST', `/customers/${id}/contacts`, { body: { ...inbound, summary } })));

    expect(results.map((r) => r.status)).toEqual(summaries.map(() => 201));
    const events = (await t.request('GET', `/streams/customer-${id}/events?limit=100`)).body.events as Array<{ type: string; data: { summary?: string } }>;
    const logged = events.filter((e) => e.type === 'ContactLogged');
    expect(logged).toHaveLength(50);
    expect(logged.map((e) => e.data.summary).sort()).toEqual([...summaries].sort());
  });

  it('replays the first response for a repeated Idempotency-Key and appends nothing; another body is a 422', async () => {
    const key = `key-${Date.now()}`;
    const body = { name: 'Idem', kind: 'customer' };
    const first = await t.request('POST', '/customers', { body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    const before = (await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition;
    const again = await t.request('POST', '/customers', { body: { kind: 'customer', name: 'Idem' }, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const different = await t.request('POST', '/customers', { body: { name: 'Other', kind: 'customer' }, headers: { 'idempotency-key': key } });
    expect(different.status).toBe(422);
    expect(different.body.type).toBe('idempotency-key-reused');
    expect((await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition).toBe(before);
    const otherPrincipal = await t.request('POST', '/customers', { body, headers: { 'idempotency-key': key }, token: TOKENS.agent2 });
    expect(otherPrincipal.status).toBe(201);
    expect(otherPrincipal.body.id).not.toBe(first.body.id);
  });

  it('remembers a refusal under its key too, so a retry gets the same answer', async () => {
    const id = await newCustomer();
    const key = `conv-${id}`;
    expect((await t.request('POST', `/customers/${id}/convert`, { headers: { 'idempotency-key': key } })).status).toBe(201);
    const replay = await t.request('POST', `/customers/${id}/convert`, { headers: { 'idempotency-key': key } });
    expect(replay.status).toBe(201);
    const fresh = await t.request('POST', `/customers/${id}/convert`, { headers: { 'idempotency-key': `${key}-2` } });
    expect(fresh.status).toBe(422);
    const freshReplay = await t.request('POST', `/customers/${id}/convert`, { headers: { 'idempotency-key': `${key}-2` } });
    expect(freshReplay.status).toBe(422);
    expect(freshReplay.body.type).toBe('already-a-customer');
    expect(freshReplay.headers.get('content-type')).toContain('application/problem+json');
    expect(freshReplay.headers.get('idempotent-replayed')).toBe('true');
    expect(await count(id)).toBe(2);
  });

  it('keeps every event and idempotency key across a restart of the app', async () => {
    const id = await newCustomer();
    await t.request('POST', `/customers/${id}/contacts`, { body: inbound, headers: { 'idempotency-key': `restart-${id}` } });
    const before = (await t.request('GET', `/streams/customer-${id}/events`)).body;
    await t.restart();
    const after = (await t.request('GET', `/streams/customer-${id}/events`)).body;
    expect(after).toEqual(before);
    const replay = await t.request('POST', `/customers/${id}/contacts`, { body: inbound, headers: { 'idempotency-key': `restart-${id}` } });
    expect(replay.status).toBe(201);
    expect(await count(id)).toBe(2);
    const next = await t.request('POST', `/customers/${id}/contacts`, { body: inbound, headers: { 'if-match': '"1"' } });
    expect(next.status).toBe(201);
  });
});

import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

describe('customers over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ customerTokens: [{ token: 'portal-token-c1', customerId: 'c-self' }] });
  });
  afterAll(async () => {
    await t.close();
  });

  const head = async (): Promise<number> => (await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition;

  it('registers a customer: 201 with id, revision, position, ETag and Location, and the event carries full metadata', async () => {
    const res = await t.request('POST', '/customers', {
      body: { name: 'Zoë Ångström', email: 'zoe@example.com', phone: '+44 20 7946 0000', kind: 'prospect', ownerId: 'agent-ana' },
      headers: { 'x-correlation-id': 'corr-42' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), streamRevision: 0, position: expect.any(Number) });
    expect(res.headers.get('etag')).toBe('"0"');
    expect(res.headers.get('location')).toBe(`/customers/${res.body.id}`);

    const stream = await t.request('GET', `/streams/customer-${res.body.id}/events`);
    expect(stream.status).toBe(200);
    expect(stream.body.events).toHaveLength(1);
    const [event] = stream.body.events;
    expect(event.type).toBe('CustomerRegistered');
    expect(event.position).toBe(res.body.position);
    expect(event.data).toMatchObject({ customerId: res.body.id, kind: 'prospect', name: 'Zoë Ångström', ownerId: 'agent-ana' });
    expect(event.metadata).toEqual({
      eventId: event.eventId,
      correlationId: 'corr-42',
      causationId: expect.any(String),
      actor: { id: 'agent-ana', role: 'agent' },
      occurredAt: '2026-11-23T10:00:00.000Z',
      recordedAt: '2026-11-23T10:00:00.000Z',
      schemaVersion: 1,
    });
  });

  it('accepts a client-supplied id once; the second registration is a 409 and appends nothing', async () => {
    const first = await t.request('POST', '/customers', { body: { id: 'cust-fixed-1', name: 'A', kind: 'customer' } });
    expect(first.status).toBe(201);
    expect(first.body.id).toBe('cust-fixed-1');
    const before = await head();
    const again = await t.request('POST', '/customers', { body: { id: 'cust-fixed-1', name: 'B', kind: 'customer' } });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('customer-already-exists');
    expect(await head()).toBe(before);
  });

  it('refuses invalid bodies with a 400 problem listing each field, and appends nothing', async () => {
    const before = await head();
    const res = await t.request('POST', '/customers', { body: { kind: 'vip', email: 'not-an-email', extra: 1 } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.type).toBe('validation-error');
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['email', 'extra', 'kind', 'name']);
    expect(await head()).toBe(before);
  });

  it('refuses malformed JSON, a non-object body and wrong types with a 400 and no stack trace', async () => {
    const malformed = await t.request('POST', '/customers', { rawBody: '{"name": "x",' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.type).toBe('malformed-json');
    expect(JSON.stringify(malformed.body)).not.toMatch(/at .*\.js/);
    const array = await t.request('POST', '/customers', { rawBody: '[1,2]' });
    expect(array.status).toBe(400);
    const wrongType = await t.request('POST', '/customers', { body: { name: 42, kind: 'customer' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors).toEqual([{ field: 'name', messages: expect.any(Array) }]);
  });

  it('refuses a body over the size limit with a 413 problem', async () => {
    const res = await t.request('POST', '/customers', { rawBody: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), kind: 'customer' }) });
    expect(res.status).toBe(413);
    expect(res.body.type).toBe('payload-too-large');
  });

  it('needs a known bearer token; roles are enforced; health and docs are public', async () => {
    expect((await t.request('POST', '/customers', { body: { name: 'x', kind: 'customer' }, token: null })).status).toBe(401);
    const unknown = await t.request('POST', '/customers', { body: { name: 'x', kind: 'customer' }, token: 'nope' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.type).toBe('unauthorized');
    const analyst = await t.request('POST', '/customers', { body: { name: 'x', kind: 'customer' }, token: TOKENS.analyst });
    expect(analyst.status).toBe(403);
    expect(analyst.body.type).toBe('forbidden');
    expect((await t.request('GET', '/health/live', { token: null })).body).toEqual({ status: 'ok' });
    const spec = await t.request('GET', '/docs-json', { token: null });
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/customers', '/customers/{id}/contacts', '/complaints', '/purchases']));
    expect((await t.request('GET', '/docs', { token: null })).status).toBe(200);
  });

  it('answers unknown routes and unknown streams with 404 problems', async () => {
    const route = await t.request('GET', '/nope');
    expect(route.status).toBe(404);
    expect(route.body.type).toBe('route-not-found');
    const stream = await t.request('GET', '/streams/customer-does-not-exist/events');
    expect(stream.status).toBe(404);
    const contact = await t.request('POST', '/customers/unknown-1/contacts', {
      body: { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 's', outcome: 'o' },
    });
    expect(contact.status).toBe(404);
    expect(contact.body.type).toBe('customer-not-found');
  });

  it('changes the profile, converts a prospect once, and assigns owners with a reason', async () => {
    const { body } = await t.request('POST', '/customers', { body: { name: 'Pat', kind: 'prospect' } });
    const id = body.id as string;
    const patch = await t.request('PATCH', `/customers/${id}`, { body: { email: 'pat@example.com' } });
    expect(patch.status).toBe(201);
    expect(patch.body.streamRevision).toBe(1);
    const same = await t.request('PATCH', `/customers/${id}`, { body: { email: 'pat@example.com' } });
    expect(same.status).toBe(422);
    expect(same.body.type).toBe('no-change');
    expect((await t.request('POST', `/customers/${id}/convert`)).status).toBe(201);
    const twice = await t.request('POST', `/customers/${id}/convert`);
    expect(twice.status).toBe(422);
    expect(twice.body.type).toBe('already-a-customer');
    const owner = await t.request('PUT', `/customers/${id}/owner`, { body: { ownerId: 'agent-bob', reason: 'territory' } });
    expect(owner.status).toBe(201);
    const noReason = await t.request('PUT', `/customers/${id}/owner`, { body: { ownerId: 'agent-bob' } });
    expect(noReason.status).toBe(400);
    const events = await t.request('GET', `/streams/customer-${id}/events`);
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual([
      'CustomerRegistered', 'CustomerProfileChanged', 'ProspectConverted', 'CustomerOwnerAssigned',
    ]);
    expect(events.body.events[3].data).toMatchObject({ ownerId: 'agent-bob', previousOwnerId: null, reason: 'territory' });
  });

  it('lets a customer principal change its own profile and answers 404 for any other id', async () => {
    await t.request('POST', '/customers', { body: { id: 'c-self', name: 'Self', kind: 'customer' } });
    await t.request('POST', '/customers', { body: { id: 'c-other', name: 'Other', kind: 'customer' } });
    const own = await t.request('PATCH', '/customers/c-self', { body: { phone: '+1 555 0100' }, token: 'portal-token-c1' });
    expect(own.status).toBe(201);
    const other = await t.request('PATCH', '/customers/c-other', { body: { phone: '+1 555 0100' }, token: 'portal-token-c1' });
    expect(other.status).toBe(404);
    expect(other.body.type).toBe('customer-not-found');
    const register = await t.request('POST', '/customers', { body: { name: 'x', kind: 'customer' }, token: 'portal-token-c1' });
    expect(register.status).toBe(403);
  });
});

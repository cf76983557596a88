import { createCrmClient, etag, ok, ProblemError, readModelPosition, type CrmClient } from '@crm/client';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/** Awaits a call that must fail and returns its ProblemError (anything else fails the test). */
async function problemOf(call: Promise<unknown>): Promise<ProblemError> {
  const error = await call.then(() => new Error('expected a problem, the call succeeded'), (e: unknown) => e);
  if (!(error instanceof ProblemError)) throw error;
  return error;
}

/**
 * The generated client (libs/client) against the real HTTP app on a random port: what a frontend does for customers
 * and complaints, with the headers, read-your-writes and problems the contract describes.
 */
describe('typed client (@crm/client) against the HTTP API', () => {
  let t: TestApp;
  let crm: CrmClient;

  beforeAll(async () => {
    t = await startTestApp();
    crm = createCrmClient({ baseUrl: t.baseUrl, token: TOKENS.agent });
  });
  afterAll(async () => t.close());

  describe('customers', () => {
    it('registers a customer, reads it back at its position, and finds it by a name without diacritics', async () => {
      const { data: created, response } = await crm.POST('/customers', { body: { name: 'Zoë Ångström-Qvist', kind: 'customer', email: 'zoe.qvist@example.com' } });
      if (!created) throw new Error('no body');
      expect(response.status).toBe(201);
      expect(response.headers.get('etag')).toBe(etag(created.streamRevision));
      expect(response.headers.get('location')).toBe(`/customers/${created.id}`);
      const profile = await crm.GET('/customers/{id}', { params: { path: { id: created.id }, query: { minPosition: created.position } } });
      expect(profile.data?.name).toBe('Zoë Ångström-Qvist');
      expect(profile.data?.asOfPosition).toBeGreaterThanOrEqual(created.position);
      expect(readModelPosition(profile.response)).toBe(profile.data?.asOfPosition);
      const found = await ok(crm.GET('/customers', { params: { query: { q: 'zoe angstrom-qvist', minPosition: created.position } } }));
      expect(found.items.map((c) => c.id)).toEqual([created.id]);
    });

    it('replays a command retried with the same Idempotency-Key, appending nothing', async () => {
      const key = 'typed-client-retry-4e1b7c';
      const send = () => crm.POST('/customers', { params: { header: { 'Idempotency-Key': key } }, body: { name: 'Retry Rita', kind: 'prospect' } });
      const first = await ok(send());
      const again = await ok(send());
      expect(again).toEqual(first);
      const trail = await ok(createCrmClient({ baseUrl: t.baseUrl, token: TOKENS.auditor }).GET('/customers/{id}/trail', { params: { path: { id: first.id } } }));
      expect(trail.events.map((e) => e.type)).toEqual(['CustomerRegistered']);
    });

    it('refuses a stale If-Match as precondition-failed with the current revision, and then accepts the right one', async () => {
      const created = await ok(crm.POST('/customers', { body: { name: 'Stale Sven', kind: 'prospect' } }));
      await ok(crm.PUT('/customers/{id}/owner', { params: { path: { id: created.id }, header: { 'If-Match': etag(created.streamRevision) } }, body: { ownerId: 'agent-bob', reason: 'territory' } }));
      const stale = await problemOf(crm.POST('/customers/{id}/convert', { params: { path: { id: created.id }, header: { 'If-Match': etag(created.streamRevision) } } }));
      expect([stale.type, stale.status, stale.extensions['currentRevision']]).toEqual(['precondition-failed', 412, created.streamRevision + 1]);
      const converted = await ok(crm.POST('/customers/{id}/convert', { params: { path: { id: created.id }, header: { 'If-Match': etag(created.streamRevision + 1) } } }));
      expect(converted.streamRevision).toBe(created.streamRevision + 2);
    });

    it('names the contact policy rule that refused a contact, and the fields of an invalid request', async () => {
      const customer = await ok(crm.POST('/customers', { body: { name: 'Capped Carla', kind: 'customer' } }));
      const contact = { channel: 'email', direction: 'outbound', purpose: 'marketing', summary: 'Winter offer', outcome: 'sent' } as const;
      for (let i = 0; i < 2; i++) await ok(crm.POST('/customers/{id}/contacts', { params: { path: { id: customer.id } }, body: contact }));
      const capped = await problemOf(crm.POST('/customers/{id}/contacts', { params: { path: { id: customer.id } }, body: contact }));
      expect([capped.type, capped.status, capped.title, capped.extensions['rule']]).toEqual(['contact-cap-exceeded', 422, 'Contact refused by the contact policy', 'purpose-cap']);
      const invalid = await problemOf(crm.POST('/customers', { body: { name: '', kind: 'customer' } }));
      expect(invalid.type).toBe('validation-error');
      expect(invalid.errors?.map((e) => e.field)).toEqual(['name']);
    });
  });

  describe('complaints', () => {
    it('files a complaint, sees its SLA clock on the board, walks it to closed, and is refused a response after', async () => {
      const customer = await ok(crm.POST('/customers', { body: { name: 'Complaining Carl', kind: 'customer', ownerId: 'agent-ana' } }));
      const filed = await ok(crm.POST('/complaints', { body: { customerId: customer.id, channel: 'email', category: 'delivery', priority: 'P2', description: 'Parcel arrived crushed' } }));
      const complaint = await ok(crm.GET('/complaints/{id}', { params: { path: { id: filed.id }, query: { minPosition: filed.position } } }));
      expect([complaint.status, complaint.ownerId, complaint.open]).toEqual(['filed', 'agent-ana', true]);
      expect(Date.parse(complaint.firstResponseDueAt)).toBeGreaterThan(t.clock.now().getTime());
      const board = await ok(crm.GET('/complaints', { params: { query: { status: 'open', ownerId: 'agent-ana', minPosition: filed.position } } }));
      expect(board.items.map((c) => c.complaintId)).toContain(filed.id);

      const path = { id: filed.id };
      await ok(crm.POST('/complaints/{id}/respond', { params: { path }, body: { message: 'We are sending a replacement' } }));
      await ok(crm.POST('/complaints/{id}/resolve', { params: { path }, body: { resolution: 'Replacement delivered' } }));
      const closed = await ok(crm.POST('/complaints/{id}/close', { params: { path } }));
      const refused = await problemOf(crm.POST('/complaints/{id}/respond', { params: { path }, body: { message: 'One more thing' } }));
      expect([refused.type, refused.status, refused.title]).toEqual(['complaint-closed', 422, 'Complaint is closed']);
      const after = await ok(crm.GET('/complaints/{id}', { params: { path, query: { minPosition: closed.position } } }));
      expect([after.status, after.lastPosition]).toEqual(['closed', closed.position]);
    });

    it('answers an unknown complaint as complaint-not-found and a role without access as forbidden', async () => {
      const missing = await problemOf(crm.GET('/complaints/{id}', { params: { path: { id: 'no-such-complaint-9d2f' } } }));
      expect([missing.type, missing.status]).toEqual(['complaint-not-found', 404]);
      const analyst = createCrmClient({ baseUrl: t.baseUrl, token: TOKENS.analyst });
      const forbidden = await problemOf(analyst.POST('/complaints/{id}/close', { params: { path: { id: 'any-complaint' } } }));
      expect([forbidden.type, forbidden.status]).toEqual(['forbidden', 403]);
      const anonymous = createCrmClient({ baseUrl: t.baseUrl });
      expect((await problemOf(anonymous.GET('/complaints'))).type).toBe('unauthorized');
    });
  });
});

import { startTestApp, TOKENS, type TestApp, type TestResponse } from '../support/test-app';

/**
 * What a customer (self-service token) may not do, found by an outside attack test: backdate or self-resolve its own
 * complaints, and tell another customer's ids from unknown ones.
 */
const ME = 'ssb-cust-me';
const OTHER = 'ssb-cust-ot';
const TOKEN = 'ssb-portal-token-5f1c2a';
const NOW = '2026-11-23T10:00:00.000Z';
// Same length as the other customer's ids below, so that not even Content-Length differs by construction.
const MY_COMPLAINT = 'ssb-cmp-mine-0001';
const OTHER_COMPLAINT = 'ssb-cmp-other-001';
const UNKNOWN_COMPLAINT = 'ssb-cmp-nobody-01';
const UNKNOWN_CUSTOMER = 'ssb-cust-no';

describe('self-service boundaries', () => {
  let t: TestApp;
  const asMe = (method: string, path: string, body?: unknown): Promise<TestResponse> => t.request(method, path, { token: TOKEN, body });
  const head = async (): Promise<number> => (await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition as number;
  const complaintBody = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ customerId: ME, channel: 'self-service', category: 'delivery', priority: 'P2', description: 'parcel never came', ...extra });

  beforeAll(async () => {
    t = await startTestApp({ now: new Date(NOW), customerTokens: [{ token: TOKEN, customerId: ME }] });
    for (const id of [ME, OTHER]) {
      const res = await t.request('POST', '/customers', { body: { id, name: `Customer ${id}`, kind: 'customer' } });
      expect(res.status).toBe(201);
    }
    for (const [id, customerId] of [[MY_COMPLAINT, ME], [OTHER_COMPLAINT, OTHER]]) {
      const res = await t.request('POST', '/complaints', { body: { id, customerId, channel: 'email', category: 'delivery', priority: 'P3', description: 'late' } });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  describe('staff-only fields on the commands a customer may send: 403 field-not-allowed, nothing appended', () => {
    it.each([
      ['occurredAt (backdating into breached SLAs)', { occurredAt: '2020-01-01T00:00:00Z' }, ['occurredAt']],
      ['resolvedAtFirstContact: true (filing it resolved)', { resolvedAtFirstContact: true }, ['resolvedAtFirstContact']],
      ['resolvedAtFirstContact: false (the field itself is staff-only)', { resolvedAtFirstContact: false }, ['resolvedAtFirstContact']],
      ['id', { id: 'ssb-cmp-chosen-01' }, ['id']],
      ['all three at once', { id: 'ssb-cmp-chosen-02', occurredAt: '2020-01-01T00:00:00Z', resolvedAtFirstContact: true }, ['id', 'occurredAt', 'resolvedAtFirstContact']],
    ])('POST /complaints with %s', async (_case, extra, fields) => {
      const before = await head();
      const res = await asMe('POST', '/complaints', complaintBody(extra));
      expect({ status: res.status, contentType: res.headers.get('content-type'), type: res.body.type, detail: res.body.detail, errors: res.body.errors }).toEqual({
        status: 403,
        contentType: expect.stringMatching(/^application\/problem\+json/),
        type: 'field-not-allowed',
        detail: `The customer role may not set ${fields.join(', ')}`,
        errors: fields.map((field) => ({ field, messages: [`${field} may not be set by the customer role`] })),
      });
      expect(await head()).toBe(before);
    });

    it('a complaint a customer files happens when it is recorded, unresolved', async () => {
      const res = await asMe('POST', '/complaints', complaintBody());
      expect(res.status).toBe(201);
      const events = await t.request('GET', `/streams/complaint-${res.body.id}/events`, { token: TOKENS.auditor });
      // Filed only: resolved at first contact would append ComplaintResolved beside it.
      expect(events.body.events).toHaveLength(1);
      expect(events.body.events[0]).toMatchObject({
        type: 'ComplaintFiled',
        data: { customerId: ME, filedAt: NOW },
        metadata: { occurredAt: NOW, actor: { role: 'customer' } },
      });
    });

    it('staff may still record a complaint with its business time and resolved at first contact', async () => {
      const res = await t.request('POST', '/complaints', { body: complaintBody({ occurredAt: '2026-11-20T09:00:00Z', resolvedAtFirstContact: true }) });
      expect(res.status).toBe(201);
    });

    it.each([
      ['PATCH', `/customers/${ME}`, { phone: '+44 20 7946 0100', ownerId: 'agent-mallory' }, 'ownerId'],
      ['PATCH', `/customers/${ME}`, { phone: '+44 20 7946 0100', occurredAt: '2020-01-01T00:00:00Z' }, 'occurredAt'],
      ['PUT', `/customers/${ME}/contact-preferences`, { maxContactsPer7Days: 1, doNotContact: false, channels: ['email'], occurredAt: '2020-01-01T00:00:00Z' }, 'occurredAt'],
      ['PUT', `/customers/${ME}/contact-preferences`, { maxContactsPer7Days: 1, doNotContact: false, channels: ['email'], ownerId: 'agent-mallory' }, 'ownerId'],
    ])('%s %s with %j: a field no role may send there is a 400 validation-error, nothing appended', async (method, path, body, field) => {
      const before = await head();
      const res = await asMe(method, path, body);
      expect(res.status).toBe(400);
      expect(res.body.type).toBe('validation-error');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await head()).toBe(before);
    });
  });

  describe("another customer's id and an unknown id are indistinguishable: same status, body and headers", () => {
    // Per response by design: the time, the app's own time, and the request's id (a new one for every request).
    const IGNORED_HEADERS = new Set(['date', 'server-timing', 'x-request-id']);
    const shape = (res: TestResponse, id: string): unknown => ({
      status: res.status,
      body: JSON.parse(JSON.stringify(res.body).split(id).join('<id>')) as unknown,
      headers: [...res.headers.entries()].filter(([name]) => !IGNORED_HEADERS.has(name)),
    });

    it.each([
      ['GET /complaints/:id', (id: string) => `/complaints/${id}`, OTHER_COMPLAINT, UNKNOWN_COMPLAINT],
      ['GET /customers/:id', (id: string) => `/customers/${id}`, OTHER, UNKNOWN_CUSTOMER],
      ['GET /customers/:id/timeline', (id: string) => `/customers/${id}/timeline`, OTHER, UNKNOWN_CUSTOMER],
      ['GET /customers/:id/loyalty', (id: string) => `/customers/${id}/loyalty`, OTHER, UNKNOWN_CUSTOMER],
      ['GET /customers/:id/export', (id: string) => `/customers/${id}/export`, OTHER, UNKNOWN_CUSTOMER],
    ])('%s', async (_route, path, otherId, unknownId) => {
      const minPosition = String(await head());
      const [other, unknown] = await Promise.all([
        t.request('GET', path(otherId), { token: TOKEN, headers: { 'x-min-position': minPosition } }),
        t.request('GET', path(unknownId), { token: TOKEN, headers: { 'x-min-position': minPosition } }),
      ]);
      expect(other.status).toBe(404);
      expect(shape(other, otherId)).toEqual(shape(unknown, unknownId));
    });

    it('its own complaint is still found, and staff still find any', async () => {
      const minPosition = String(await head());
      const mine = await t.request('GET', `/complaints/${MY_COMPLAINT}`, { token: TOKEN, headers: { 'x-min-position': minPosition } });
      expect([mine.status, mine.body.complaintId, mine.body.customerId]).toEqual([200, MY_COMPLAINT, ME]);
      const staff = await t.request('GET', `/complaints/${OTHER_COMPLAINT}`, { headers: { 'x-min-position': minPosition } });
      expect([staff.status, staff.body.complaintId]).toEqual([200, OTHER_COMPLAINT]);
    });
  });
});

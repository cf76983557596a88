import { randomInt } from 'node:crypto';
import { startTestApp, TOKENS, type TestApp, type TestResponse } from '../support/test-app';

/**
 * Roles × routes. Requirement: agent (commands and operational queries), analyst (read models, history export,
 * replays; no personal-data fields unless granted), auditor (trails and history, read-only), admin (tokens,
 * projections), customer (self-service: only its own profile, timeline, loyalty, complaints; may file a complaint,
 * update its own contact preferences and profile; every other id → 404, not 403, so ids cannot be probed).
 *
 * Each row states, per caller, the outcome class the requirement asks for: `ok` (the guard let it through and the
 * request succeeded), `401 unauthorized`, `403 forbidden` or `404 <not-found type>`. Denied callers run first, in
 * parallel, and must leave the log head where it was; allowed callers then run one after another (commands on one
 * stream would otherwise race). A cell where the code contradicts the requirement is listed in the row's `bugs` and
 * checked by its own `it.failing`, so the rest of the row still guards against regressions.
 */

const CUSTOMER_A_TOKEN = 'portal-token-rc-a-0123456789';
const A = 'rc-a';
const B = 'rc-b';
const CMP_A = 'rc-cmp-a';
const CMP_B = 'rc-cmp-b';
const ORDER_A = 'rc-ord-a';
const SKU = 'RC-SKU-1';
/**
 * Every name, e-mail, external ref and free text written in this file holds MARKER: 24 letters drawn from outside the
 * hex alphabet, so no UUID, position, hash or ciphertext in a response holds it by chance (the earlier /roleswood|7946/
 * matched the digits of random UUIDs now and then). Phones are digits: they are matched with their spaces and `+`.
 */
const MARKER = Array.from({ length: 24 }, () => 'ghijklmnopqrstuvwxyz'[randomInt(20)]).join('');
const PHONE_PREFIX = '+44 20 7946 ';
const personalDataIn = (text: string): string | null => (text.includes(MARKER) ? MARKER : text.includes(PHONE_PREFIX) ? PHONE_PREFIX : null);

const WHO = ['agent', 'analyst', 'auditor', 'admin', 'customerA', 'anonymous'] as const;
type Who = (typeof WHO)[number];
type Staff = 'agent' | 'admin';
type Outcome = 'ok' | '401 unauthorized' | '403 forbidden' | '404 customer-not-found' | '404 complaint-not-found';

const TOKEN_OF: Record<Who, string | null> = {
  agent: TOKENS.agent,
  analyst: TOKENS.analyst,
  auditor: TOKENS.auditor,
  admin: TOKENS.admin,
  customerA: CUSTOMER_A_TOKEN,
  anonymous: null,
};

interface RouteCase {
  /** Method and route template, e.g. `GET /customers/:id`. */
  route: string;
  /** What the concrete request targets, e.g. `:id = B`. */
  target?: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  path: string | ((who: Who) => string);
  body?: (who: Who) => unknown;
  expect: Record<Who, Outcome>;
  /** Statuses that count as `ok` for an allowed caller (default 200, 201, 202). */
  ok?: readonly number[];
  /** Cells where the code contradicts the requirement: the reason, checked by an `it.failing`. */
  bugs?: Partial<Record<Who, string>>;
}

/** Allowed callers `ok`; other tokens 403; no token 401; `customerA` may be overridden (404 on another id). */
function allow(allowed: readonly Who[], customerA?: Outcome): Record<Who, Outcome> {
  const out = {} as Record<Who, Outcome>;
  for (const who of WHO) {
    out[who] = who === 'anonymous' ? '401 unauthorized' : allowed.includes(who) ? 'ok' : '403 forbidden';
  }
  if (customerA) out.customerA = customerA;
  return out;
}
const PUBLIC = Object.fromEntries(WHO.map((w) => [w, 'ok'])) as Record<Who, Outcome>;
const STAFF_COMMAND = allow(['agent', 'admin']);
const STAFF_READ = allow(['agent', 'admin', 'analyst', 'auditor']);

/** For rows where only agent and admin succeed, each gets its own target so both can succeed. */
const perStaff = (ids: Record<Staff, string>) => (who: Who): string => (who === 'admin' ? ids.admin : ids.agent);

describe('roles × routes', () => {
  let t: TestApp;
  let setupHead = 0;
  const followUps = { complete: { agent: '', admin: '' }, cancel: { agent: '', admin: '' } };

  const as = (who: Who, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse> =>
    t.request(method, path, { token: TOKEN_OF[who], body, headers });
  const head = async (): Promise<number> => (await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition as number;
  const asAgent = async (method: string, path: string, body?: unknown): Promise<TestResponse> => {
    const res = await as('agent', method, path, body);
    if (res.status >= 300) throw new Error(`setup ${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };

  beforeAll(async () => {
    t = await startTestApp({ customerTokens: [{ token: CUSTOMER_A_TOKEN, customerId: A }] });
    await asAgent('POST', '/customers', { id: A, name: `Alice ${MARKER}`, email: `alice@${MARKER}.example`, phone: `${PHONE_PREFIX}0001`, kind: 'customer', externalRef: `shop:${MARKER}` });
    await asAgent('POST', '/customers', { id: B, name: `Bob ${MARKER}`, email: `bob@${MARKER}.example`, phone: `${PHONE_PREFIX}0002`, kind: 'customer', externalRef: `shop:b-${MARKER}` });
    for (const who of ['agent', 'admin'] as const) await asAgent('POST', '/customers', { id: `rc-prospect-${who}`, name: 'Prospect', kind: 'prospect' });
    const complaint = (id: string, customerId: string, resolvedAtFirstContact = false): Promise<TestResponse> =>
      asAgent('POST', '/complaints', { id, customerId, channel: 'email', category: `delivery ${MARKER}`, priority: 'P3', description: `parcel late ${MARKER}`, resolvedAtFirstContact });
    await complaint(CMP_A, A);
    await complaint(CMP_B, B);
    for (const who of ['agent', 'admin'] as const) {
      await complaint(`rc-cmp-resolve-${who}`, B);
      await complaint(`rc-cmp-reopen-${who}`, B, true);
      await complaint(`rc-cmp-close-${who}`, B, true);
      await complaint(`rc-cmp-pause-${who}`, B);
      await complaint(`rc-cmp-resume-${who}`, B);
      await asAgent('POST', `/complaints/rc-cmp-resume-${who}/await-customer`, { reason: 'asked for a photo' });
    }
    await asAgent('POST', '/purchases', {
      customerId: A, orderId: ORDER_A, currency: 'GBP',
      lines: [{ sku: SKU, description: `mug ${MARKER}`, quantity: 10, unitPrice: '2.50' }, { sku: 'RC-SKU-2', quantity: 1, unitPrice: '4.00' }],
    });
    for (const kind of ['complete', 'cancel'] as const) {
      for (const who of ['agent', 'admin'] as const) {
        followUps[kind][who] = (await asAgent('POST', `/customers/${B}/follow-ups`, { dueAt: '2026-11-30T10:00:00Z', reason: 'call back' })).body.id;
      }
    }
    setupHead = await head();
  }, 30_000);

  afterAll(async () => {
    await t.close();
  });

  const ROUTES: RouteCase[] = [
    // ── Commands ────────────────────────────────────────────────────────────────────────────────────────────────
    { route: 'POST /customers', method: 'POST', path: '/customers', body: (w) => ({ id: `rc-new-${w}`, name: 'New', kind: 'prospect' }), expect: STAFF_COMMAND },
    {
      route: 'PATCH /customers/:id', target: ':id = A (own)', method: 'PATCH', path: `/customers/${A}`,
      body: (w) => ({ email: `alice+${w}@${MARKER}.example` }), expect: allow(['agent', 'admin', 'customerA']),
    },
    {
      route: 'PATCH /customers/:id', target: ':id = B (other)', method: 'PATCH', path: `/customers/${B}`,
      body: (w) => ({ email: `bob+${w}@${MARKER}.example` }), expect: allow(['agent', 'admin'], '404 customer-not-found'),
    },
    { route: 'POST /customers/:id/convert', method: 'POST', path: (w) => `/customers/${perStaff({ agent: 'rc-prospect-agent', admin: 'rc-prospect-admin' })(w)}/convert`, expect: STAFF_COMMAND },
    {
      route: 'PUT /customers/:id/owner', method: 'PUT', path: `/customers/${B}/owner`,
      body: (w) => ({ ownerId: w === 'admin' ? 'agent-carl' : 'agent-bob', reason: `territory ${MARKER}` }), expect: STAFF_COMMAND,
    },
    {
      route: 'PUT /customers/:id/contact-preferences', target: ':id = A (own)', method: 'PUT', path: `/customers/${A}/contact-preferences`,
      body: (w) => ({ maxContactsPer7Days: WHO.indexOf(w) + 3, doNotContact: false, channels: ['email', 'phone'] }),
      expect: allow(['agent', 'admin', 'customerA']),
    },
    {
      route: 'PUT /customers/:id/contact-preferences', target: ':id = B (other)', method: 'PUT', path: `/customers/${B}/contact-preferences`,
      body: (w) => ({ maxContactsPer7Days: WHO.indexOf(w) + 3, doNotContact: false, channels: [] }),
      expect: allow(['agent', 'admin'], '404 customer-not-found'),
    },
    {
      route: 'POST /customers/:id/contacts', method: 'POST', path: `/customers/${B}/contacts`,
      body: () => ({ channel: 'phone', direction: 'inbound', purpose: 'support', summary: `asked about parcel ${MARKER}`, outcome: `explained ${MARKER}` }), expect: STAFF_COMMAND,
    },
    {
      route: 'POST /customers/:id/follow-ups', method: 'POST', path: `/customers/${B}/follow-ups`,
      body: () => ({ dueAt: '2026-12-01T10:00:00Z', reason: 'check delivery' }), expect: STAFF_COMMAND,
    },
    {
      route: 'POST /customers/:id/follow-ups/:followUpId/complete', method: 'POST',
      path: (w) => `/customers/${B}/follow-ups/${perStaff(followUps.complete)(w)}/complete`, body: () => ({ note: 'done' }), expect: STAFF_COMMAND,
    },
    {
      route: 'POST /customers/:id/follow-ups/:followUpId/cancel', method: 'POST',
      path: (w) => `/customers/${B}/follow-ups/${perStaff(followUps.cancel)(w)}/cancel`, body: () => ({ reason: 'not needed' }), expect: STAFF_COMMAND,
    },
    {
      route: 'POST /complaints', target: 'customerId = A (own)', method: 'POST', path: '/complaints',
      body: () => ({ customerId: A, channel: 'self-service', category: 'billing', priority: 'P3', description: 'charged twice' }),
      expect: allow(['agent', 'admin', 'customerA']),
    },
    {
      route: 'POST /complaints', target: 'customerId = B (other)', method: 'POST', path: '/complaints',
      body: () => ({ customerId: B, channel: 'self-service', category: 'billing', priority: 'P3', description: 'charged twice' }),
      expect: allow(['agent', 'admin'], '404 customer-not-found'),
    },
    { route: 'POST /complaints/:id/respond', method: 'POST', path: `/complaints/${CMP_B}/respond`, body: () => ({ message: 'looking into it' }), expect: STAFF_COMMAND },
    {
      route: 'POST /complaints/:id/resolve', method: 'POST', path: (w) => `/complaints/${perStaff({ agent: 'rc-cmp-resolve-agent', admin: 'rc-cmp-resolve-admin' })(w)}/resolve`,
      body: () => ({ resolution: 'refunded' }), expect: STAFF_COMMAND,
    },
    {
      route: 'POST /complaints/:id/reopen', method: 'POST', path: (w) => `/complaints/${perStaff({ agent: 'rc-cmp-reopen-agent', admin: 'rc-cmp-reopen-admin' })(w)}/reopen`,
      body: () => ({ reason: 'still broken' }), expect: STAFF_COMMAND,
    },
    {
      route: 'POST /complaints/:id/close', method: 'POST', path: (w) => `/complaints/${perStaff({ agent: 'rc-cmp-close-agent', admin: 'rc-cmp-close-admin' })(w)}/close`,
      expect: STAFF_COMMAND,
    },
    {
      route: 'POST /complaints/:id/await-customer', method: 'POST', path: (w) => `/complaints/${perStaff({ agent: 'rc-cmp-pause-agent', admin: 'rc-cmp-pause-admin' })(w)}/await-customer`,
      body: () => ({ reason: 'asked for the invoice' }), expect: STAFF_COMMAND,
    },
    {
      route: 'POST /complaints/:id/resume', method: 'POST', path: (w) => `/complaints/${perStaff({ agent: 'rc-cmp-resume-agent', admin: 'rc-cmp-resume-admin' })(w)}/resume`,
      body: () => ({}), expect: STAFF_COMMAND,
    },
    {
      route: 'POST /complaints/:id/priority', method: 'POST', path: `/complaints/${CMP_B}/priority`,
      body: (w) => ({ priority: w === 'admin' ? 'P2' : 'P1', reason: 'customer is a hospital' }), expect: STAFF_COMMAND,
    },
    {
      route: 'PUT /complaints/:id/owner', method: 'PUT', path: `/complaints/${CMP_B}/owner`,
      body: (w) => ({ ownerId: w === 'admin' ? 'agent-carl' : 'agent-bob', reason: `specialist ${MARKER}` }), expect: STAFF_COMMAND,
    },
    {
      route: 'POST /purchases', method: 'POST', path: '/purchases',
      body: (w) => ({ customerId: A, orderId: `rc-ord-${w}`, currency: 'GBP', lines: [{ sku: 'RC-SKU-3', quantity: 1, unitPrice: '1.00' }] }),
      expect: STAFF_COMMAND,
    },
    {
      route: 'POST /purchases/:orderId/returns', method: 'POST', path: `/purchases/${ORDER_A}/returns`,
      body: () => ({ lines: [{ sku: SKU, quantity: 1 }], reason: `chipped ${MARKER}` }), expect: STAFF_COMMAND,
    },
    // ── Operational queries and read models ─────────────────────────────────────────────────────────────────────
    { route: 'GET /customers?q=', method: 'GET', path: `/customers?q=${MARKER}`, expect: allow(['agent', 'admin', 'auditor']) },
    { route: 'GET /customers/:id', target: ':id = A (own)', method: 'GET', path: `/customers/${A}`, expect: allow(['agent', 'admin', 'auditor', 'customerA']) },
    { route: 'GET /customers/:id', target: ':id = B (other)', method: 'GET', path: `/customers/${B}`, expect: allow(['agent', 'admin', 'auditor'], '404 customer-not-found') },
    {
      route: 'GET /customers/:id?asOf=', target: ':id = B (other)', method: 'GET', path: () => `/customers/${B}?asOf=${setupHead}`,
      expect: allow(['agent', 'admin', 'auditor'], '404 customer-not-found'),
    },
    { route: 'GET /customers/:id/timeline', target: ':id = A (own)', method: 'GET', path: `/customers/${A}/timeline`, expect: allow(['agent', 'admin', 'auditor', 'customerA']) },
    {
      route: 'GET /customers/:id/timeline', target: ':id = B (other)', method: 'GET', path: `/customers/${B}/timeline`,
      expect: allow(['agent', 'admin', 'auditor'], '404 customer-not-found'),
    },
    {
      route: 'GET /customers/:id/timeline?asOf=', target: ':id = B (other)', method: 'GET', path: () => `/customers/${B}/timeline?asOf=${setupHead}`,
      expect: allow(['agent', 'admin', 'auditor'], '404 customer-not-found'),
    },
    { route: 'GET /customers/:id/loyalty', target: ':id = A (own)', method: 'GET', path: `/customers/${A}/loyalty`, expect: allow(['agent', 'admin', 'analyst', 'auditor', 'customerA']) },
    {
      route: 'GET /customers/:id/loyalty', target: ':id = B (other)', method: 'GET', path: `/customers/${B}/loyalty`,
      expect: allow(['agent', 'admin', 'analyst', 'auditor'], '404 customer-not-found'),
    },
    { route: 'GET /loyalty/top', method: 'GET', path: '/loyalty/top', expect: STAFF_READ },
    { route: 'GET /complaints', method: 'GET', path: '/complaints', expect: allow(['agent', 'admin', 'analyst', 'auditor', 'customerA']) },
    { route: 'GET /complaints?customerId=', target: 'customerId = B', method: 'GET', path: `/complaints?customerId=${B}`, expect: allow(['agent', 'admin', 'analyst', 'auditor', 'customerA']) },
    { route: 'GET /complaints/:id', target: "A's complaint", method: 'GET', path: `/complaints/${CMP_A}`, expect: allow(['agent', 'admin', 'analyst', 'auditor', 'customerA']) },
    {
      route: 'GET /complaints/:id', target: "B's complaint", method: 'GET', path: `/complaints/${CMP_B}`,
      expect: allow(['agent', 'admin', 'analyst', 'auditor'], '404 complaint-not-found'),
    },
    { route: 'GET /sla/breaches', method: 'GET', path: '/sla/breaches', expect: STAFF_READ },
    { route: 'GET /follow-ups', method: 'GET', path: '/follow-ups', expect: STAFF_COMMAND },
    // ── Trails and history ──────────────────────────────────────────────────────────────────────────────────────
    { route: 'GET /customers/:id/trail', target: ':id = A (own)', method: 'GET', path: `/customers/${A}/trail`, expect: allow(['auditor', 'admin']) },
    {
      route: 'GET /streams/:streamId/events', target: "A's customer stream", method: 'GET', path: `/streams/customer-${A}/events`,
      // Decision (docs/decisions.md): agents read a stream's history, because everyone in sales and service sees the
      // same history; the cross-stream trail and the exports stay with auditors.
      expect: allow(['agent', 'auditor', 'admin']),
    },
    { route: 'GET /events', method: 'GET', path: '/events', expect: allow(['analyst', 'auditor', 'admin']) },
    { route: 'GET /audit/export', method: 'GET', path: '/audit/export', expect: allow(['auditor', 'admin']) },
    { route: 'GET /audit/export?customerId=', target: 'customerId = A (own)', method: 'GET', path: `/audit/export?customerId=${A}`, expect: allow(['auditor', 'admin']) },
    // ── Analytics ───────────────────────────────────────────────────────────────────────────────────────────────
    {
      route: 'POST /analytics/sla-whatif', method: 'POST', path: '/analytics/sla-whatif', ok: [200],
      body: () => ({
        policy: {
          version: 'sla-candidate',
          targets: {
            P1: { firstResponseMinutes: 30, resolutionMinutes: 120 }, P2: { firstResponseMinutes: 120, resolutionMinutes: 960 },
            P3: { firstResponseMinutes: 240, resolutionMinutes: 2880 }, P4: { firstResponseMinutes: 1440, resolutionMinutes: 10080 },
          },
        },
        from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z',
      }),
      expect: allow(['analyst', 'admin']),
    },
    { route: 'GET /analytics/revenue', method: 'GET', path: '/analytics/revenue', expect: STAFF_READ },
    { route: 'GET /analytics/cross-sell?sku=', method: 'GET', path: `/analytics/cross-sell?sku=${SKU}`, expect: STAFF_READ },
    { route: 'GET /analytics/sla', method: 'GET', path: '/analytics/sla', expect: STAFF_READ },
    // ── Operations ──────────────────────────────────────────────────────────────────────────────────────────────
    { route: 'GET /projections', method: 'GET', path: '/projections', expect: STAFF_READ },
    { route: 'GET /metrics', method: 'GET', path: '/metrics', expect: PUBLIC },
    { route: 'GET /health/live', method: 'GET', path: '/health/live', expect: PUBLIC },
    { route: 'GET /health/ready', method: 'GET', path: '/health/ready', expect: PUBLIC },
    { route: 'GET /docs-json', method: 'GET', path: '/docs-json', expect: PUBLIC },
    // Who a token belongs to: any valid token, a customer's too (the console checks a pasted token with it).
    { route: 'GET /me', method: 'GET', path: '/me', expect: allow(['agent', 'analyst', 'auditor', 'admin', 'customerA']) },
    // Last: a rebuild runs in the background (the old generation keeps serving), so nothing above depends on it.
    { route: 'POST /projections/:name/rebuild', method: 'POST', path: '/projections/follow_ups/rebuild', ok: [202], expect: allow(['admin']) },
  ];

  const pathOf = (row: RouteCase, who: Who): string => (typeof row.path === 'string' ? row.path : row.path(who));
  /** Reads wait for the read models to reflect the setup (X-Min-Position); routes without it ignore the header. */
  const send = (row: RouteCase, who: Who): Promise<TestResponse> =>
    as(who, row.method, pathOf(row, who), row.body?.(who), row.method === 'GET' ? { 'x-min-position': String(setupHead) } : undefined);

  /** The outcome class of a response, with any problem+json defect spelled out so the diff shows it. */
  function classify(row: RouteCase, res: TestResponse): string {
    if ((row.ok ?? [200, 201, 202]).includes(res.status)) return 'ok';
    const type = typeof res.body === 'object' && res.body !== null ? String(res.body.type) : '(no problem body)';
    let outcome = `${res.status} ${type}`;
    if (!res.headers.get('content-type')?.startsWith('application/problem+json')) outcome += ` [content-type ${res.headers.get('content-type')}]`;
    if (res.body?.status !== res.status) outcome += ` [body.status ${res.body?.status}]`;
    return outcome;
  }

  const nameOf = (row: RouteCase): string => (row.target ? `${row.route} (${row.target})` : row.route);
  const cell = (row: RouteCase, who: Who): string => `${who} → ${row.expect[who]}`;

  for (const row of ROUTES) {
    const bugged = new Set(Object.keys(row.bugs ?? {}) as Who[]);
    const checked = WHO.filter((w) => !bugged.has(w));
    it(`${nameOf(row)}: ${checked.map((w) => cell(row, w)).join(', ')}`, async () => {
      const denied = checked.filter((w) => row.expect[w] !== 'ok');
      const allowed = checked.filter((w) => row.expect[w] === 'ok');
      const before = await head();
      const deniedResponses = await Promise.all(denied.map((w) => send(row, w)));
      const after = await head();
      const actual: Partial<Record<Who, string>> = {};
      denied.forEach((w, i) => { actual[w] = classify(row, deniedResponses[i] as TestResponse); });
      for (const w of allowed) actual[w] = classify(row, await send(row, w));
      const expected = Object.fromEntries(checked.map((w) => [w, row.expect[w]]));
      expect({ outcomes: actual, headAfterDenials: after }).toEqual({ outcomes: expected, headAfterDenials: before });
    });
    for (const who of bugged) {
      it.failing(`${nameOf(row)}: ${cell(row, who)} — BUG: ${row.bugs?.[who]}`, async () => {
        const before = await head();
        const res = await send(row, who);
        expect({ outcome: classify(row, res), head: await head() }).toEqual({ outcome: row.expect[who], head: before });
      });
    }
  }

  describe('self-service (customer A)', () => {
    const asA = (method: string, path: string, body?: unknown): Promise<TestResponse> => as('customerA', method, path, body);
    /** A problem body with the probed id blanked out: what a client could compare between two ids. */
    const normalized = (res: TestResponse, id: string): unknown => ({
      status: res.status, contentType: res.headers.get('content-type'), body: JSON.parse(JSON.stringify(res.body).split(id).join('<id>')),
    });

    it('reads its own profile, timeline, loyalty and complaint', async () => {
      const [profile, timeline, loyalty, complaint] = await Promise.all([
        asA('GET', `/customers/${A}`), asA('GET', `/customers/${A}/timeline`), asA('GET', `/customers/${A}/loyalty`), asA('GET', `/complaints/${CMP_A}`),
      ]);
      expect([profile.status, timeline.status, loyalty.status, complaint.status]).toEqual([200, 200, 200, 200]);
      expect(profile.body).toMatchObject({ id: A, name: `Alice ${MARKER}` });
      expect(timeline.body.customerId).toBe(A);
      expect(timeline.body.items.length).toBeGreaterThan(0);
      expect(new Set(timeline.body.items.map((i: { streamId: string }) => i.streamId))).not.toContain(`customer-${B}`);
      expect(loyalty.body).toMatchObject({ customerId: A, orders: expect.any(Number) });
      expect(loyalty.body.orders).toBeGreaterThanOrEqual(1);
      expect(complaint.body).toMatchObject({ id: CMP_A, customerId: A });
    });

    it.each([
      { route: 'GET /customers/:id', path: (id: string) => `/customers/${id}`, otherId: B, unknownId: 'rc-nobody', type: 'customer-not-found' },
      { route: 'GET /customers/:id/timeline', path: (id: string) => `/customers/${id}/timeline`, otherId: B, unknownId: 'rc-nobody', type: 'customer-not-found' },
      { route: 'GET /customers/:id/loyalty', path: (id: string) => `/customers/${id}/loyalty`, otherId: B, unknownId: 'rc-nobody', type: 'customer-not-found' },
      { route: 'GET /complaints/:id', path: (id: string) => `/complaints/${id}`, otherId: CMP_B, unknownId: 'rc-cmp-nobody', type: 'complaint-not-found' },
    ])("$route: another customer's id answers exactly like an unknown id (404 $type)", async ({ path, otherId, unknownId, type }) => {
      const [other, unknown] = await Promise.all([asA('GET', path(otherId)), asA('GET', path(unknownId))]);
      expect(other.status).toBe(404);
      expect(other.body.type).toBe(type);
      expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(normalized(other, otherId)).toEqual(normalized(unknown, unknownId));
    });

    it("GET /complaints lists only A's complaints, whatever customerId it asks for", async () => {
      const mine = await as('agent', 'GET', `/complaints?customerId=${A}&limit=500`, undefined, { 'x-min-position': String(await head()) });
      expect(mine.body.items.map((c: { customerId: string }) => c.customerId)).toContain(A);
      for (const query of ['', `?customerId=${B}`, `?customerId=${B}&status=open&limit=500`]) {
        const res = await asA('GET', `/complaints${query}`);
        expect(res.status).toBe(200);
        const ids = res.body.items.map((c: { id?: string; complaintId: string }) => c.complaintId);
        expect(new Set(res.body.items.map((c: { customerId: string }) => c.customerId))).toEqual(new Set([A]));
        expect(ids).toContain(CMP_A);
        expect(ids).not.toContain(CMP_B);
        if (!query.includes('status')) expect(res.body.total).toBe(mine.body.total);
      }
    });

    it('files a complaint for itself (recorded with its own principal as actor) and gets 404 for B with nothing appended', async () => {
      const filed = await asA('POST', '/complaints', { customerId: A, channel: 'self-service', category: 'product', priority: 'P4', description: 'lid missing' });
      expect(filed.status).toBe(201);
      const events = await as('auditor', 'GET', `/streams/complaint-${filed.body.id}/events`);
      expect(events.body.events[0]).toMatchObject({ type: 'ComplaintFiled', data: { customerId: A }, metadata: { actor: { id: `portal-${A}`, role: 'customer' } } });
      const before = await head();
      const forB = await asA('POST', '/complaints', { customerId: B, channel: 'self-service', category: 'product', priority: 'P4', description: 'lid missing' });
      expect(forB.status).toBe(404);
      expect(forB.body.type).toBe('customer-not-found');
      expect(await head()).toBe(before);
    });

    it("changes its own profile and contact preferences; B's answer 404 and B's stream is unchanged", async () => {
      const own = await asA('PATCH', `/customers/${A}`, { phone: `${PHONE_PREFIX}0099` });
      expect(own.status).toBe(201);
      const prefs = await asA('PUT', `/customers/${A}/contact-preferences`, { maxContactsPer7Days: 1, doNotContact: true, channels: ['email'] });
      expect(prefs.status).toBe(201);
      const ownEvents = (await as('auditor', 'GET', `/streams/customer-${A}/events`)).body.events as Array<{ type: string; data: unknown }>;
      expect(ownEvents.slice(-2)).toMatchObject([
        { type: 'CustomerProfileChanged', data: { customerId: A, changes: { phone: `${PHONE_PREFIX}0099` } } },
        { type: 'ContactPreferencesSet', data: { maxContactsPer7Days: 1, doNotContact: true, channels: ['email'] } },
      ]);
      const bBefore = (await as('auditor', 'GET', `/streams/customer-${B}/events`)).body.events.length;
      const patchB = await asA('PATCH', `/customers/${B}`, { phone: `${PHONE_PREFIX}0099` });
      const prefsB = await asA('PUT', `/customers/${B}/contact-preferences`, { maxContactsPer7Days: 0, doNotContact: true, channels: [] });
      expect([patchB.status, patchB.body.type, prefsB.status, prefsB.body.type]).toEqual([404, 'customer-not-found', 404, 'customer-not-found']);
      expect((await as('auditor', 'GET', `/streams/customer-${B}/events`)).body.events.length).toBe(bBefore);
    });

    // A customer may not choose the complaint id at all (403 field-not-allowed), so a taken id and a fresh one answer the same.
    it('POST /complaints { id }: cannot probe whether another customer\'s complaint id exists', async () => {
      const taken = await asA('POST', '/complaints', { id: CMP_B, customerId: A, channel: 'self-service', category: 'x', priority: 'P4', description: 'probe' });
      const fresh = await asA('POST', '/complaints', { id: 'rc-cmp-fresh-probe', customerId: A, channel: 'self-service', category: 'x', priority: 'P4', description: 'probe' });
      expect({ status: taken.status, type: taken.body?.type ?? null }).toEqual({ status: fresh.status, type: fresh.body?.type ?? null });
    });
  });

  describe('analyst: no personal-data fields (names, e-mails, phones) in what it may read', () => {
    const ANALYST_READS: Array<{ route: string; method: 'GET' | 'POST'; path: string; bug?: string }> = [
      { route: 'GET /customers/:id/loyalty', method: 'GET', path: `/customers/${A}/loyalty` },
      // Neither the name nor the external ref (a source system's id of the person) of the top customers.
      { route: 'GET /loyalty/top', method: 'GET', path: '/loyalty/top' },
      // Complaint descriptions and categories are free text about the customer (ComplaintFiled's personal fields).
      { route: 'GET /complaints', method: 'GET', path: '/complaints' },
      { route: 'GET /complaints?customerId=', method: 'GET', path: `/complaints?customerId=${A}` },
      { route: 'GET /complaints/:id', method: 'GET', path: `/complaints/${CMP_A}` },
      { route: 'GET /sla/breaches', method: 'GET', path: '/sla/breaches' },
      // The analysts' history export redacts personal fields (names, contact details, free text) for them.
      { route: 'GET /events', method: 'GET', path: '/events' },
      { route: 'GET /analytics/revenue', method: 'GET', path: '/analytics/revenue' },
      { route: 'GET /analytics/cross-sell?sku=', method: 'GET', path: `/analytics/cross-sell?sku=${SKU}` },
      { route: 'GET /analytics/sla', method: 'GET', path: '/analytics/sla' },
      { route: 'GET /projections', method: 'GET', path: '/projections' },
    ];
    for (const read of ANALYST_READS) {
      (read.bug ? it.failing : it)(`${read.route}: 200 without personal data${read.bug ? ` — BUG: ${read.bug}` : ''}`, async () => {
        const res = await as('analyst', read.method, read.path, undefined, { 'x-min-position': String(setupHead) });
        const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
        expect({ status: res.status, personalData: personalDataIn(text) }).toEqual({ status: 200, personalData: null });
      });
    }
  });
});

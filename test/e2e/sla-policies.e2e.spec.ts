import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

const NINE_TO_FIVE = [['09:00', '17:00']];
const PORTAL_TOKEN = 'portal-token-sla-policies-0123456789';
const PORTAL_CUSTOMER = '0190f5a0-0000-7000-8000-00000000c0de';

/** The example: Mon–Fri in Vilnius with a split Tuesday; P3 and P4 on business time. */
function businessPolicy(version: string): Record<string, unknown> {
  return {
    version,
    timezone: 'Europe/Vilnius',
    businessHours: { mon: NINE_TO_FIVE, tue: [['09:00', '12:00'], ['13:00', '17:00']], wed: NINE_TO_FIVE, thu: NINE_TO_FIVE, fri: NINE_TO_FIVE, sat: [], sun: [] },
    holidays: ['2027-01-01'],
    targets: {
      P1: { firstResponseMinutes: 60, resolutionMinutes: 240, calendar: '24x7' },
      P2: { firstResponseMinutes: 240, resolutionMinutes: 1440, calendar: '24x7' },
      P3: { firstResponseMinutes: 480, resolutionMinutes: 2400, calendar: 'business' },
      P4: { firstResponseMinutes: 960, resolutionMinutes: 4800, calendar: 'business' },
    },
    pauseWhen: ['awaiting-customer'],
    escalations: [{ name: 'warn-owner', kind: 'resolution', atPercent: 75, notify: 'owner' }],
  };
}

describe('SLA policies as versioned data (GET/PUT /sla/policies)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    // Friday 8 January 2027, 16:00 in Vilnius.
    a = await startTestApp({ now: new Date('2027-01-08T14:00:00Z'), customerTokens: [{ token: PORTAL_TOKEN, customerId: PORTAL_CUSTOMER }] });
    // A second API replica on the same stores, without a projector of its own.
    b = await startTestApp({ now: new Date('2027-01-08T14:00:00Z'), env: { DATA_DIR: a.dataDir, PROJECTOR: 'off' } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const head = async (): Promise<number> => (await a.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition;
  const filedEvent = async (t: TestApp, complaintId: string): Promise<{ sla: Record<string, string> }> => {
    const events = (await t.request('GET', `/streams/complaint-${complaintId}/events`, { token: TOKENS.admin })).body.events as Array<{ type: string; data: { sla: Record<string, string> } }>;
    const filed = events.find((e) => e.type === 'ComplaintFiled');
    if (!filed) throw new Error(`no ComplaintFiled in complaint-${complaintId}`);
    return filed.data;
  };
  const file = async (t: TestApp, customerId: string, priority: string): Promise<string> => {
    const res = await t.request('POST', '/complaints', { body: { customerId, channel: 'phone', category: 'billing', priority, description: 'late invoice' } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  it('serves the configured policy as current while nothing is published, to every staff role and to no customer', async () => {
    for (const token of [TOKENS.agent, TOKENS.analyst, TOKENS.auditor, TOKENS.admin]) {
      const res = await a.request('GET', '/sla/policies', { token });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ current: { version: 'sla-2026-01', source: 'configuration', publishedAt: null, publishedBy: null }, revision: -1 });
      expect(res.body.versions).toHaveLength(1);
    }
    const portal = await a.request('GET', '/sla/policies', { token: PORTAL_TOKEN });
    expect(portal.status).toBe(403);
    expect((await a.request('GET', '/sla/policies', { token: null })).status).toBe(401);
  });

  it.each<[string, (p: Record<string, unknown>) => void, string[]]>([
    ['an unknown timezone', (p) => { p['timezone'] = 'Europe/Atlantis'; }, ['timezone']],
    ['overlapping intervals', (p) => { p['businessHours'] = { tue: [['09:00', '12:00'], ['11:00', '17:00']] }; }, ['businessHours.tue[1]']],
    ['a reversed interval and a malformed time', (p) => { p['businessHours'] = { mon: [['17:00', '09:00']], wed: [['9am', '17:00']] }; }, ['businessHours.mon[0]', 'businessHours.wed[0][0]']],
    ['a policy without P4', (p) => { delete (p['targets'] as Record<string, unknown>)['P4']; }, ['targets.P4']],
    ['a bad holiday and an unknown pause state', (p) => { p['holidays'] = ['2027-13-01']; p['pauseWhen'] = ['on-hold']; }, ['holidays[0]', 'pauseWhen[0]']],
    ['an escalation at 0 %', (p) => { p['escalations'] = [{ name: 'early', kind: 'resolution', atPercent: 0, notify: 'owner' }]; }, ['escalations[0].atPercent']],
    ['a misspelt field', (p) => { p['holiday'] = p['holidays']; }, ['holiday']],
    ['a business calendar without a timezone', (p) => { delete p['timezone']; }, ['timezone']],
  ])('refuses %s with a 400 naming the fields, and appends nothing', async (_case, change, fields) => {
    const before = await head();
    const body = businessPolicy('sla-invalid');
    change(body);
    const res = await a.request('PUT', '/sla/policies', { token: TOKENS.admin, body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: 'validation-error', status: 400 });
    expect((res.body.errors as Array<{ field: string }>).map((e) => e.field)).toEqual(fields);
    expect(await head()).toBe(before);
  });

  it('refuses a body that is not an object, naming the body', async () => {
    const res = await a.request('PUT', '/sla/policies', { token: TOKENS.admin, body: [businessPolicy('sla-array')] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'body', messages: ['expected an object { version, targets }'] }]);
  });

  it('lets only an admin publish', async () => {
    const before = await head();
    for (const token of [TOKENS.agent, TOKENS.analyst, TOKENS.auditor]) {
      const res = await a.request('PUT', '/sla/policies', { token, body: businessPolicy('sla-not-admin') });
      expect(res.status).toBe(403);
      expect(res.body.type).toBe('forbidden');
    }
    expect(await head()).toBe(before);
  });

  it('applies a published version to complaints filed from then on, on every replica; earlier complaints keep theirs', async () => {
    const customerId = (await a.request('POST', '/customers', { body: { name: 'Vilma Policy', kind: 'customer' } })).body.id as string;
    const before = await file(a, customerId, 'P3');

    const put = await a.request('PUT', '/sla/policies', { token: TOKENS.admin, body: businessPolicy('sla-2027-01') });
    expect(put.status).toBe(201);
    expect(put.headers.get('etag')).toBe('"0"');
    expect(put.body).toMatchObject({ ...businessPolicy('sla-2027-01'), source: 'published', publishedAt: '2027-01-08T14:00:00.000Z', publishedBy: 'admin-1', streamRevision: 0 });

    // Filed on the other replica: it reads the new version from the log before deciding.
    const after = await file(b, customerId, 'P3');
    // 8 business hours from Friday 16:00 is Monday 16:00 (14:00Z); 40 from then ends Friday 15 January at 17:00 (Tuesday has 7).
    expect((await filedEvent(b, after)).sla).toEqual({
      policyVersion: 'sla-2027-01', firstResponseDueAt: '2027-01-11T14:00:00.000Z', resolutionDueAt: '2027-01-15T15:00:00.000Z',
    });
    // A 24x7 target of the same version counts every minute.
    const p1 = await file(b, customerId, 'P1');
    expect((await filedEvent(b, p1)).sla).toMatchObject({ policyVersion: 'sla-2027-01', firstResponseDueAt: '2027-01-08T15:00:00.000Z' });
    // Filed before the PUT: the configured version's 24x7 deadlines, untouched.
    expect((await filedEvent(a, before)).sla).toEqual({
      policyVersion: 'sla-2026-01', firstResponseDueAt: '2027-01-08T22:00:00.000Z', resolutionDueAt: '2027-01-11T14:00:00.000Z',
    });

    for (const t of [a, b]) {
      const res = await t.request('GET', '/sla/policies');
      expect(res.body.current).toMatchObject({ version: 'sla-2027-01', source: 'published', timezone: 'Europe/Vilnius' });
      expect((res.body.versions as Array<{ version: string }>).map((v) => v.version)).toEqual(['sla-2027-01', 'sla-2026-01']);
      expect(res.body.revision).toBe(0);
    }
  });

  it('refuses a version published before, or the configured one, with a 409 and appends nothing', async () => {
    const before = await head();
    for (const version of ['sla-2027-01', 'sla-2026-01']) {
      const res = await b.request('PUT', '/sla/policies', { token: TOKENS.admin, body: businessPolicy(version) });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ type: 'policy-version-exists', status: 409 });
    }
    expect(await head()).toBe(before);
  });

  it('takes back the shape GET shows, and refuses a publication on top of a revision that is not the latest (If-Match)', async () => {
    const shown = (await a.request('GET', '/sla/policies')).body.current as Record<string, unknown>;
    const wrong = await a.request('PUT', '/sla/policies', { token: TOKENS.admin, body: { ...shown, version: 'sla-2027-02' }, headers: { 'if-match': '"5"' } });
    expect(wrong.status).toBe(412);
    const ok = await a.request('PUT', '/sla/policies', { token: TOKENS.admin, body: { ...shown, version: 'sla-2027-02' }, headers: { 'if-match': '"0"' } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ version: 'sla-2027-02', timezone: 'Europe/Vilnius', streamRevision: 1 });
  });

  it('evaluates a what-if candidate of the new shape, and names its bad fields', async () => {
    const body = { policy: businessPolicy('sla-whatif'), from: '2027-01-01T00:00:00Z', to: '2027-02-01T00:00:00Z' };
    const res = await a.request('POST', '/analytics/sla-whatif', { token: TOKENS.analyst, body });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ currentPolicy: 'sla-2027-02', candidatePolicy: 'sla-whatif' });

    const invalid = await a.request('POST', '/analytics/sla-whatif', { token: TOKENS.analyst, body: { ...body, policy: { ...businessPolicy('x'), timezone: 'Mars/Olympus' } } });
    expect(invalid.status).toBe(400);
    expect((invalid.body.errors as Array<{ field: string }>).map((e) => e.field)).toEqual(['policy', 'policy.timezone']);
  });
});

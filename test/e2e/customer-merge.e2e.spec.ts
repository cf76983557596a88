import { expectStatus, startTestApp, TOKENS, type TestApp, type TestResponse } from '../support/test-app';

/**
 * Customer merge and unmerge over HTTP (issue 16 item 6): the survivor shows the duplicate's history, the duplicate
 * says where it went and takes no commands, search finds the survivor by the duplicate's e-mail, unmerge restores
 * both, bad merges are refused with nothing appended, and erasure of a merged survivor erases both.
 */
describe('customer merge and unmerge', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { READ_WAIT_MS: '30000' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const ok = expectStatus;
  const post = async (path: string, body: unknown, token?: string): Promise<TestResponse> => t.request('POST', path, { body, token });
  const get = async (path: string, position: number, token?: string): Promise<TestResponse> =>
    ok(await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${position}`, { token }), 200);
  const streamLength = async (streamId: string): Promise<number> =>
    (ok(await t.request('GET', `/streams/${streamId}/events`, { token: TOKENS.auditor }), 200).body as { events: unknown[] }).events.length;

  /** A survivor and a duplicate with contacts, a complaint and purchases, under ids unique to the test. */
  async function pair(tag: string): Promise<{ survivor: string; duplicate: string; complaintId: string; dupEmail: string; position: number }> {
    const survivor = `surv-${tag}`;
    const duplicate = `dup-${tag}`;
    const dupEmail = `vimes.${tag}@watch.example`;
    ok(await post('/customers', { id: survivor, name: `Samuel Vimes ${tag}`, email: `samuel.${tag}@example.com`, kind: 'customer', ownerId: 'agent-ana' }));
    ok(await post('/customers', { id: duplicate, name: `Sam Vimes ${tag}`, email: dupEmail, kind: 'customer' }));
    ok(await post(`/customers/${duplicate}/contacts`, { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 'asked about boots', outcome: `boots-${tag}` }));
    const complaintId = ok(await post('/complaints', { customerId: duplicate, channel: 'phone', category: 'boots', priority: 'P3', description: 'cheap boots leak' })).body.id as string;
    ok(await post('/purchases', { customerId: survivor, orderId: `o-s-${tag}`, currency: 'GBP', lines: [{ sku: 'BOOT', quantity: 1, unitPrice: '10.00' }] }));
    const last = ok(await post('/purchases', { customerId: duplicate, orderId: `o-d-${tag}`, currency: 'GBP', lines: [{ sku: 'BOOT', quantity: 3, unitPrice: '10.00' }] }));
    return { survivor, duplicate, complaintId, dupEmail, position: last.body.position as number };
  }

  it('folds the duplicate into the survivor, and unmerge restores both', async () => {
    const { survivor, duplicate, complaintId, dupEmail, position } = await pair('a');
    const before = {
      survivor: (await get(`/customers/${survivor}`, position)).body,
      duplicate: (await get(`/customers/${duplicate}`, position)).body,
      loyalty: (await get(`/customers/${survivor}/loyalty?referenceDate=2026-11-23T10:00:00Z`, position)).body,
      timeline: (await get(`/customers/${survivor}/timeline`, position)).body,
    };
    expect(before.survivor).not.toHaveProperty('mergedDuplicates');
    expect(before.duplicate).not.toHaveProperty('mergedInto');

    const merged = ok(await post(`/customers/${survivor}/merge`, { duplicateId: duplicate, reason: 'same person, two sign-ups' }));
    expect(merged.body).toMatchObject({ id: survivor });
    const p = merged.body.position as number;

    const dupView = (await get(`/customers/${duplicate}`, p)).body;
    expect(dupView).toMatchObject({ id: duplicate, mergedInto: survivor });
    const survView = (await get(`/customers/${survivor}`, p)).body;
    expect(survView).toMatchObject({ id: survivor, name: 'Samuel Vimes a', mergedDuplicates: [duplicate], openComplaintCount: 1 });
    expect(survView.openComplaints.map((c: { complaintId: string }) => c.complaintId)).toEqual([complaintId]);
    expect(survView.lastContact).toMatchObject({ outcome: 'boots-a' });

    const timeline = (await get(`/customers/${survivor}/timeline`, p)).body;
    expect(timeline.items.map((i: { summary: string }) => i.summary)).toContain('inbound phone contact (support): boots-a');
    expect(timeline.items.length).toBe(before.timeline.items.length + (await get(`/customers/${duplicate}/timeline`, p)).body.items.length);

    const loyalty = (await get(`/customers/${survivor}/loyalty?referenceDate=2026-11-23T10:00:00Z`, p)).body;
    expect(loyalty).toMatchObject({ orders: 2, spend: { GBP: { gross: '40.00', net: '40.00' } } });
    expect(loyalty.points).toBeGreaterThan(before.loyalty.points);

    const complaints = (await get(`/complaints?customerId=${survivor}`, p)).body;
    expect(complaints.items.map((c: { complaintId: string }) => c.complaintId)).toEqual([complaintId]);

    const found = (await get(`/customers?q=${encodeURIComponent(dupEmail)}`, p)).body;
    expect(found.items.map((i: { id: string }) => i.id)).toEqual([survivor]);
    const byName = (await get(`/customers?q=${encodeURIComponent('Sam Vimes a')}`, p)).body;
    expect(byName.items.map((i: { id: string }) => i.id)).toEqual([survivor]);

    const top = (await get('/loyalty/top?limit=50', p)).body;
    const ids = top.items.map((i: { customerId: string }) => i.customerId);
    expect(ids).toContain(survivor);
    expect(ids).not.toContain(duplicate);
    expect(top.items.find((i: { customerId: string }) => i.customerId === survivor)).toMatchObject({ monetary: { amount: '40.00' }, orders: 2 });

    // Commands addressed to the duplicate are refused with the survivor's id, and append nothing.
    const dupEvents = await streamLength(`customer-${duplicate}`);
    const refused = await post(`/customers/${duplicate}/contacts`, { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 's', outcome: 'o' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: 'customer-merged', survivorId: survivor });
    expect((await post('/complaints', { customerId: duplicate, channel: 'phone', category: 'x', priority: 'P3', description: 'd' })).body)
      .toMatchObject({ status: 409, type: 'customer-merged', survivorId: survivor });
    expect((await post('/purchases', { customerId: duplicate, currency: 'GBP', lines: [{ sku: 'X', quantity: 1, unitPrice: '1.00' }] })).body)
      .toMatchObject({ status: 409, type: 'customer-merged' });
    expect(await streamLength(`customer-${duplicate}`)).toBe(dupEvents);

    // The duplicate's open complaint goes on; its next step shows under the survivor.
    const responded = ok(await post(`/complaints/${complaintId}/respond`, { message: 'new boots sent' }));
    const afterRespond = (await get(`/customers/${survivor}`, responded.body.position as number)).body;
    expect(afterRespond.openComplaints[0]).toMatchObject({ complaintId, status: 'responded' });

    const unmerged = ok(await post(`/customers/${survivor}/unmerge`, { duplicateId: duplicate, reason: 'two different people' }));
    const u = unmerged.body.position as number;
    const survAfter = (await get(`/customers/${survivor}`, u)).body;
    expect(survAfter).not.toHaveProperty('mergedDuplicates');
    expect(survAfter.openComplaints).toEqual([]);
    const strip = ({ asOfPosition: _a, streamRevision: _r, ...rest }: Record<string, unknown>): Record<string, unknown> => rest;
    expect(strip(survAfter)).toEqual(strip(before.survivor));
    const dupAfter = (await get(`/customers/${duplicate}`, u)).body;
    expect(dupAfter).not.toHaveProperty('mergedInto');
    expect(dupAfter.openComplaints[0]).toMatchObject({ complaintId, status: 'responded' });
    expect((await get(`/customers/${survivor}/loyalty?referenceDate=2026-11-23T10:00:00Z`, u)).body).toMatchObject({ ...before.loyalty, asOfPosition: u });
    expect((await get(`/customers?q=${encodeURIComponent(dupEmail)}`, u)).body.items.map((i: { id: string }) => i.id)).toEqual([duplicate]);
    expect((await get(`/customers/${survivor}/timeline`, u)).body.items).toEqual(before.timeline.items);
    // The duplicate takes commands again.
    ok(await post(`/customers/${duplicate}/contacts`, { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 's', outcome: 'o' }));
  });

  it('refuses bad merges with a clear problem and appends nothing', async () => {
    const { survivor, duplicate } = await pair('b');
    ok(await post('/customers', { id: 'third-b', name: 'Third', kind: 'customer' }));
    ok(await post('/customers', { id: 'gone-b', name: 'Gone', kind: 'customer' }));
    ok(await post('/customers/gone-b/erase', { reason: 'request 7' }, TOKENS.admin));
    ok(await post(`/customers/${survivor}/merge`, { duplicateId: duplicate, reason: 'dup' }));
    const streams = [survivor, duplicate, 'third-b', 'gone-b'].map((id) => `customer-${id}`);
    const lengths = await Promise.all(streams.map(streamLength));

    const cases: Array<[string, unknown, number, string]> = [
      [`/customers/${survivor}/merge`, { duplicateId: survivor, reason: 'r' }, 422, 'merge-into-self'],
      [`/customers/${survivor}/merge`, { duplicateId: 'gone-b', reason: 'r' }, 422, 'merge-customer-erased'],
      ['/customers/gone-b/merge', { duplicateId: 'third-b', reason: 'r' }, 422, 'merge-customer-erased'],
      // A into B into C: the survivor was itself merged away, or the duplicate has duplicates of its own.
      [`/customers/${duplicate}/merge`, { duplicateId: 'third-b', reason: 'r' }, 422, 'merge-chain'],
      ['/customers/third-b/merge', { duplicateId: survivor, reason: 'r' }, 422, 'merge-chain'],
      [`/customers/${survivor}/merge`, { duplicateId: duplicate, reason: 'again' }, 409, 'customer-merged'],
      ['/customers/third-b/merge', { duplicateId: duplicate, reason: 'r' }, 409, 'customer-merged'],
      ['/customers/third-b/unmerge', { duplicateId: survivor, reason: 'r' }, 422, 'not-merged'],
      [`/customers/${survivor}/merge`, { duplicateId: 'nobody-b', reason: 'r' }, 404, 'customer-not-found'],
      [`/customers/${survivor}/merge`, { duplicateId: 'third-b' }, 400, 'validation-error'],
    ];
    for (const [path, body, status, type] of cases) {
      const r = await post(path, body);
      expect({ path, body, status: r.status, type: r.body?.type }).toEqual({ path, body, status, type });
    }
    expect(await Promise.all(streams.map(streamLength))).toEqual(lengths);
  });

  it('erasing a merged survivor erases the duplicate\'s personal data too', async () => {
    const { survivor, duplicate, dupEmail } = await pair('c');
    ok(await post(`/customers/${survivor}/merge`, { duplicateId: duplicate, reason: 'dup' }));
    const erased = ok(await post(`/customers/${survivor}/erase`, { reason: 'GDPR 12' }, TOKENS.admin));
    expect(erased.body.receipt).toMatchObject({ mergedCustomersErased: [duplicate] });
    const p = erased.body.position as number;
    const dup = (await get(`/customers/${duplicate}`, p)).body;
    expect(dup).toMatchObject({ name: '[erased]', email: null, mergedInto: survivor });
    expect((await get(`/customers/${survivor}`, p)).body).toMatchObject({ name: '[erased]', email: null });
    expect((await get(`/customers?q=${encodeURIComponent(dupEmail)}`, p)).body.items).toEqual([]);
    const trail = ok(await t.request('GET', `/streams/customer-${duplicate}/events`, { token: TOKENS.auditor }), 200).body;
    expect(JSON.stringify(trail)).not.toContain(dupEmail);
    expect((await post(`/customers/${survivor}/unmerge`, { duplicateId: duplicate, reason: 'r' })).body).toMatchObject({ status: 422, type: 'merge-customer-erased' });
  });

  it('erasing a merged duplicate erases its survivor too', async () => {
    const { survivor, duplicate } = await pair('d');
    ok(await post(`/customers/${survivor}/merge`, { duplicateId: duplicate, reason: 'dup' }));
    const erased = ok(await post(`/customers/${duplicate}/erase`, { reason: 'GDPR 13' }, TOKENS.admin));
    expect(erased.body.receipt).toMatchObject({ customerId: duplicate, mergedCustomersErased: [survivor] });
    const survView = (await get(`/customers/${survivor}`, erased.body.position as number)).body;
    expect(survView).toMatchObject({ name: '[erased]', email: null, mergedDuplicates: [duplicate] });
  });
});

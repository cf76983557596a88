import { join } from 'node:path';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { ALL_PROJECTIONS, READ_MODEL_STORE, type ReadModelStore } from '@crm/read-models';
import { cleanRebuild, dumpReadModels } from '../support/read-model-state';
import { makeTempDir } from '../support/temp-dir';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/**
 * Issue 16, item 7: the loyalty policy as versioned data (GET/PUT /loyalty/policies) with dated exchange rates, and
 * points, RFM monetary and top spenders counting every currency at those rates, through the HTTP app.
 */
describe('loyalty across currencies', () => {
  let t: TestApp;
  const tmp = makeTempDir('crm-loyalty-fx-');
  const asAdmin = { token: TOKENS.admin };
  const EUR_085 = { currency: 'EUR', rate: '0.85', from: '2026-01-01' };
  const policy = (version: string, rates: unknown[]): Record<string, unknown> => ({
    version, currency: 'GBP', pointsPerUnit: 1,
    tiers: [{ name: 'bronze', minPoints: 0 }, { name: 'silver', minPoints: 500 }, { name: 'gold', minPoints: 2000 }], rates,
  });

  beforeAll(async () => {
    t = await startTestApp({ now: new Date('2026-11-23T10:00:00Z') });
  });
  afterAll(async () => {
    await t.close();
    tmp.remove();
  });

  const customer = async (name: string): Promise<string> => {
    const created = await t.request('POST', '/customers', { body: { name, kind: 'customer' } });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const buy = async (customerId: string, currency: string, unitPrice: string, occurredAt: string, orderId?: string): Promise<number> => {
    const bought = await t.request('POST', '/purchases', {
      body: { customerId, orderId, currency, occurredAt, lines: [{ sku: 'FX-1', description: 'thing', quantity: 1, unitPrice }] },
    });
    expect(bought.status).toBe(201);
    return bought.body.position as number;
  };
  /** The stream's events as the history API shows them (404 while it has none). */
  const policyEvents = async (): Promise<string[]> => {
    const read = await t.request('GET', '/streams/loyalty-policies/events', asAdmin);
    return read.status === 404 ? [] : read.body.events.map((e: { type: string; data: { policy: { version: string } } }) => `${e.type} ${e.data.policy.version}`);
  };

  it('answers the configured policy while none is published, and refuses bad versions naming the field, appending nothing', async () => {
    const before = await t.request('GET', '/loyalty/policies');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      current: { version: 'loyalty-2026-01', currency: 'GBP', pointsPerUnit: 1, tiers: expect.any(Array), rates: [] },
      source: 'configured', earlier: [], streamRevision: -1,
    });

    const badRate = await t.request('PUT', '/loyalty/policies', { ...asAdmin, body: policy('loyalty-fx-bad', [{ ...EUR_085, rate: 0.85 }]) });
    expect(badRate.status).toBe(400);
    expect(badRate.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(badRate.body).toMatchObject({ type: 'validation-error', errors: [{ field: 'rates[0].rate', messages: [expect.stringMatching(/decimal string/)] }] });
    const badDay = await t.request('PUT', '/loyalty/policies', { ...asAdmin, body: policy('loyalty-fx-bad', [{ ...EUR_085, from: '2026-13-01' }]) });
    expect(badDay.body.errors.map((e: { field: string }) => e.field)).toEqual(['rates[0].from']);
    const notJson = await t.request('PUT', '/loyalty/policies', { ...asAdmin, rawBody: '[1,2]' });
    expect(notJson.status).toBe(400);
    const asAgent = await t.request('PUT', '/loyalty/policies', { body: policy('loyalty-fx-agent', [EUR_085]) });
    expect(asAgent.status).toBe(403);
    expect((await t.request('GET', '/loyalty/policies')).body.streamRevision).toBe(-1);
    expect(await policyEvents()).toEqual([]);
  });

  it('publishes a version, refuses its name again (and the configured one) with 409, and lists the earlier ones', async () => {
    const published = await t.request('PUT', '/loyalty/policies', { ...asAdmin, body: policy('loyalty-fx-1', [EUR_085]) });
    expect(published.status).toBe(201);
    expect(published.body).toEqual({ id: 'loyalty-fx-1', streamRevision: 0, position: expect.any(Number) });

    const again = await t.request('PUT', '/loyalty/policies', { ...asAdmin, body: policy('loyalty-fx-1', []) });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: 'loyalty-policy-version-exists', version: 'loyalty-fx-1' });
    const configuredName = await t.request('PUT', '/loyalty/policies', { ...asAdmin, body: policy('loyalty-2026-01', []) });
    expect(configuredName.status).toBe(409);
    // Decided on a stale view of the versions (If-Match with GET's streamRevision): refused, nothing appended.
    const behind = await t.request('PUT', '/loyalty/policies', { ...asAdmin, body: policy('loyalty-fx-stale', []), headers: { 'if-match': '"3"' } });
    expect(behind.status).toBe(412);

    const listed = await t.request('GET', '/loyalty/policies', asAdmin);
    expect(listed.body).toMatchObject({
      current: policy('loyalty-fx-1', [EUR_085]), source: 'published', streamRevision: 0, earlier: [{ version: 'loyalty-2026-01', rates: [] }],
    });
    expect(await policyEvents()).toEqual(['LoyaltyPolicyPublished loyalty-fx-1']);
  });

  it('earns points for 900 EUR at 0.85, counts them in top spenders, and shows a currency without a rate as not converted', async () => {
    const euro = await customer('Eugénie Euro');
    const mixed = await customer('Chiara Franc');
    await buy(euro, 'EUR', '900.00', '2026-03-10T12:00:00Z');
    await buy(mixed, 'GBP', '50.00', '2026-03-11T12:00:00Z');
    const last = await buy(mixed, 'CHF', '100.00', '2026-03-12T12:00:00Z');

    const loyalty = await t.request('GET', `/customers/${euro}/loyalty?minPosition=${last}`);
    expect(loyalty.status).toBe(200);
    expect(loyalty.body).toMatchObject({
      policyVersion: 'loyalty-fx-1', currency: 'GBP', points: 765, tier: 'silver', unconverted: [],
      spend: { EUR: { gross: '900.00', returns: '0.00', net: '900.00' } },
      rfm: { monetary: { amount: '765.00', currency: 'GBP' } },
    });
    const other = await t.request('GET', `/customers/${mixed}/loyalty?minPosition=${last}`);
    expect(other.body).toMatchObject({
      points: 50, spend: { CHF: { net: '100.00' }, GBP: { net: '50.00' } }, unconverted: [{ currency: 'CHF', amount: '100.00' }],
      rfm: { monetary: { amount: '50.00', currency: 'GBP' } },
    });

    const top = await t.request('GET', `/loyalty/top?minPosition=${last}`);
    expect(top.body).toMatchObject({ currency: 'GBP', policyVersion: 'loyalty-fx-1' });
    expect(top.body.items).toEqual([
      expect.objectContaining({ rank: 1, customerId: euro, monetary: { amount: '765.00', currency: 'GBP' }, points: 765, unconverted: [] }),
      expect.objectContaining({ rank: 2, customerId: mixed, monetary: { amount: '50.00', currency: 'GBP' }, unconverted: [{ currency: 'CHF', amount: '100.00' }] }),
    ]);
  });

  it('re-values earlier purchases when a rate for their day is published, claws back at the purchase’s rate, and equals a clean rebuild', async () => {
    const swiss = await customer('Sven Swiss');
    await buy(swiss, 'EUR', '200.00', '2026-04-01T12:00:00Z', 'fx-order-swiss');
    await buy(swiss, 'CHF', '100.00', '2026-04-02T12:00:00Z');
    const v2 = await t.request('PUT', '/loyalty/policies', {
      ...asAdmin, body: policy('loyalty-fx-2', [EUR_085, { currency: 'EUR', rate: '0.95', from: '2026-05-01' }, { currency: 'CHF', rate: '0.9', from: '2026-01-01' }]),
    });
    expect(v2.status).toBe(201);
    // Returned in June, after the euro's rate moved: it takes back what the April purchase earned (at 0.85).
    const returned = await t.request('POST', '/purchases/fx-order-swiss/returns', { body: { lines: [{ sku: 'FX-1', quantity: 1 }], reason: 'wrong size', occurredAt: '2026-06-01T12:00:00Z' } });
    expect(returned.status).toBe(201);

    const loyalty = await t.request('GET', `/customers/${swiss}/loyalty?minPosition=${returned.body.position}`);
    expect(loyalty.body).toMatchObject({ policyVersion: 'loyalty-fx-2', points: 90, unconverted: [], rfm: { monetary: { amount: '90.00', currency: 'GBP' } } });

    // Another API replica publishes (straight into the shared log, as its own process would): this one's next GET and
    // the read models at that position show it, with nothing cached to expire.
    const log = t.app.get<symbol, EventStore>(EVENT_STORE);
    const v3 = policy('loyalty-fx-3', [EUR_085, { currency: 'CHF', rate: '1.1', from: '2026-01-01' }]);
    const elsewhere = await log.appendToStream('loyalty-policies', [{
      eventId: '0193f5c2-7a10-7000-8000-00000000f0c3', type: 'LoyaltyPolicyPublished', data: { policy: v3, previousVersion: 'loyalty-fx-2' },
      metadata: { actor: { id: 'admin-2', role: 'admin' }, occurredAt: '2026-11-23T10:00:00.000Z' },
    }], { expectedRevision: 1 });
    expect((await t.request('GET', '/loyalty/policies')).body).toMatchObject({ current: v3, streamRevision: 2 });
    const afterV3 = await t.request('GET', `/customers/${swiss}/loyalty?minPosition=${elsewhere.position}`);
    expect(afterV3.body).toMatchObject({ policyVersion: 'loyalty-fx-3', points: 110 });

    const live = t.app.get<symbol, ReadModelStore>(READ_MODEL_STORE);
    const head = await log.headPosition();
    for (const p of ALL_PROJECTIONS) expect(await t.projector?.runner.waitFor(p.name, head, 10_000)).toBe(true);
    const rebuilt = await cleanRebuild(log, join(tmp.dir, 'clean.db'), head);
    const liveDocs = await dumpReadModels(live);
    expect(liveDocs['loyalty_v2']?.length).toBe(3);
    expect(liveDocs).toEqual(rebuilt);
  });
});

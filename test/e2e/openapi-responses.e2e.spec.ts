import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

type Schema = {
  $ref?: string; type?: string; nullable?: boolean; properties?: Record<string, Schema>; required?: string[];
  items?: Schema; additionalProperties?: boolean | Schema; allOf?: Schema[]; enum?: unknown[];
};
type Operation = { responses: Record<string, { content?: Record<string, { schema?: Schema }> }> };

/**
 * Where a body differs from its documented schema: a member the schema does not name (a field a branch added to
 * the answer but not to the response class), a required member missing, a null where the schema has none, a
 * value of another type or outside the enum. Enough of JSON Schema for what @nestjs/swagger writes.
 */
function mismatches(document: Record<string, unknown>, schema: Schema, value: unknown, at: string): string[] {
  const schemas = (document['components'] as { schemas: Record<string, Schema> }).schemas;
  const resolve = (s: Schema): Schema => {
    if (s.$ref) return resolve(schemas[s.$ref.replace('#/components/schemas/', '')] ?? {});
    if (!s.allOf) return s;
    // @nestjs/swagger writes an extended class as allOf of its parent and its own members.
    const parts = s.allOf.map(resolve);
    return {
      type: 'object',
      nullable: s.nullable,
      properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) as Record<string, Schema>,
      required: parts.flatMap((p) => p.required ?? []),
    };
  };
  const s = resolve(schema);
  if (value === null) return s.nullable ? [] : [`${at}: null, not nullable`];
  if (s.enum && !s.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`];
  if (s.type === 'array') {
    if (!Array.isArray(value)) return [`${at}: not an array`];
    return value.flatMap((v, i) => mismatches(document, s.items ?? {}, v, `${at}[${i}]`));
  }
  if (s.type === 'object' || s.properties) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object`];
    const body = value as Record<string, unknown>;
    if (!s.properties) {
      const each = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
      return each ? Object.entries(body).flatMap(([k, v]) => mismatches(document, each, v, `${at}.${k}`)) : [];
    }
    const properties = s.properties;
    return [
      ...(s.required ?? []).filter((k) => !(k in body)).map((k) => `${at}.${k}: required, missing`),
      ...Object.entries(body).flatMap(([k, v]) => {
        const member = properties[k];
        return member ? mismatches(document, member, v, `${at}.${k}`) : [`${at}.${k}: not in the schema`];
      }),
    ];
  }
  const actual = Number.isInteger(value) ? 'integer' : typeof value;
  if (s.type === 'number' && actual === 'integer') return [];
  return s.type && s.type !== actual ? [`${at}: ${actual}, documented ${s.type}`] : [];
}

/**
 * The other half of the contract test: not only does every operation document a 2xx schema, the bodies the routes
 * answer match it. Exercised on the routes and response fields the branches of issue 16 (pause, priority,
 * escalation, policy versions, merges) added after the contract was first described.
 */
describe('answers match the OpenAPI document', () => {
  let t: TestApp;
  let document: Record<string, unknown>;
  let last = 0;

  const check = async (method: string, path: string, documented: string, options: { body?: unknown; token?: string } = {}): Promise<unknown> => {
    const url = method === 'GET' ? `${path}${path.includes('?') ? '&' : '?'}minPosition=${last}` : path;
    const res = await t.request(method, url, options);
    expect({ path, status: res.status }).toEqual({ path, status: method === 'GET' ? 200 : 201 });
    if (typeof res.body?.position === 'number') last = Math.max(last, res.body.position);
    const operation = (document['paths'] as Record<string, Record<string, Operation>>)[documented]?.[method.toLowerCase()];
    const schema = operation?.responses[String(res.status)]?.content?.['application/json']?.schema;
    expect({ path, documented: schema !== undefined }).toEqual({ path, documented: true });
    expect({ path, mismatches: mismatches(document, schema ?? {}, res.body, 'body') }).toEqual({ path, mismatches: [] });
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestApp({ now: new Date('2026-11-23T08:00:00Z') });
    document = (await t.request('GET', '/docs-json', { token: null })).body as Record<string, unknown>;
  });
  afterAll(async () => {
    await t.close();
  });

  it('complaints that waited and changed priority, as the board and the detail answer them', async () => {
    const customer = { name: 'Rhea Response', email: 'rhea-contract@example.com', kind: 'customer', ownerId: 'agent-ana' };
    const { id: customerId } = (await check('POST', '/customers', '/customers', { body: customer })) as { id: string };
    const filed = { id: 'contract-cmp-1', customerId, channel: 'email', category: 'delivery', priority: 'P2', description: 'parcel lost' };
    await check('POST', '/complaints', '/complaints', { body: filed });
    await check('POST', '/complaints/contract-cmp-1/await-customer', '/complaints/{id}/await-customer', { body: { reason: 'tracking number' } });
    await check('POST', '/complaints/contract-cmp-1/priority', '/complaints/{id}/priority', { body: { priority: 'P1', reason: 'vip' } });
    const detail = await check('GET', '/complaints/contract-cmp-1', '/complaints/{id}');
    expect(detail).toMatchObject({ paused: true, filingPriority: 'P2', priority: 'P1', priorityChanges: 1 });
    await check('GET', '/complaints?paused=true', '/complaints');
    await check('POST', '/complaints/contract-cmp-1/resume', '/complaints/{id}/resume', { body: { reason: 'customer answered' } });
    await check('GET', `/customers/${customerId}`, '/customers/{id}');
    await check('POST', `/customers/${customerId}/follow-ups`, '/customers/{id}/follow-ups', { body: { dueAt: '2026-11-24T09:00:00Z', reason: 'call back' } });
    // The hand-over moves the open follow-up to the new owner.
    await check('PUT', `/customers/${customerId}/owner`, '/customers/{id}/owner', { body: { ownerId: 'agent-bob', reason: 'holiday', moveOpenWork: true } });
    expect(await check('GET', '/follow-ups?ownerId=agent-bob', '/follow-ups')).toMatchObject({ items: [{ ownerId: 'agent-bob' }] });
    expect(await check('GET', '/analytics/sla?priorityAt=filing', '/analytics/sla', { token: TOKENS.analyst })).toMatchObject({ priorityBasis: 'filing' });
    await check('GET', `/customers/${customerId}/loyalty`, '/customers/{id}/loyalty');
    await check('GET', `/customers/${customerId}/timeline`, '/customers/{id}/timeline');
  });

  it('merged customers, as the survivor and the duplicate answer', async () => {
    const register = async (name: string): Promise<string> =>
      ((await check('POST', '/customers', '/customers', { body: { name, kind: 'customer', ownerId: 'agent-ana' } })) as { id: string }).id;
    const survivor = await register('Mara Merge');
    const duplicate = await register('Mara Merge (dup)');
    await check('POST', `/customers/${survivor}/merge`, '/customers/{id}/merge', { body: { duplicateId: duplicate, reason: 'same person' } });
    expect(await check('GET', `/customers/${survivor}`, '/customers/{id}')).toMatchObject({ mergedDuplicates: [duplicate] });
    expect(await check('GET', `/customers/${duplicate}`, '/customers/{id}')).toMatchObject({ mergedInto: survivor });
    await check('GET', '/customers?q=mara', '/customers');
    await check('POST', `/customers/${survivor}/unmerge`, '/customers/{id}/unmerge', { body: { duplicateId: duplicate, reason: 'not the same' } });
    await check('POST', `/customers/${survivor}/merge`, '/customers/{id}/merge', { body: { duplicateId: duplicate, reason: 'same after all' } });
    const receipt = await check('POST', `/customers/${survivor}/erase`, '/customers/{id}/erase', { body: { reason: 'customer asked' }, token: TOKENS.admin });
    expect(receipt).toMatchObject({ receipt: { mergedCustomersErased: [duplicate] } });
  });

  it('policy versions, GET /me', async () => {
    const admin = TOKENS.admin;
    await check('GET', '/sla/policies', '/sla/policies');
    const policy = {
      version: 'sla-contract-1',
      timezone: 'Europe/Vilnius',
      businessHours: { mon: [['09:00', '17:00']], sat: [] },
      holidays: ['2027-01-01'],
      targets: {
        P1: { firstResponseMinutes: 60, resolutionMinutes: 240 },
        P2: { firstResponseMinutes: 240, resolutionMinutes: 1440, calendar: '24x7' },
        P3: { firstResponseMinutes: 480, resolutionMinutes: 2400, calendar: 'business' },
        P4: { firstResponseMinutes: 960, resolutionMinutes: 4800, calendar: 'business' },
      },
      pauseWhen: ['awaiting-customer'],
      escalations: [{ name: 'warn-owner', kind: 'resolution', atPercent: 75, notify: 'owner' }],
    };
    await check('PUT', '/sla/policies', '/sla/policies', { body: policy, token: admin });
    expect(await check('GET', '/sla/policies', '/sla/policies')).toMatchObject({ current: { version: 'sla-contract-1' }, revision: 0 });

    await check('GET', '/loyalty/policies', '/loyalty/policies');
    const loyalty = {
      version: 'loyalty-contract-1', currency: 'GBP', pointsPerUnit: 1,
      tiers: [{ name: 'bronze', minPoints: 0 }, { name: 'gold', minPoints: 2000 }],
      rates: [{ currency: 'EUR', rate: '0.85', from: '2026-01-01' }],
    };
    await check('PUT', '/loyalty/policies', '/loyalty/policies', { body: loyalty, token: admin });
    expect(await check('GET', '/loyalty/policies', '/loyalty/policies')).toMatchObject({ source: 'published', earlier: [{}] });

    await check('GET', '/me', '/me');
  });
});

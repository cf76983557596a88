import Database from 'better-sqlite3';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyEncryptionKey, SqliteKeyStore } from '@crm/event-store';
import { EMBEDDED_KEK_FILE } from '@crm/runtime';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/** 24 letters from outside the hex alphabet: no id, hash, position or ciphertext holds it by chance. */
const marker = (): string => Array.from({ length: 24 }, () => 'ghijklmnopqrstuvwxyz'[randomInt(20)]).join('');

/** Files of the data directory whose bytes (UTF-8 or UTF-16) hold `value`. */
function filesHolding(dir: string, value: string, prefix = ''): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(prefix)).filter((f) => {
    const bytes = readFileSync(join(dir, f));
    return bytes.includes(value) || bytes.includes(Buffer.from(value, 'utf16le'));
  });
}

/** Every table of read-models.db (every build of every read model) whose rows hold `value`, through SQLite itself. */
function tablesHolding(dataDir: string, value: string): string[] {
  const db = new Database(join(dataDir, 'read-models.db'), { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    return tables.filter((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t}"`).all()).includes(value));
  } finally {
    db.close();
  }
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * GDPR erasure by crypto-shredding: personal data is encrypted per customer in the log, the key is destroyed on
 * erasure, every read model masks what it had, and no personal value is left in any file of the data directory.
 */
describe.each([
  ['on the API\'s event loop (PROJECTOR=embedded)', false],
  ['in the projector thread of npm start (PROJECTOR=thread)', true],
])('erasure of a customer (crypto-shredding), projections %s', (_mode, projectorThread) => {
  let t: TestApp;
  const PERSONAL = ['Eleanor Rigby', 'eleanor@example.com', '447700900123', '+44 7700 900123', 'picks up rice in a church', 'lonely people everywhere', 'darning socks at night', 'wearing the face'];
  beforeAll(async () => {
    // The receipt is asserted with every read model masked: the erasure's wait for them (READ_WAIT_MS, 2 s by default)
    // must not run out on a loaded CI machine. It ends as soon as they have masked.
    t = await startTestApp({ projectorThread, env: { READ_WAIT_MS: '30000' }, customerTokens: [{ token: 'eleanor-portal', customerId: 'eleanor' }] });
  });
  afterAll(async () => {
    await t.close();
  });

  it('exports first, erases with a receipt, keeps the non-personal history, and leaves no personal value on disk', async () => {
    await t.request('POST', '/customers', { body: { id: 'eleanor', name: 'Eleanor Rigby', email: 'eleanor@example.com', phone: '+44 7700 900123', kind: 'customer', ownerId: 'agent-ana' } });
    await t.request('POST', '/customers', { body: { id: 'father-mckenzie', name: 'Father McKenzie', kind: 'customer' } });
    await t.request('POST', '/customers/eleanor/contacts', { body: { channel: 'visit', direction: 'inbound', purpose: 'sales', summary: 'picks up rice in a church', outcome: 'bought' } });
    const complaint = (await t.request('POST', '/complaints', { body: { customerId: 'eleanor', channel: 'letter', category: 'service', priority: 'P3', description: 'lonely people everywhere' } })).body.id;
    await t.request('POST', `/complaints/${complaint}/respond`, { body: { message: 'wearing the face' } });
    await t.request('POST', '/customers/eleanor/follow-ups', { body: { dueAt: '2026-11-30T09:00:00Z', reason: 'darning socks at night' } });
    const purchase = (await t.request('POST', '/purchases', { body: { customerId: 'eleanor', orderId: 'rice-1', currency: 'GBP', lines: [{ sku: 'RICE', quantity: 2, unitPrice: '1.25' }] } })).body;
    await t.request('GET', `/customers/eleanor/timeline?minPosition=${purchase.position}`);

    // The log itself never held the personal values in clear.
    const events = readFileSync(join(t.dataDir, 'events.db'));
    expect(PERSONAL.filter((v) => events.includes(v))).toEqual([]);

    const exported = await t.request('GET', '/customers/eleanor/export', { token: 'eleanor-portal' });
    expect(exported.status).toBe(200);
    expect(JSON.stringify(exported.body)).toContain('picks up rice in a church');
    expect((await t.request('GET', '/customers/father-mckenzie/export', { token: 'eleanor-portal' })).status).toBe(404);

    expect((await t.request('POST', '/customers/eleanor/erase', { body: { reason: 'GDPR request #42' } })).status).toBe(403);
    const erased = await t.request('POST', '/customers/eleanor/erase', { token: TOKENS.admin, body: { reason: 'GDPR request #42' } });
    expect(erased.status).toBe(201);
    expect(erased.body.receipt).toMatchObject({
      customerId: 'eleanor', keyDestroyed: true, reason: 'GDPR request #42', eventsWithPersonalData: 6,
      fields: {
        CustomerRegistered: ['name', 'email', 'phone', 'externalRef'], ContactLogged: ['summary', 'outcome'], ComplaintFiled: ['category', 'description'],
        ComplaintResponded: ['message'], FollowUpScheduled: ['reason'], PurchaseRecorded: ['lines[].description'],
      },
      readModelsMasked: ['customer_profiles', 'customer_timelines', 'complaints', 'follow_ups'], readModelsPending: [], readModelFilesCompacted: true,
    });

    const profile = await t.request('GET', `/customers/eleanor?minPosition=${erased.body.position}`);
    expect(profile.body).toMatchObject({ name: '[erased]', email: null, phone: null, ownerId: 'agent-ana' });
    expect((await t.request('GET', '/customers?q=eleanor')).body.items).toEqual([]);
    const timeline = await t.request('GET', `/customers/eleanor/timeline?minPosition=${erased.body.position}`);
    expect(timeline.body.items.map((e: { type: string }) => e.type)).toContain('PurchaseRecorded');
    const trail = await t.request('GET', '/customers/eleanor/trail', { token: TOKENS.auditor });
    const registered = trail.body.events.find((e: { type: string }) => e.type === 'CustomerRegistered');
    expect(registered.data).toMatchObject({ customerId: 'eleanor', kind: 'customer', name: '[erased]', email: '[erased]', ownerId: 'agent-ana' });
    expect(trail.body.events.find((e: { type: string }) => e.type === 'PurchaseRecorded').data.total).toEqual({ amount: 250, scale: 2, currency: 'GBP' });
    expect(trail.body.events.at(-1)).toMatchObject({ type: 'CustomerErased', actor: { id: 'admin-1', role: 'admin' } });

    const again = await t.request('POST', '/customers/eleanor/contacts', { body: { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 'hello again', outcome: 'x' } });
    expect(again.status).toBe(410);
    expect(again.body.type).toBe('customer-erased');
    expect((await t.request('POST', '/purchases', { body: { customerId: 'eleanor', currency: 'GBP', lines: [{ sku: 'R', quantity: 1, unitPrice: '1' }] } })).status).toBe(410);
    expect((await t.request('POST', '/customers/eleanor/erase', { token: TOKENS.admin, body: { reason: 'again' } })).status).toBe(410);

    const exportAfter = await t.request('GET', '/events', { token: TOKENS.auditor });
    const audit = await t.request('GET', '/audit/export?customerId=eleanor', { token: TOKENS.auditor });
    const answers = [JSON.stringify(profile.body), JSON.stringify(timeline.body), JSON.stringify(trail.body), String(exportAfter.body), String(audit.body),
      JSON.stringify((await t.request('GET', `/complaints/${complaint}`)).body), JSON.stringify((await t.request('GET', '/follow-ups')).body)];
    expect(PERSONAL.flatMap((v) => answers.flatMap((a, i) => (a.includes(v) ? [`${i}: ${v}`] : [])))).toEqual([]);

    // No personal value left in any file of the data directory (SQLite files, WALs, key store, idempotency store).
    const leftovers = readdirSync(t.dataDir).flatMap((file) => {
      const bytes = readFileSync(join(t.dataDir, file));
      return PERSONAL.filter((v) => bytes.includes(v) || bytes.includes(Buffer.from(v, 'utf16le'))).map((v) => `${file}: ${v}`);
    });
    expect(leftovers).toEqual([]);
    // The other customer is untouched.
    expect((await t.request('GET', '/customers/father-mckenzie')).body.name).toBe('Father McKenzie');
  });
  it('erases every free-text field and every read-model build, a build retired by a rebuild included', async () => {
    const M = marker();
    const id = `free-text-${projectorThread ? 't' : 'e'}`;
    const post = async (method: string, path: string, body?: unknown, token?: string): Promise<{ id?: string; position: number }> => {
      const res = await t.request(method, path, { body, token });
      if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    await post('POST', '/customers', { id, name: `Vera ${M}`, email: `vera@${M}.example`, kind: 'customer', externalRef: `shop:${M}` });
    await post('POST', `/customers/${id}/contacts`, { channel: 'phone', direction: 'inbound', purpose: 'support', summary: `summary ${M}`, outcome: `outcome ${M}` });
    await post('PUT', `/customers/${id}/owner`, { ownerId: 'agent-bob', reason: `owner ${M}` });
    const complaint = (await post('POST', '/complaints', { customerId: id, channel: 'email', category: `category ${M}`, priority: 'P3', description: `description ${M}` })).id;
    await post('PUT', `/complaints/${complaint}/owner`, { ownerId: 'agent-ana', reason: `reassigned ${M}` });
    await post('POST', '/purchases', { customerId: id, orderId: `${id}-order`, currency: 'GBP', lines: [{ sku: 'VERA-1', description: `line ${M}`, quantity: 2, unitPrice: '3.00' }] });
    const last = await post('POST', `/purchases/${id}-order/returns`, { lines: [{ sku: 'VERA-1', quantity: 1 }], reason: `return ${M}` });
    const timeline = await t.request('GET', `/customers/${id}/timeline?minPosition=${last.position}`);
    expect(JSON.stringify(timeline.body)).toContain(`outcome ${M}`);
    // Sealed in the log from the start: the log files never held any of it in clear.
    expect(filesHolding(t.dataDir, M, 'events.db')).toEqual([]);

    // A blue/green rebuild retires the builds that served until now; their tables stay beside the new ones a while.
    for (const name of ['customer_timelines', 'customer_profiles', 'complaints']) {
      expect((await t.request('POST', `/projections/${name}/rebuild`, { token: TOKENS.admin })).status).toBe(202);
    }
    await until(async () => {
      const list = (await t.request('GET', '/projections', { token: TOKENS.admin })).body as { projections?: unknown[] } | unknown[];
      const items = (Array.isArray(list) ? list : (list.projections ?? [])) as Array<{ name: string; serving?: { generation: number }; rebuild?: unknown }>;
      const switched = ['customer_timelines', 'customer_profiles', 'complaints'].every((n) => items.some((p) => p.name === n && p.serving?.generation === 1 && !p.rebuild));
      return switched ? true : undefined;
    }, 'the rebuilds to switch');
    const before = tablesHolding(t.dataDir, M);
    expect(before).toEqual(expect.arrayContaining(['rm_customer_profiles_v1', 'rm_customer_profiles_v1_g1']));
    // The timeline keeps personal fields sealed: no build of it ever held one in clear.
    expect(before.filter((table) => table.startsWith('rm_timeline_entries'))).toEqual([]);
    expect(tablesHolding(t.dataDir, 'enc:v1:')).toEqual(expect.arrayContaining(['rm_timeline_entries_v2', 'rm_timeline_entries_v2_g1']));

    const erased = await t.request('POST', `/customers/${id}/erase`, { token: TOKENS.admin, body: { reason: 'GDPR request #77' } });
    expect(erased.status).toBe(201);
    expect(erased.body.receipt).toMatchObject({ readModelsPending: [], readModelFilesCompacted: true });
    expect(erased.body.receipt.fields).toMatchObject({
      ContactLogged: ['summary', 'outcome'], CustomerOwnerAssigned: ['reason'], ComplaintFiled: ['category', 'description'],
      ComplaintOwnerChanged: ['reason'], PurchaseRecorded: ['lines[].description'], ReturnRecorded: ['reason'],
    });

    // Raw bytes of every file first (after the erasure's compaction), then every table of every build through SQLite.
    expect(filesHolding(t.dataDir, M)).toEqual([]);
    expect(tablesHolding(t.dataDir, M)).toEqual([]);
    const answers = {
      trail: (await t.request('GET', `/customers/${id}/trail`, { token: TOKENS.auditor })).body,
      auditExport: (await t.request('GET', `/audit/export?customerId=${id}`, { token: TOKENS.auditor })).body,
      export: (await t.request('GET', `/customers/${id}/export`, { token: TOKENS.admin })).body,
      analystEvents: (await t.request('GET', '/events', { token: TOKENS.analyst })).body,
      auditorEvents: (await t.request('GET', '/events', { token: TOKENS.auditor })).body,
      timeline: (await t.request('GET', `/customers/${id}/timeline?minPosition=${erased.body.position}`)).body,
      profile: (await t.request('GET', `/customers/${id}?minPosition=${erased.body.position}`)).body,
      complaint: (await t.request('GET', `/complaints/${complaint}?minPosition=${erased.body.position}`)).body,
    };
    expect(Object.entries(answers).filter(([, body]) => (typeof body === 'string' ? body : JSON.stringify(body)).includes(M)).map(([k]) => k)).toEqual([]);
    // What is not free text stays: codes to group by, amounts, the history itself.
    expect(answers.complaint).toMatchObject({ priority: 'P3', channel: 'email', category: '[erased]', description: '[erased]' });
    const purchase = answers.trail.events.find((e: { type: string }) => e.type === 'PurchaseRecorded');
    expect(purchase.data.lines[0]).toMatchObject({ sku: 'VERA-1', quantity: 2, description: '[erased]' });
  }, 30_000);
});

/**
 * A crash between destroying the key and recording CustomerErased: commands already answer 410, while the read models
 * still show what they had projected. Every start completes such an erasure, once.
 */
describe.each([
  ['PROJECTOR=embedded', false],
  ['PROJECTOR=thread', true],
])('an erasure interrupted by a crash is completed at the next start (%s)', (_mode, projectorThread) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ projectorThread });
  });
  afterAll(async () => {
    await t.close();
  });

  it('completes it at start (CustomerErased by the system, read models masked), and only once however often it starts', async () => {
    const M = marker();
    const registered = await t.request('POST', '/customers', { body: { id: 'interrupted', name: `Nora ${M}`, email: `nora@${M}.example`, kind: 'customer' } });
    const other = await t.request('POST', '/customers', { body: { id: 'bystander', name: 'Bystander Person', kind: 'customer' } });
    expect([registered.status, other.status]).toEqual([201, 201]);
    expect((await t.request('GET', `/customers/interrupted?minPosition=${other.body.position}`)).body.name).toBe(`Nora ${M}`);
    expect(JSON.stringify((await t.request('GET', `/customers/interrupted/timeline?minPosition=${other.body.position}`)).body)).toContain(`Nora ${M}`);

    // What the crash leaves behind: the key destroyed (as the erasure's first step does), nothing appended.
    const keys = new SqliteKeyStore(join(t.dataDir, 'keys.db'), { kek: KeyEncryptionKey.readFile(join(t.dataDir, EMBEDDED_KEK_FILE)) });
    try {
      expect(await keys.erase('interrupted', new Date('2026-11-23T10:00:00Z'))).toBe(true);
    } finally {
      await keys.close();
    }
    const erasures = async (): Promise<Array<{ type: string; metadata: unknown; position: number }>> =>
      ((await t.request('GET', '/streams/customer-interrupted/events', { token: TOKENS.auditor })).body.events as Array<{ type: string; metadata: unknown; position: number }>)
        .filter((e) => e.type === 'CustomerErased');
    expect(await erasures()).toEqual([]);
    // The timeline keeps personal fields sealed and opens them when it answers: the destroyed key erased them there
    // at once, before anything was appended or projected (the key store sees another process's erasure within 50 ms).
    const sealedTimeline = await until(async () => {
      const body = JSON.stringify((await t.request('GET', '/customers/interrupted/timeline')).body);
      return body.includes(M) ? undefined : body;
    }, 'the timeline to read as erased');
    expect(sealedTimeline).toContain('"name":"[erased]"');

    await t.restart();
    const afterFirst = await erasures();
    expect(afterFirst).toMatchObject([{ type: 'CustomerErased', metadata: { actor: { id: 'erasure-resume', role: 'system' } } }]);
    const at = afterFirst[0]!.position;
    const profile = await t.request('GET', `/customers/interrupted?minPosition=${at}`);
    expect(profile.body).toMatchObject({ name: '[erased]', email: null });
    expect((await t.request('GET', `/customers?q=${M}&minPosition=${at}`)).body.items).toEqual([]);
    expect((await t.request('GET', `/customers/interrupted/timeline?minPosition=${at}`)).body.items.map((e: { type: string }) => e.type)).toContain('CustomerErased');
    expect(filesHolding(t.dataDir, M)).toEqual([]);

    await t.restart();
    expect((await erasures()).map((e) => e.position)).toEqual([at]);
    expect((await t.request('GET', '/customers/bystander')).body.name).toBe('Bystander Person');
  }, 30_000);
});


describe('an erasure interrupted by a crash, API without a projector (PROJECTOR=off: a separate projector process)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PROJECTOR: 'off', READ_WAIT_MS: '200' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is completed at start all the same, once', async () => {
    expect((await t.request('POST', '/customers', { body: { id: 'interrupted-off', name: `Otto ${marker()}`, kind: 'customer' } })).status).toBe(201);
    const keys = new SqliteKeyStore(join(t.dataDir, 'keys.db'), { kek: KeyEncryptionKey.readFile(join(t.dataDir, EMBEDDED_KEK_FILE)) });
    try {
      await keys.erase('interrupted-off', new Date('2026-11-23T10:00:00Z'));
    } finally {
      await keys.close();
    }
    const erasures = async (): Promise<unknown[]> =>
      ((await t.request('GET', '/streams/customer-interrupted-off/events', { token: TOKENS.auditor })).body.events as Array<{ type: string; metadata: unknown }>)
        .filter((e) => e.type === 'CustomerErased').map((e) => e.metadata);
    await t.restart();
    expect(await erasures()).toMatchObject([{ actor: { id: 'erasure-resume', role: 'system' } }]);
    await t.restart();
    expect(await erasures()).toHaveLength(1);
  });
});

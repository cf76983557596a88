import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { customerProfilesProjection, loyaltyProjection, physicalCollection, CUSTOMER_PROFILES, LOYALTY, SqliteReadModelStore } from '@crm/read-models';
import { openEventStoreWithKeys, replayProjections, systemClock, loadConfig } from '@crm/runtime';
import { startTestApp, type TestApp } from '../support/test-app';

describe('replay of read models as of a past point into a separate store', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: new Date('2026-11-23T10:00:00Z') });
  });
  afterAll(async () => {
    await t.close();
  });

  it('builds the profile and loyalty read models as of a position and a time, leaving the live ones alone', async () => {
    const id = (await t.request('POST', '/customers', { body: { name: 'Before', kind: 'customer' } })).body.id as string;
    const first = (await t.request('POST', '/purchases', { body: { customerId: id, currency: 'GBP', lines: [{ sku: 'A', quantity: 1, unitPrice: '100' }] } })).body;
    t.clock.set(new Date('2026-11-23T12:00:00Z'));
    await t.request('PATCH', `/customers/${id}`, { body: { name: 'After' } });
    const second = (await t.request('POST', '/purchases', { body: { customerId: id, currency: 'GBP', lines: [{ sku: 'B', quantity: 1, unitPrice: '50' }] } })).body;

    const events = await openEventStoreWithKeys(loadConfig({ DATA_DIR: t.dataDir }), systemClock);
    const out = join(t.dataDir, '..', 'replay-position.db');
    const result = await replayProjections({ events, projections: [customerProfilesProjection, loyaltyProjection], until: first.position, out });
    expect(result.position).toBe(first.position);
    const replayed = new SqliteReadModelStore(out);
    expect((await replayed.get(physicalCollection(customerProfilesProjection, CUSTOMER_PROFILES), id))?.['name']).toBe('Before');
    expect((await replayed.get(physicalCollection(loyaltyProjection, LOYALTY), id))?.['orderCount']).toBe(1);
    await replayed.close();

    const byTime = join(t.dataDir, '..', 'replay-time.db');
    expect((await replayProjections({ events, projections: [loyaltyProjection], until: '2026-11-23T11:00:00.000Z', out: byTime })).position).toBe(first.position);
    await events.close();

    const live = await t.request('GET', `/customers/${id}?minPosition=${second.position}`);
    expect(live.body.name).toBe('After');

    const cli = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/replay/src/main.ts', '--projection', 'loyalty', '--until', String(second.position), '--out', join(t.dataDir, '..', 'replay-cli.db')], {
      cwd: join(__dirname, '..', '..'), encoding: 'utf8', env: { ...process.env, DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' },
    });
    expect(cli.status).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ projections: ['loyalty'], position: second.position });
    const fromCli = new SqliteReadModelStore(join(t.dataDir, '..', 'replay-cli.db'));
    expect((await fromCli.get(physicalCollection(loyaltyProjection, LOYALTY), id))?.['orderCount']).toBe(2);
    await fromCli.close();
    const refused = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/replay/src/main.ts', '--projection', 'nope', '--until', '1', '--out', 'x.db'], {
      cwd: join(__dirname, '..', '..'), encoding: 'utf8', env: { ...process.env, DATA_DIR: t.dataDir },
    });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('unknown projection nope');
  });
});

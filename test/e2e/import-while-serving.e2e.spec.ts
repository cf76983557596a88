import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '@crm/event-store';
import { makeTempDir } from '../support/temp-dir';
import { startTestApp, type TestApp } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');

/** A small online-retail file: `customers` customers with one two-line invoice each (no shared data needed). */
function retailCsv(file: string, customers: number): void {
  const lines = ['InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country'];
  for (let c = 0; c < customers; c++) {
    const invoice = 600000 + c;
    const day = String(1 + (c % 9)).padStart(2, '0');
    lines.push(`${invoice},85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-${day} 08:26:00,2.55,${20000 + c},United Kingdom`);
    lines.push(`${invoice},71053,WHITE METAL LANTERN,2,2010-12-${day} 08:26:00,3.39,${20000 + c},United Kingdom`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/**
 * `npm run import` while the server runs on the same DATA_DIR: two processes appending to one events.db. Each takes
 * SQLite's write lock up front and waits for the other's commit (busy timeout) instead of failing with "database is
 * locked": every command of the server succeeds, the import completes, and every event is in the log once.
 */
describe('importing while the server appends', () => {
  jest.setTimeout(120_000);
  let t: TestApp;
  const tmp = makeTempDir('crm-import-serving-');
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
    tmp.remove();
  });

  it('both succeed, interleaved, and every event is in the log exactly once', async () => {
    // One customer per writer loop: the loops do not conflict with each other on a stream revision.
    const customerIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const customer = await t.request('POST', '/customers', { body: { name: `Busy Line ${i}`, kind: 'customer' } });
      expect(customer.status).toBe(201);
      customerIds.push(customer.body.id as string);
    }
    const file = join(tmp.dir, 'retail.csv');
    retailCsv(file, 2500);

    const importer = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/importer/src/main.ts', 'online-retail', file, '--concurrency', '5', '--rejects', join(tmp.dir, 'rejects.csv')],
      {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: t.dataDir, LOG_LEVEL: 'silent', SQLITE_SYNCHRONOUS: 'NORMAL', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    importer.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    importer.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-5000)));
    const exitCode = new Promise<number | null>((resolve) => importer.once('exit', (code) => resolve(code)));
    let importerDone = false;
    void exitCode.then(() => (importerDone = true));

    // The server's own writes, four at a time (more appends per group commit), for as long as the import runs.
    const statuses = new Map<number, number>();
    const refusals: unknown[] = [];
    let n = 0;
    const loop = async (customerId: string): Promise<void> => {
      while (!importerDone) {
        n += 1;
        const res = await t.request('POST', `/customers/${customerId}/contacts`, {
          body: { channel: 'phone', direction: 'inbound', purpose: 'support', summary: `call ${n}`, outcome: 'noted' },
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status !== 201) refusals.push(res.body);
      }
    };
    await Promise.all(customerIds.map(loop));
    const code = await exitCode;
    expect({ exitCode: code, stderr: code === 0 ? '' : stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect({ statuses: [...statuses.keys()], refusals: refusals.slice(0, 3) }).toEqual({ statuses: [201], refusals: [] });
    const summaryLine = stdout.split('\n').find((l) => l.startsWith('IMPORT_SUMMARY '));
    const summary = JSON.parse(summaryLine?.slice('IMPORT_SUMMARY '.length) ?? '{}') as { eventsAppended: number; counts: Record<string, number> };
    expect(summary.eventsAppended).toBe(5000); // 2500 customers registered + 2500 purchases

    const log = new SqliteEventStore({ filename: join(t.dataDir, 'events.db'), synchronous: 'NORMAL', pollMs: 1_000_000 });
    try {
      const events = await log.readAll();
      const contacts = n; // every command answered 201
      expect(events).toHaveLength(customerIds.length + contacts + summary.eventsAppended);
      expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
      const byImporter = events.filter((e) => (e.metadata['actor'] as { id?: string } | undefined)?.id === 'importer');
      expect(byImporter).toHaveLength(summary.eventsAppended);
      expect(new Set(byImporter.map((e) => `${e.streamId}@${e.revision}`)).size).toBe(byImporter.length);
      const served = events.filter((e) => e.type === 'ContactLogged');
      expect(served).toHaveLength(contacts);
      // The two writers really overlapped: some of the server's appends landed between the importer's.
      const first = byImporter[0]?.position ?? 0;
      const last = byImporter[byImporter.length - 1]?.position ?? 0;
      expect(served.some((e) => e.position > first && e.position < last)).toBe(true);
    } finally {
      await log.close();
    }
  });
});

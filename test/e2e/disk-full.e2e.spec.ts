import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppendResult, EventStore, KeyStore } from '@crm/event-store';
import { loadConfig, ManualClock, openEventStore, openKeyStore } from '@crm/runtime';
import { createApp } from '../../apps/api/src/app.factory';
import { makeTempDir } from '../support/temp-dir';

/** What better-sqlite3 throws: an Error named SqliteError with SQLite's extended result code in `code`. */
class SqliteError extends Error {
  override readonly name = 'SqliteError';
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/**
 * A full disk, played by the stores of the real app: while `full`, creating a key throws SQLITE_FULL (what keys.db
 * gives), an append throws SQLITE_IOERR_WRITE, and readiness's probe write ENOSPC, as a full file system makes them.
 * test/faults/disk-full.spec.ts fills a real (tmpfs) disk under the built server.
 */
describe('a full disk over HTTP', () => {
  jest.setTimeout(30_000);
  const tmp = makeTempDir('crm-disk-full-');
  const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
  const TOKEN = 'agent-token-disk-full-0123';
  let full = false;
  let app: NestFastifyApplication;
  let baseUrl = '';
  let events: EventStore;

  beforeAll(async () => {
    const tokensFile = join(tmp.dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify([{ token: TOKEN, id: 'agent-ana', role: 'agent' }]));
    const config = loadConfig({ DATA_DIR: join(tmp.dir, 'data'), AUTH_TOKENS_FILE: tokensFile, LOG_LEVEL: 'silent', SQLITE_SYNCHRONOUS: 'NORMAL', PROJECTOR: 'embedded' });
    mkdirSync(config.dataDir, { recursive: true });
    const real = await openKeyStore(config);
    const keys: KeyStore = {
      keyFor: async (subject) => {
        if (full && !(await real.existingKeys([subject])).has(subject)) throw new SqliteError('database or disk is full', 'SQLITE_FULL');
        return real.keyFor(subject);
      },
      existingKeys: (subjects) => real.existingKeys(subjects),
      erase: (subject, at) => real.erase(subject, at),
      erasedSubjects: () => real.erasedSubjects(),
      close: () => real.close(),
    };
    const inner = openEventStore(config, clock, keys);
    events = {
      appendToStream: (...args: Parameters<EventStore['appendToStream']>): Promise<AppendResult> =>
        full ? Promise.reject(new SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE')) : inner.appendToStream(...args),
      readStream: (...args) => inner.readStream(...args),
      readAll: (...args) => inner.readAll(...args),
      subscribeToAll: (...args) => inner.subscribeToAll(...args),
      headPosition: () => inner.headPosition(),
      close: () => inner.close(),
    };
    const writeProbe = async (): Promise<void> => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    ({ app } = await createApp({ config, clock, eventStore: events, keyStore: keys, writeProbe, startSlaWatcher: false }));
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    if (!address || typeof address === 'string') throw new Error('no port');
    baseUrl = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await app.close();
    tmp.remove();
  });

  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const contact = { channel: 'phone', direction: 'outbound', purpose: 'sales', summary: 'called', outcome: 'interested' };

  it('answers 503 store-unavailable with Retry-After on every write path, reports it in readiness, and recovers by itself', async () => {
    const created = await request('POST', '/customers', { name: 'Before The Fill', kind: 'customer' });
    expect(created.status).toBe(201);
    const customerId = created.body['id'] as string;
    expect((await request('GET', '/health/ready')).status).toBe(200);
    const head = await events.headPosition();

    full = true;
    const failedAt = clock.now().toISOString();
    const refusals = [
      await request('POST', '/customers', { name: 'During The Fill', kind: 'customer' }), // the key store's write
      await request('POST', `/customers/${customerId}/contacts`, contact), // the event store's append
    ];
    for (const r of refusals) {
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(r.body['type']).toBe('store-unavailable');
      expect(r.text).not.toMatch(/at .*\.ts:\d+|SqliteError/);
    }
    expect(await events.headPosition()).toBe(head);

    clock.advance(60_000);
    const notReady = await request('GET', '/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(notReady.body['type']).toBe('store-unavailable');
    // Failing since the first refused write, not since this probe.
    expect(notReady.body['disk']).toEqual({ status: 'full', writesFailingSince: failedAt, detail: expect.stringMatching(/disk is full/) });

    full = false; // the space comes back: nothing restarted
    const ready = await request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body['disk']).toEqual({ status: 'ok' });
    expect((await request('POST', '/customers', { name: 'After The Fill', kind: 'customer' })).status).toBe(201);
    expect((await request('POST', `/customers/${customerId}/contacts`, contact)).status).toBe(201);
    expect(await events.headPosition()).toBe(head + 2);
  });
});

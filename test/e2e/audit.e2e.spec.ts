import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyAuditExport } from '@crm/runtime';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

describe('auditors and analysts: trail, log export, tamper-evident export', () => {
  let t: TestApp;
  let customerId = '';
  let complaintId = '';
  beforeAll(async () => {
    t = await startTestApp();
    customerId = (await t.request('POST', '/customers', { body: { name: 'Audited', kind: 'customer', ownerId: 'agent-ana' } })).body.id;
    await t.request('POST', '/customers', { body: { name: 'Someone else', kind: 'customer' } });
    complaintId = (await t.request('POST', '/complaints', { body: { customerId, channel: 'letter', category: 'billing', priority: 'P3', description: 'wrong invoice' } })).body.id;
    await t.request('POST', '/purchases', { body: { customerId, orderId: `ord-${customerId}`, currency: 'GBP', lines: [{ sku: 'S', quantity: 1, unitPrice: '5' }] } });
    t.clock.advance(60_000);
    await t.request('POST', `/customers/${customerId}/contacts`, { body: { channel: 'letter', direction: 'outbound', purpose: 'complaint', summary: 'reply', outcome: 'sent', complaintId, occurredAt: '2026-11-20T10:00:00Z' } });
    await t.request('POST', `/complaints/${complaintId}/respond`, { body: { message: 'answered' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives auditors the whole trail of a customer across its streams, in log order, with full metadata', async () => {
    const res = await t.request('GET', `/customers/${customerId}/trail`, { token: TOKENS.auditor });
    expect(res.status).toBe(200);
    const events = res.body.events as Array<Record<string, unknown>>;
    expect(events.map((e) => [e['type'], String(e['streamId']).split('-')[0]])).toEqual([
      ['CustomerRegistered', 'customer'], ['ComplaintFiled', 'complaint'], ['PurchaseRecorded', 'order'], ['ContactLogged', 'customer'], ['ComplaintResponded', 'complaint'],
    ]);
    const positions = events.map((e) => e['position'] as number);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(events[3]).toMatchObject({ occurredAt: '2026-11-20T10:00:00.000Z', recordedAt: '2026-11-23T10:01:00.000Z', actor: { id: 'agent-ana', role: 'agent' }, schemaVersion: expect.any(Number) });
    expect(events[3]?.['correlationId']).toEqual(expect.any(String));
    expect((await t.request('GET', `/customers/${customerId}/trail`)).status).toBe(403);
    expect((await t.request('GET', '/customers/nobody/trail', { token: TOKENS.auditor })).status).toBe(404);
  });

  it('streams the global log as NDJSON from a position, filtered by type, up to a position', async () => {
    const all = await t.request('GET', '/events', { token: TOKENS.analyst });
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = String(all.body).trim().split('\n').map((l) => JSON.parse(l) as { position: number; type: string });
    expect(lines.map((l) => l.position)).toEqual(lines.map((_, i) => i + 1));
    const resumed = String((await t.request('GET', '/events?fromPosition=3', { token: TOKENS.analyst })).body).trim().split('\n').map((l) => JSON.parse(l) as { position: number });
    expect(resumed.map((l) => l.position)).toEqual(lines.slice(3).map((l) => l.position));
    const filtered = String((await t.request('GET', '/events?types=ComplaintFiled,ComplaintResponded&until=6', { token: TOKENS.analyst })).body).trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(filtered.map((l) => l.type)).toEqual(['ComplaintFiled', 'ComplaintResponded']);
    expect((await t.request('GET', '/events', { token: TOKENS.agent })).status).toBe(403);
  });

  it('exports a signed, hash-chained trail that verifies, and pinpoints every kind of tampering', async () => {
    const res = await t.request('GET', `/audit/export?customerId=${customerId}`, { token: TOKENS.auditor });
    expect(res.status).toBe(200);
    const text = String(res.body);
    const publicKey = readFileSync(join(t.dataDir, 'audit-signing-key.pub.pem'), 'utf8');
    expect(verifyAuditExport(text, publicKey)).toEqual({ ok: true, events: 5, keyId: expect.any(String) });
    const lines = text.trim().split('\n');
    const modified = [...lines];
    modified[3] = modified[3]!.replace('"PurchaseRecorded"', '"PurchaseRecordeD"');
    expect(modified[3]).not.toBe(lines[3]);
    expect(verifyAuditExport(modified.join('\n'), publicKey)).toMatchObject({ ok: false, line: 4, reason: expect.stringContaining('modified') });
    const removed = lines.filter((_, i) => i !== 3);
    expect(verifyAuditExport(removed.join('\n'), publicKey)).toMatchObject({ ok: false, line: 4 });
    const reordered = [...lines];
    [reordered[2], reordered[3]] = [reordered[3]!, reordered[2]!];
    expect(verifyAuditExport(reordered.join('\n'), publicKey)).toMatchObject({ ok: false, line: 3 });
    const truncated = lines.slice(0, -1);
    expect(verifyAuditExport(truncated.join('\n'), publicKey)).toMatchObject({ ok: false, reason: expect.stringContaining('truncated') });
    const otherKey = (await import('node:crypto')).generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyAuditExport(text, otherKey)).toMatchObject({ ok: false, reason: expect.stringContaining('signature') });
    const range = await t.request('GET', '/audit/export?from=2026-11-23T10:00:30Z', { token: TOKENS.admin });
    expect(verifyAuditExport(String(range.body), publicKey)).toEqual({ ok: true, events: 2, keyId: expect.any(String) });
  });

  it('ships a verifier CLI that says OK for an intact export and names the tampered line otherwise', async () => {
    const text = String((await t.request('GET', `/audit/export?customerId=${customerId}`, { token: TOKENS.auditor })).body);
    const file = join(t.dataDir, 'export.ndjson');
    const run = (): { status: number | null; out: string } => {
      const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/audit-verify/src/main.ts', file, '--public-key', join(t.dataDir, 'audit-signing-key.pub.pem')], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' });
      return { status: r.status, out: r.stdout };
    };
    writeFileSync(file, text);
    expect(run()).toEqual({ status: 0, out: expect.stringMatching(/^OK: 5 events, chain intact/) });
    writeFileSync(file, text.replace('"answered"', '"never answered"'));
    expect(run()).toEqual({ status: 1, out: expect.stringMatching(/^TAMPERED: line 6: content does not match its hash/) });
  });
});

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { setUpTokens, TokenRegistry } from '../../apps/api/src/auth/token-registry';
import { makeTempDir } from '../support/temp-dir';
import { startTestApp } from '../support/test-app';

describe('token configuration', () => {
  it('creates the embedded admin token once, mode 600, and reuses it on the next start', () => {
    const tmp = makeTempDir();
    try {
      const first = setUpTokens({ dataDir: tmp.dir });
      expect(first.createdAdminToken).toMatch(/^[\w-]{40,}$/);
      const file = join(tmp.dir, 'admin-token');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8').trim()).toBe(first.createdAdminToken);
      expect(first.registry.lookup(first.createdAdminToken!)).toEqual({ id: 'admin', role: 'admin' });
      const second = setUpTokens({ dataDir: tmp.dir });
      expect(second.createdAdminToken).toBeUndefined();
      expect(second.registry.lookup(first.createdAdminToken!)).toEqual({ id: 'admin', role: 'admin' });
    } finally {
      tmp.remove();
    }
  });

  it('accepts entries with a SHA-256 digest instead of the token, and refuses malformed files with a clear message', () => {
    const digest = createHash('sha256').update('s3cret').digest('hex');
    const registry = TokenRegistry.fromJson(JSON.stringify([{ tokenSha256: digest, id: 'aud', role: 'auditor' }]), 'test');
    expect(registry.lookup('s3cret')).toEqual({ id: 'aud', role: 'auditor' });
    expect(registry.lookup('other')).toBeUndefined();
    expect(() => TokenRegistry.fromJson('{}', 'f.json')).toThrow('f.json: expected a JSON array');
    expect(() => TokenRegistry.fromJson('[{"token":"x","id":"a","role":"root"}]', 'f.json')).toThrow('role');
    expect(() => TokenRegistry.fromJson('[{"token":"x","id":"c","role":"customer"}]', 'f.json')).toThrow('customerId');
  });

  it('serves the app with the example tokens file shipped for docker compose', async () => {
    const t = await startTestApp({ env: { AUTH_TOKENS_FILE: join(__dirname, '../../config/tokens.example.json') } });
    try {
      const res = await t.request('POST', '/customers', { body: { name: 'x', kind: 'customer' }, token: 'dev-agent-token-change-me' });
      expect(res.status).toBe(201);
      const audit = await t.request('GET', `/streams/customer-${res.body.id}/events`, { token: 'dev-auditor-token-change-me' });
      expect(audit.status).toBe(200);
      expect((await t.request('POST', '/customers', { body: { name: 'x', kind: 'customer' }, token: 'dev-auditor-token-change-me' })).status).toBe(403);
    } finally {
      await t.close();
    }
  });
});

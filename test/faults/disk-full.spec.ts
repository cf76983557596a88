import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../support/temp-dir';
import { freePort } from '../support/free-port';

/**
 * A real full disk under the built server: DATA_DIR on a 20 MB tmpfs, filled by a file. Every write path must answer
 * 503 store-unavailable with Retry-After, readiness must say the disk is full, and once the file is deleted writes
 * must succeed again, in the same process. Needs root (mount) and `npm run build` (dist/); `npm run test:faults`.
 */
const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');
const TOKEN = 'faults-agent-token-0123456789';


async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Writes until the file system refuses (ENOSPC): big chunks first, then pages, so no byte is left. */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (error) {
          if ((error as { code?: string }).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('a real full disk (tmpfs) under the built server', () => {
  jest.setTimeout(120_000);
  const tmp = makeTempDir('crm-faults-');
  const mountPoint = join(tmp.dir, 'disk');
  let skipReason: string | undefined;
  let mounted = false;
  let server: ChildProcess | undefined;
  let stderr = '';
  let baseUrl = '';

  beforeAll(async () => {
    if (process.getuid?.() !== 0) {
      skipReason = 'not root: mounting a tmpfs needs root';
      return;
    }
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm run test:faults does)`);
    mkdirSync(mountPoint);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mountPoint], { encoding: 'utf8' });
    if (mount.status !== 0) {
      skipReason = `mount -t tmpfs is not permitted here: ${(mount.stderr || mount.error?.message || '').trim()}`;
      return;
    }
    mounted = true;
    const tokensFile = join(tmp.dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify([{ token: TOKEN, id: 'agent-ana', role: 'agent' }]));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: join(mountPoint, 'data'), PORT: String(port), HOST: '127.0.0.1', AUTH_TOKENS_FILE: tokensFile, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
    await until(async () => {
      if (server?.exitCode !== null) throw new Error(`server exited: ${stderr}`);
      return (await fetch(`${baseUrl}/health/ready`)).status === 200 ? true : undefined;
    }, 60_000, 'the server to be ready').catch((error: unknown) => {
      throw new Error(`${String(error)}; server stderr: ${stderr}`);
    });
  });

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
    if (mounted) {
      // Lazy unmount if something still holds a file open there, so the mount never outlives the test.
      if (spawnSync('umount', [mountPoint]).status !== 0) spawnSync('umount', ['-l', mountPoint]);
    }
    rmSync(tmp.dir, { recursive: true, force: true });
  });

  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  // Inbound: the contact cap counts outbound contacts only, so as many as needed are accepted.
  const contact = (n: number) => ({ channel: 'phone', direction: 'inbound', purpose: 'support', summary: `call ${n}: ${'s'.repeat(4000)}`, outcome: 'noted' });
  const expectUnavailable = (r: Awaited<ReturnType<typeof request>>): void => {
    expect({ status: r.status, type: r.body['type'] }).toEqual({ status: 503, type: 'store-unavailable' });
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  };

  it('answers 503 with Retry-After while the disk is full, says so in readiness, and writes again once space is freed', async () => {
    if (skipReason) {
      console.warn(`skipped: ${skipReason}`);
      return;
    }
    const created = await request('POST', '/customers', { name: 'Before The Fill', kind: 'customer' });
    expect(created.status).toBe(201);
    const customerId = created.body['id'] as string;
    expect((await request('POST', `/customers/${customerId}/contacts`, contact(0))).status).toBe(201);

    const filler = join(mountPoint, 'filler');
    expect(fill(filler)).toBeGreaterThan(0);

    expectUnavailable(await request('POST', '/customers', { name: 'During The Fill', kind: 'customer' }));
    expectUnavailable(await request('POST', `/customers/${customerId}/contacts`, contact(1)));
    const notReady = await request('GET', '/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(notReady.body['disk']).toMatchObject({ status: 'full', writesFailingSince: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    unlinkSync(filler);
    await until(async () => ((await fetch(`${baseUrl}/health/ready`)).status === 200 ? true : undefined), 30_000, 'readiness after the space came back');
    const after = await request('POST', '/customers', { name: 'After The Fill', kind: 'customer' });
    expect(after.status).toBe(201);
    expect((await request('POST', `/customers/${customerId}/contacts`, contact(2))).status).toBe(201);
    expect((await request('POST', `/customers/${after.body['id'] as string}/contacts`, contact(3))).status).toBe(201);
    expect(server?.exitCode).toBeNull(); // the same process: nothing was restarted
  });
});

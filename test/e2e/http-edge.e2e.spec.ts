import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/**
 * Bad input and misbehaving clients at the HTTP edge: what an outside attack test found. Each answer is a problem
 * (never a 500, never Fastify's or Node's plain JSON, never an echo of the input), and no client holds a socket
 * longer than the configured limits.
 */

interface RawExchange {
  readonly data: string;
  /** Milliseconds from connecting to the server closing the socket. */
  readonly closedAfterMs: number;
}

/** Opens a socket, lets `drive` write to it, and resolves when the server closes it, or rejects after `boundMs`. */
function exchange(baseUrl: string, drive: (socket: Socket) => void, boundMs = 5000): Promise<RawExchange> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(Number(port), '127.0.0.1', () => drive(socket));
    let data = '';
    const bound = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the socket open for ${boundMs} ms; received so far: ${data.slice(0, 200)}`));
    }, boundMs);
    socket.on('data', (chunk: Buffer) => { data += chunk.toString('latin1'); });
    socket.on('error', () => { /* a reset is a close too; `close` follows */ });
    socket.on('close', () => {
      clearTimeout(bound);
      resolve({ data, closedAfterMs: Date.now() - started });
    });
  });
}

function bodyOf(raw: string): unknown {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

const ECHO_MARKER = 'zq7echomarkerq';

describe('HTTP edge', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { BODY_LIMIT_BYTES: String(1024 * 1024) } });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('a query parameter given twice answers 400 validation-error naming it, on every GET route', () => {
    const ROUTES: Array<{ path: string; params: string[] }> = [
      { path: '/customers', params: ['q', 'externalRef', 'ownerId', 'limit', 'minPosition'] },
      { path: '/customers/c-edge', params: ['asOf', 'minPosition'] },
      { path: '/customers/c-edge/timeline', params: ['cursor', 'limit', 'types', 'asOf', 'minPosition'] },
      { path: '/customers/c-edge/loyalty', params: ['referenceDate', 'minPosition'] },
      { path: '/customers/c-edge/trail', params: ['limit'] },
      { path: '/customers/c-edge/export', params: ['format'] },
      { path: '/loyalty/top', params: ['by', 'limit', 'minPosition'] },
      { path: '/complaints', params: ['status', 'ownerId', 'breached', 'customerId', 'limit', 'offset', 'escalated', 'paused', 'minPosition'] },
      { path: '/complaints/cmp-edge', params: ['minPosition'] },
      { path: '/sla/breaches', params: ['from', 'to', 'ownerId', 'priority', 'kind', 'limit', 'minPosition'] },
      { path: '/follow-ups', params: ['dueBefore', 'ownerId', 'status', 'customerId', 'limit', 'minPosition'] },
      { path: '/analytics/sla', params: ['from', 'to', 'priorityAt', 'minPosition'] },
      { path: '/analytics/revenue', params: ['by', 'from', 'to', 'currency', 'minPosition'] },
      { path: '/analytics/cross-sell', params: ['sku', 'limit', 'minOrders', 'minPosition'] },
      { path: '/streams/customer-c-edge/events', params: ['fromRevision', 'limit'] },
      { path: '/events', params: ['fromPosition', 'types', 'until', 'limit'] },
      { path: '/audit/export', params: ['customerId', 'from', 'to'] },
      { path: '/projections', params: ['name'] },
      { path: '/health/ready', params: ['verbose'] },
    ];
    const CASES = ROUTES.flatMap(({ path, params }) => params.map((param) => ({ path, param })));

    it.each(CASES)('GET $path?$param=…&$param=…', async ({ path, param }) => {
      const res = await t.request('GET', `${path}?${param}=1&${param}=2`, { token: TOKENS.admin });
      expect({ status: res.status, contentType: res.headers.get('content-type'), type: res.body?.type, errors: res.body?.errors }).toEqual({
        status: 400,
        contentType: expect.stringMatching(/^application\/problem\+json/),
        type: 'validation-error',
        errors: [{ field: param, messages: [`${param} must be given at most once`] }],
      });
    });

    it('names every repeated parameter at once', async () => {
      const res = await t.request('GET', '/customers?q=a&q=b&ownerId=x&ownerId=y&limit=5');
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['q', 'ownerId']);
    });
  });

  describe('deeply nested JSON', () => {
    const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

    it.each([
      ['arrays', deepArray(10_000)],
      ['objects', deepObject(10_000)],
    ])('10,000 levels of %s (about 20-50 KB) answer 400 validation-error, on every command route', async (_kind, rawBody) => {
      for (const [method, path] of [['POST', '/customers'], ['PATCH', '/customers/c-edge'], ['POST', '/complaints'], ['POST', '/purchases']] as const) {
        // With an Idempotency-Key the guard hashes the body canonically: a recursive walk too.
        const withAndWithoutKey: Array<Record<string, string>> = [{}, { 'idempotency-key': `deep-${method}-${path}-${rawBody.length}` }];
        for (const headers of withAndWithoutKey) {
          const res = await t.request(method, path, { rawBody, headers });
          expect({ route: `${method} ${path}`, status: res.status, type: res.body?.type, errors: res.body?.errors }).toEqual({
            route: `${method} ${path}`, status: 400, type: 'validation-error',
            errors: [{ field: 'body', messages: ['the body must not nest objects and arrays deeper than 64 levels'] }],
          });
        }
      }
    });

    it('allows 64 levels (then the DTO decides) and refuses 65', async () => {
      const at64 = await t.request('POST', '/customers', { rawBody: deepObject(64) });
      expect(at64.status).toBe(400);
      expect(at64.body.errors.map((e: { field: string }) => e.field)).not.toContain('body');
      const at65 = await t.request('POST', '/customers', { rawBody: deepObject(65) });
      expect(at65.body.errors).toEqual([{ field: 'body', messages: ['the body must not nest objects and arrays deeper than 64 levels'] }]);
    });
  });

  describe('errors raised before the router are problems that echo nothing', () => {
    it('a path segment longer than the router accepts: 414 uri-too-long', async () => {
      const res = await t.request('GET', `/customers/${ECHO_MARKER}${'a'.repeat(300)}`);
      expect({ status: res.status, contentType: res.headers.get('content-type'), type: res.body?.type }).toEqual({
        status: 414, contentType: expect.stringMatching(/^application\/problem\+json/), type: 'uri-too-long',
      });
      expect(JSON.stringify(res.body)).not.toContain(ECHO_MARKER);
    });

    it('a badly percent-encoded path: 400 bad-request', async () => {
      const res = await t.request('GET', `/customers/${ECHO_MARKER}%E0%A4%A`);
      expect({ status: res.status, contentType: res.headers.get('content-type'), type: res.body?.type }).toEqual({
        status: 400, contentType: expect.stringMatching(/^application\/problem\+json/), type: 'bad-request',
      });
      expect(JSON.stringify(res.body)).not.toContain(ECHO_MARKER);
    });

    it('headers larger than Node accepts: 431 header-fields-too-large, written by the clientError listener', async () => {
      const { data } = await exchange(t.baseUrl, (s) => s.write(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${ECHO_MARKER}${'a'.repeat(20_000)}\r\n\r\n`));
      expect(data).toMatch(/^HTTP\/1\.1 431 /);
      expect(data).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/);
      expect(bodyOf(data)).toMatchObject({ type: 'header-fields-too-large', status: 431 });
      expect(data).not.toContain(ECHO_MARKER);
    });

    it('a URL longer than the header limit: 431, without echo', async () => {
      const { data } = await exchange(t.baseUrl, (s) => s.write(`GET /customers?q=${ECHO_MARKER}${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
      expect(data).toMatch(/^HTTP\/1\.1 431 /);
      expect(data).not.toContain(ECHO_MARKER);
    });

    it('bytes that are not HTTP: 400 bad-request problem', async () => {
      const { data } = await exchange(t.baseUrl, (s) => s.write(`${ECHO_MARKER} \x01\x02\r\n\r\n`));
      expect(data).toMatch(/^HTTP\/1\.1 400 /);
      expect(data).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/);
      expect(bodyOf(data)).toMatchObject({ type: 'bad-request', status: 400 });
      expect(data).not.toContain(ECHO_MARKER);
    });

    it('malformed JSON and an unknown route stay problems with their stable types, and echo neither path nor query', async () => {
      const bad = await t.request('POST', '/customers', { rawBody: `{"name": ${ECHO_MARKER}` });
      expect([bad.status, bad.body.type]).toEqual([400, 'malformed-json']);
      expect(JSON.stringify(bad.body)).not.toContain(ECHO_MARKER);
      const unknown = await t.request('GET', `/no-such-route-${ECHO_MARKER}?x=${ECHO_MARKER}`);
      expect([unknown.status, unknown.body.type, unknown.headers.get('content-type')]).toEqual([404, 'route-not-found', expect.stringMatching(/^application\/problem\+json/)]);
      expect(JSON.stringify(unknown.body)).not.toContain(ECHO_MARKER);
      const filtered = await t.request('GET', `/customers?limit=${ECHO_MARKER}`);
      expect([filtered.status, filtered.body.instance]).toEqual([400, '/customers']);
    });

    it('a body over BODY_LIMIT_BYTES: the client reads the 413 problem every time, not a connection reset', async () => {
      const body = Buffer.alloc(5 * 1024 * 1024, 0x61);
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) {
        try {
          const res = await fetch(`${t.baseUrl}/customers`, {
            method: 'POST', body, headers: { authorization: `Bearer ${TOKENS.agent}`, 'content-type': 'application/json' },
          });
          const problem = (await res.json()) as { type?: string };
          outcomes.push(`${res.status} ${problem.type ?? ''}`);
        } catch (error) {
          outcomes.push(`failed: ${String((error as Error & { cause?: unknown }).cause ?? error)}`);
        }
      }
      expect(outcomes).toEqual(Array.from({ length: 10 }, () => '413 payload-too-large'));
    });

    it('the same with http.request (Content-Length, 5 MB), 10 times', async () => {
      const body = Buffer.alloc(5 * 1024 * 1024, 0x61);
      const { port } = new URL(t.baseUrl);
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) {
        outcomes.push(await new Promise<string>((resolve) => {
          const req = httpRequest({
            host: '127.0.0.1', port: Number(port), method: 'POST', path: '/customers',
            headers: { authorization: `Bearer ${TOKENS.agent}`, 'content-type': 'application/json', 'content-length': body.length },
          }, (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
            res.on('end', () => resolve(`${res.statusCode} ${(JSON.parse(text) as { type?: string }).type ?? ''}`));
            res.on('error', (error) => resolve(`failed: ${error.message}`));
          });
          req.on('error', (error) => resolve(`failed: ${error.message}`));
          req.end(body);
        }));
      }
      expect(outcomes).toEqual(Array.from({ length: 10 }, () => '413 payload-too-large'));
    });

    it('a 413 is sent after the rest of the body was read, so the connection stays usable (nothing unread to reset)', async () => {
      const { port } = new URL(t.baseUrl);
      const socket = connect(Number(port), '127.0.0.1');
      const responses: string[] = [];
      let buffered = '';
      const nextResponse = (): Promise<string> => new Promise((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          buffered += chunk.toString('latin1');
          const end = buffered.indexOf('\r\n\r\n');
          const length = /\r\ncontent-length: (\d+)/i.exec(buffered.slice(0, end));
          if (end < 0 || !length) return;
          const total = end + 4 + Number(length[1]);
          if (buffered.length < total) return;
          socket.off('data', onData);
          responses.push(buffered.slice(0, total));
          buffered = buffered.slice(total);
          resolve(responses[responses.length - 1] as string);
        };
        socket.on('data', onData);
        socket.once('close', () => reject(new Error(`closed after ${responses.length} response(s): ${responses.join('\n---\n').slice(0, 400)}`)));
      });
      try {
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        const size = 2 * 1024 * 1024;
        const first = nextResponse();
        socket.write(`POST /customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.agent}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
        socket.write(Buffer.alloc(size, 0x61));
        const tooLarge = await first;
        expect(tooLarge).toMatch(/^HTTP\/1\.1 413 /);
        expect(tooLarge).not.toMatch(/\r\nconnection: close\r\n/i);
        const second = nextResponse();
        socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
        expect(await second).toMatch(/^HTTP\/1\.1 200 /);
      } finally {
        socket.destroy();
      }
    });

    it('the same for a chunked body without Content-Length', async () => {
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let n = 0; n < 80; n++) controller.enqueue(chunk);
            controller.close();
          },
        });
        try {
          const res = await fetch(`${t.baseUrl}/customers`, {
            method: 'POST', body: stream, duplex: 'half', headers: { authorization: `Bearer ${TOKENS.agent}`, 'content-type': 'application/json' },
          } as RequestInit & { duplex: 'half' });
          outcomes.push(`${res.status} ${((await res.json()) as { type?: string }).type ?? ''}`);
        } catch (error) {
          outcomes.push(`failed: ${String((error as Error & { cause?: unknown }).cause ?? error)}`);
        }
      }
      expect(outcomes).toEqual(Array.from({ length: 5 }, () => '413 payload-too-large'));
    });
  });
});

describe('HTTP edge: slow clients (short timeouts configured)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The idle timeout is far longer than the request timeouts, so a close within the bound comes from them.
    t = await startTestApp({ env: { HTTP_HEADERS_TIMEOUT_MS: '200', HTTP_REQUEST_TIMEOUT_MS: '300', HTTP_CONNECTION_TIMEOUT_MS: '20000' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const trickle = (socket: Socket, head: string, piece: string, everyMs: number): void => {
    socket.write(head);
    const timer = setInterval(() => { if (socket.writable) socket.write(piece); }, everyMs);
    socket.once('close', () => clearInterval(timer));
  };

  it('a body sent one byte at a time is cut off at the request timeout with a 408 problem', async () => {
    const head = `POST /customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`;
    const { data, closedAfterMs } = await exchange(t.baseUrl, (s) => trickle(s, head, ' ', 50));
    expect(data).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(data)).toMatchObject({ type: 'request-timeout', status: 408 });
    expect(closedAfterMs).toBeGreaterThanOrEqual(250);
  });

  it('headers sent one line at a time are cut off at the headers timeout', async () => {
    const { data } = await exchange(t.baseUrl, (s) => trickle(s, 'GET /health/live HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n', 50));
    expect(data).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(data)).toMatchObject({ type: 'request-timeout' });
  });

  it('a prompt request on the same server is unaffected', async () => {
    expect((await t.request('GET', '/health/live', { token: null })).status).toBe(200);
  });
});

describe('HTTP edge: connections per process (HTTP_MAX_CONNECTIONS) and the drain bound (HTTP_DRAIN_LIMIT_BYTES)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { HTTP_MAX_CONNECTIONS: '2', BODY_LIMIT_BYTES: '1024', HTTP_DRAIN_LIMIT_BYTES: '4096' } });
  });
  afterAll(async () => {
    await t.close();
  });

  /** A keep-alive socket that has been answered once, so the server has certainly counted it. */
  const openAnswered = (): Promise<Socket> => new Promise((resolve, reject) => {
    const { port } = new URL(t.baseUrl);
    const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.once('data', () => resolve(socket));
    socket.once('error', reject);
  });

  it('drops a connection beyond the cap and keeps serving those it holds', async () => {
    const held = [await openAnswered(), await openAnswered()];
    try {
      const third = await exchange(t.baseUrl, (s) => s.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n'));
      expect(third.data).toBe('');
      const again = await new Promise<string>((resolve) => {
        held[0]?.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
        held[0]?.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      expect(again).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const s of held) s.destroy();
    }
  });

  it('an oversized body beyond the drain bound is not read to its end: the socket closes', async () => {
    const head = `POST /customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.agent}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n`;
    const piece = Buffer.alloc(16 * 1024, 0x61);
    // The client would send 100 MB; it keeps writing until the server closes, which must happen long before.
    const { data } = await exchange(t.baseUrl, (s) => {
      s.write(head);
      const pump = (): void => { while (s.writable && s.write(piece)); if (s.writable) s.once('drain', pump); };
      pump();
    });
    // What the client still reads after the server's close is up to its TCP stack; if anything, it is the 413.
    if (data) expect(data).toMatch(/^HTTP\/1\.1 413 [^]*connection: close/i);
  });
});

import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/** Log lines the app wrote, parsed (pino writes one JSON object per line). */
function captureLog(): { lines: Array<Record<string, unknown>>; write: (chunk: string) => void } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    write: (chunk) => {
      for (const line of chunk.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request id and structured logs', () => {
  let t: TestApp;
  const log = captureLog();
  beforeAll(async () => {
    t = await startTestApp({ env: { LOG_LEVEL: 'log', READ_WAIT_MS: '20' }, logDestination: log });
  });
  afterAll(async () => {
    await t.close();
  });

  const linesOf = (reqId: string): Array<Record<string, unknown>> => log.lines.filter((l) => l['reqId'] === reqId);
  const until = async (what: () => boolean): Promise<void> => {
    // The access log is written when the response has been sent, which may be just after the client has it.
    for (let deadline = Date.now() + 2000; !what(); ) {
      if (Date.now() > deadline) throw new Error('log line not written within 2 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it('echoes a safe X-Request-Id and logs the request under it, without the query string', async () => {
    const given = 'lb-7f3a9c:req-QZ81.x@edge_1';
    const res = await t.request('GET', '/customers?q=Zebediah-Quist-Marker', { headers: { 'x-request-id': given } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(given);
    await until(() => linesOf(given).length > 0);
    const [line] = linesOf(given);
    expect(line).toMatchObject({
      level: 'info', msg: 'request completed', reqId: given, method: 'GET', route: '/customers', path: '/customers', status: 200, actor: 'agent-ana',
    });
    expect(typeof line?.['durationMs']).toBe('number');
    expect(typeof line?.['time']).toBe('string');
    expect(line?.['pid']).toBe(process.pid);
    expect(JSON.stringify(log.lines)).not.toContain('Zebediah-Quist-Marker');
  });

  it('generates a request id when none is given, a new one per request, on commands too', async () => {
    const first = await t.request('POST', '/customers', { body: { name: 'Idless', kind: 'customer' } });
    const second = await t.request('GET', '/complaints');
    expect(first.status).toBe(201);
    const ids = [first.headers.get('x-request-id'), second.headers.get('x-request-id')];
    for (const id of ids) expect(id).toMatch(UUID);
    expect(ids[0]).not.toBe(ids[1]);
    await until(() => linesOf(ids[0] ?? '').length > 0);
    expect(linesOf(ids[0] ?? '')[0]).toMatchObject({ method: 'POST', route: '/customers', status: 201 });
  });

  it.each([
    ['too long', 'r'.repeat(129)],
    ['markup', '<script>alert(1)</script>'],
    ['spaces and quotes', 'a "b" c'],
  ])('replaces an unsafe X-Request-Id (%s) with a generated one', async (_what, unsafe) => {
    const res = await t.request('GET', '/complaints', { headers: { 'x-request-id': unsafe } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    expect(JSON.stringify(log.lines)).not.toContain(unsafe);
  });

  it('echoes the request id on problems: unauthenticated, invalid, unknown route, refused by the router', async () => {
    const answers = await Promise.all([
      t.request('GET', '/complaints', { token: null, headers: { 'x-request-id': 'prob-401-k2' } }),
      t.request('POST', '/customers', { body: { kind: 'nobody' }, headers: { 'x-request-id': 'prob-400-k2' } }),
      t.request('GET', '/no-such-route-here', { headers: { 'x-request-id': 'prob-404-k2' } }),
      t.request('GET', `/customers/${'x'.repeat(200)}`, { headers: { 'x-request-id': 'prob-414-k2' } }),
    ]);
    expect(answers.map((a) => [a.status, a.headers.get('content-type'), a.headers.get('x-request-id')])).toEqual([
      [401, expect.stringContaining('application/problem+json'), 'prob-401-k2'],
      [400, expect.stringContaining('application/problem+json'), 'prob-400-k2'],
      [404, expect.stringContaining('application/problem+json'), 'prob-404-k2'],
      [expect.any(Number), expect.stringContaining('application/problem+json'), 'prob-414-k2'],
    ]);
  });

  it('echoes the replay\'s own request id, not the first attempt\'s, when an Idempotency-Key is replayed', async () => {
    const body = { name: 'Twice', kind: 'customer' };
    const first = await t.request('POST', '/customers', { body, headers: { 'idempotency-key': 'idem-req-id-3q', 'x-request-id': 'first-try-3q' } });
    const replay = await t.request('POST', '/customers', { body, headers: { 'idempotency-key': 'idem-req-id-3q', 'x-request-id': 'second-try-3q' } });
    expect([first.status, replay.status]).toEqual([201, 201]);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect([first.headers.get('x-request-id'), replay.headers.get('x-request-id')]).toEqual(['first-try-3q', 'second-try-3q']);
  });

  it('puts the request id on the error line of a failed request', async () => {
    const res = await t.request('GET', '/complaints?minPosition=987654321', { headers: { 'x-request-id': 'slow-read-5v' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-request-id')).toBe('slow-read-5v');
    await until(() => linesOf('slow-read-5v').length >= 2);
    expect(linesOf('slow-read-5v')).toEqual(expect.arrayContaining([
      expect.objectContaining({ level: 'error', msg: 'request failed', context: 'http', status: 503, path: '/complaints' }),
      expect.objectContaining({ level: 'info', msg: 'request completed', status: 503 }),
    ]));
  });

  it('keeps Nest\'s own lines as JSON on the same logger', () => {
    expect(log.lines.some((l) => l['context'] === 'NestApplication' && l['level'] === 'info')).toBe(true);
  });
});

describe('LOG_LEVEL', () => {
  it.each([['silent', 0], ['warn', 0]])('%s writes no access log lines', async (level, expected) => {
    const log = captureLog();
    const t = await startTestApp({ env: { LOG_LEVEL: level }, logDestination: log });
    try {
      const res = await t.request('GET', '/complaints', { token: TOKENS.admin });
      expect(res.headers.get('x-request-id')).toMatch(UUID);
      expect(log.lines.filter((l) => l['msg'] === 'request completed')).toHaveLength(expected);
      if (level === 'silent') expect(log.lines).toHaveLength(0);
    } finally {
      await t.close();
    }
  });
});

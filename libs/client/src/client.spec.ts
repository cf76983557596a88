import { createCrmClient, etag, ok, ProblemError, readModelPosition } from './client';

/** A fetch that records each request and answers with the next canned response. */
function fakeFetch(...answers: Array<() => Response>): { fetch: typeof globalThis.fetch; requests: Request[] } {
  const requests: Request[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    requests.push(request);
    const answer = answers.shift();
    if (!answer) throw new Error('no canned answer left');
    return answer();
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

const created = (): Response => new Response(JSON.stringify({ id: 'c-1', streamRevision: 0, position: 7 }), {
  status: 201, headers: { 'content-type': 'application/json', etag: '"0"', location: '/customers/c-1' },
});
const body = { name: 'Zoë', kind: 'customer' } as const;

describe('createCrmClient', () => {
  it('sends the bearer token to the base URL, asking a token function on every request', async () => {
    let token = 'first-token-7f3a';
    const { fetch, requests } = fakeFetch(created, created);
    const crm = createCrmClient({ baseUrl: 'http://crm.test:8080', token: () => token, fetch });
    await crm.POST('/customers', { body });
    token = 'second-token-9c1e';
    await crm.POST('/customers', { body });
    expect(requests.map((r) => [r.url, r.headers.get('authorization')])).toEqual([
      ['http://crm.test:8080/customers', 'Bearer first-token-7f3a'],
      ['http://crm.test:8080/customers', 'Bearer second-token-9c1e'],
    ]);
  });

  it('gives every command its own Idempotency-Key, and queries none', async () => {
    const keys = ['key-one-41d2', 'key-two-8e07'];
    const { fetch, requests } = fakeFetch(created, created, () => Response.json({ items: [], asOfPosition: 7 }));
    const crm = createCrmClient({ baseUrl: 'http://crm.test', fetch, newIdempotencyKey: () => keys.shift() ?? 'none' });
    await crm.POST('/customers', { body });
    await crm.POST('/customers/{id}/convert', { params: { path: { id: 'c-1' } } });
    await crm.GET('/customers', { params: { query: { q: 'zoe' } } });
    expect(requests.map((r) => `${r.method} ${r.headers.get('idempotency-key')}`)).toEqual(['POST key-one-41d2', 'POST key-two-8e07', 'GET null']);
  });

  it('keeps an Idempotency-Key the caller gives (a safe retry) and sends If-Match when given', async () => {
    const { fetch, requests } = fakeFetch(created);
    const crm = createCrmClient({ baseUrl: 'http://crm.test', fetch, newIdempotencyKey: () => 'generated-must-not-be-used' });
    await crm.PUT('/customers/{id}/owner', {
      params: { path: { id: 'c-1' }, header: { 'Idempotency-Key': 'retry-key-5b9d', 'If-Match': etag(3) } },
      body: { ownerId: 'agent-bob', reason: 'holiday cover' },
    });
    expect(requests[0]?.headers.get('idempotency-key')).toBe('retry-key-5b9d');
    expect(requests[0]?.headers.get('if-match')).toBe('"3"');
    expect(requests[0]?.url).toBe('http://crm.test/customers/c-1/owner');
  });

  it('throws a problem+json answer as a typed ProblemError with its extensions', async () => {
    const { fetch } = fakeFetch(() => new Response(JSON.stringify({
      type: 'precondition-failed', title: 'The resource has changed', status: 412, detail: 'stream is at revision 4', currentRevision: 4,
    }), { status: 412, headers: { 'content-type': 'application/problem+json' } }));
    const crm = createCrmClient({ baseUrl: 'http://crm.test', fetch });
    const error = await crm.POST('/customers/{id}/convert', { params: { path: { id: 'c-1' }, header: { 'If-Match': etag(3) } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    const problem = error as ProblemError;
    expect([problem.type, problem.title, problem.status, problem.detail]).toEqual(['precondition-failed', 'The resource has changed', 412, 'stream is at revision 4']);
    expect(problem.extensions).toEqual({ currentRevision: 4 });
    expect(problem.retryAfterSeconds).toBeUndefined();
  });

  it('keeps validation errors and Retry-After', async () => {
    const { fetch } = fakeFetch(
      () => new Response(JSON.stringify({ type: 'validation-error', title: 'The request is not valid', status: 400, detail: '1 field(s) are not valid', errors: [{ field: 'name', messages: ['name should not be empty'] }] }), { status: 400, headers: { 'content-type': 'application/problem+json' } }),
      () => new Response(JSON.stringify({ type: 'read-model-behind', title: 'The read model has not caught up yet', status: 503, detail: 'x', minPosition: 9, position: 7 }), { status: 503, headers: { 'content-type': 'application/problem+json', 'retry-after': '1' } }),
    );
    const crm = createCrmClient({ baseUrl: 'http://crm.test', fetch });
    const invalid = (await crm.POST('/customers', { body: { name: '', kind: 'customer' } }).catch((e: unknown) => e)) as ProblemError;
    expect(invalid.errors).toEqual([{ field: 'name', messages: ['name should not be empty'] }]);
    const behind = (await crm.GET('/customers/{id}', { params: { path: { id: 'c-1' }, query: { minPosition: 9 } } }).catch((e: unknown) => e)) as ProblemError;
    expect([behind.type, behind.retryAfterSeconds, behind.extensions]).toEqual(['read-model-behind', 1, { minPosition: 9, position: 7 }]);
  });

  it('describes a failure that is not a problem document as about:blank', async () => {
    const { fetch } = fakeFetch(() => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' } }));
    const crm = createCrmClient({ baseUrl: 'http://crm.test', fetch });
    const error = (await crm.GET('/health/live').catch((e: unknown) => e)) as ProblemError;
    expect([error.type, error.status, error.title]).toEqual(['about:blank', 502, 'Bad Gateway']);
  });

  it('ok() gives the typed body; readModelPosition() the position it reflects', async () => {
    const answer = (): Response => Response.json({ items: [], asOfPosition: 42 }, { headers: { 'x-read-model-position': '42' } });
    const { fetch } = fakeFetch(answer, answer);
    const crm = createCrmClient({ baseUrl: 'http://crm.test', fetch });
    const { response } = await crm.GET('/customers', { params: { query: { q: 'zoe', minPosition: 42 } } });
    expect(readModelPosition(response)).toBe(42);
    const found = await ok(crm.GET('/customers', { params: { query: { q: 'zoe' } } }));
    expect(found.asOfPosition).toBe(42);
  });
});

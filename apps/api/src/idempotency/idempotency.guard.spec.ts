import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StoreUnavailable } from '@crm/event-store';
import { ApiProblem } from '../http/problem';
import type { IdempotencyStore, Reservation, StoredResponse } from './idempotency-store';
import { IdempotencyGuard, IdempotentReplay, releaseUnansweredIdempotencyKey, rememberIdempotentResponse, reservedKeyOf } from './idempotency.guard';

const NOW = new Date('2026-03-01T09:00:00.000Z');
const RESERVED: Reservation = { kind: 'reserved', requestId: 'req-1', recovered: false };

/** Records what the guard asks of the store; `reserve` answers what the test says. */
class FakeStore implements IdempotencyStore {
  readonly calls: string[] = [];
  readonly hashes: string[] = [];
  completed: StoredResponse | undefined;
  constructor(private readonly answer: Reservation) {}
  async reserve(scope: string, requestHash: string): Promise<Reservation> {
    this.calls.push(`reserve ${scope}`);
    this.hashes.push(requestHash);
    return this.answer;
  }
  async complete(scope: string, _hash: string, response: StoredResponse): Promise<void> {
    this.calls.push(`complete ${scope}`);
    this.completed = response;
  }
  async release(scope: string): Promise<void> {
    this.calls.push(`release ${scope}`);
  }
  async close(): Promise<void> {}
}

function request(headers: Record<string, string>, method = 'POST'): FastifyRequest {
  return { method, url: '/customers', headers, body: { name: 'Ada', kind: 'customer' }, principal: { id: 'agent-1', role: 'agent' } } as unknown as FastifyRequest;
}

const contextOf = (req: FastifyRequest): ExecutionContext =>
  ({ switchToHttp: () => ({ getRequest: () => req }) }) as unknown as ExecutionContext;

function guard(answer: Reservation): { guard: IdempotencyGuard; store: FakeStore } {
  const store = new FakeStore(answer);
  return { guard: new IdempotencyGuard(store, { now: () => NOW }), store };
}

/** Runs the onSend hook as Fastify would, for a reply with this status and these headers; resolves when it is done. */
function send(req: FastifyRequest, status: number, headers: Record<string, string>, payload: string): Promise<unknown> {
  const reply = { statusCode: status, getHeaders: () => headers } as unknown as FastifyReply;
  return new Promise((resolve) => rememberIdempotentResponse(req, reply, payload, (_e, p) => resolve(p)));
}

/** What `canActivate` threw or rejected with. */
async function refusal(attempt: () => boolean | Promise<boolean>): Promise<unknown> {
  try {
    await attempt();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

describe('IdempotencyGuard', () => {
  it('lets requests without a key, and requests other than POST, through without touching the store', () => {
    const { guard: g, store } = guard(RESERVED);
    expect(g.canActivate(contextOf(request({})))).toBe(true);
    expect(g.canActivate(contextOf(request({ 'idempotency-key': 'k' }, 'PUT')))).toBe(true);
    expect(store.calls).toEqual([]);
  });

  it('refuses an empty or over-long key with a 400 problem', () => {
    const { guard: g } = guard(RESERVED);
    for (const key of ['', 'k'.repeat(256)]) {
      expect(() => g.canActivate(contextOf(request({ 'idempotency-key': key })))).toThrow(expect.objectContaining({ status: 400, type: 'bad-request' }) as unknown as Error);
    }
  });

  it('answers 409 while the first request with the key is still running', async () => {
    const { guard: g } = guard({ kind: 'in-progress' });
    const thrown = await refusal(() => g.canActivate(contextOf(request({ 'idempotency-key': 'k' }))));
    expect(thrown).toBeInstanceOf(ApiProblem);
    expect(thrown).toMatchObject({ status: 409, type: 'idempotency-key-in-progress' });
  });

  it('replays a completed request with the same body, and refuses another body with 422', async () => {
    const response: StoredResponse = { status: 201, headers: { etag: '"0"' }, body: { id: 'c-1' } };
    const first = guard(RESERVED);
    await first.guard.canActivate(contextOf(request({ 'idempotency-key': 'k' })));
    const requestHash = first.store.hashes[0]!;
    expect(requestHash).toMatch(/^[0-9a-f]{64}$/);

    const replaying = guard({ kind: 'completed', requestHash, response });
    const replay = await refusal(() => replaying.guard.canActivate(contextOf(request({ 'idempotency-key': 'k' }))));
    expect(replay).toBeInstanceOf(IdempotentReplay);
    expect((replay as IdempotentReplay).response).toBe(response);
    const reused = guard({ kind: 'completed', requestHash: 'another', response });
    expect(await refusal(() => reused.guard.canActivate(contextOf(request({ 'idempotency-key': 'k' }))))).toMatchObject({ status: 422, type: 'idempotency-key-reused' });
  });

  it('remembers the response a reserved request got (status, the headers that matter, the parsed JSON body)', async () => {
    const { guard: g, store } = guard(RESERVED);
    const req = request({ 'idempotency-key': 'k' });
    await g.canActivate(contextOf(req));

    const payload = await send(req, 201, { 'content-type': 'application/json; charset=utf-8', etag: '"0"', location: '/customers/c-1', 'server-timing': 'app;dur=1.00' }, '{"id":"c-1"}');

    expect(payload).toBe('{"id":"c-1"}');
    expect(store.calls).toEqual(['reserve agent-1\nk', 'complete agent-1\nk']);
    expect(store.completed).toEqual({
      status: 201,
      headers: { 'content-type': 'application/json; charset=utf-8', etag: '"0"', location: '/customers/c-1' },
      body: { id: 'c-1' },
    });
    await send(req, 201, {}, '{}');
    expect(store.calls).toHaveLength(2);
  });

  it('holds the answer until its outcome is recorded, so a retry right after it (any replica) is a replay', async () => {
    let recorded!: () => void;
    class SlowStore extends FakeStore {
      override async complete(scope: string, hash: string, response: StoredResponse): Promise<void> {
        await new Promise<void>((resolve) => (recorded = resolve));
        await super.complete(scope, hash, response);
      }
    }
    const store = new SlowStore(RESERVED);
    const req = request({ 'idempotency-key': 'k' });
    await new IdempotencyGuard(store, { now: () => NOW }).canActivate(contextOf(req));

    let passed = false;
    const sent = send(req, 201, { 'content-type': 'application/json' }, '{"id":"c-1"}').then(() => (passed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(passed).toBe(false);
    recorded();
    await sent;
    expect(store.completed).toMatchObject({ status: 201, body: { id: 'c-1' } });
  });

  it('forgets the key of a request that failed with 5xx, so the client may retry it', async () => {
    const { guard: g, store } = guard(RESERVED);
    const req = request({ 'idempotency-key': 'k' });
    await g.canActivate(contextOf(req));

    await send(req, 503, { 'content-type': 'application/problem+json' }, '{"type":"store-unavailable"}');

    expect(store.calls).toEqual(['reserve agent-1\nk', 'release agent-1\nk']);
    expect(store.completed).toBeUndefined();
  });

  it('tells the command path the hashed key, the request id and whether an earlier attempt may have appended', async () => {
    const req = request({ 'idempotency-key': 'raw-key-4711' });
    await guard({ kind: 'reserved', requestId: 'req-first', recovered: true }).guard.canActivate(contextOf(req));

    const reserved = reservedKeyOf(req);
    expect(reserved).toEqual({ key: expect.stringMatching(/^[0-9a-f]{32}$/), requestId: 'req-first', recovered: true });
    expect(reserved?.key).not.toContain('raw-key-4711');
    const other = request({ 'idempotency-key': 'raw-key-4711' });
    (other as unknown as { principal: { id: string } }).principal.id = 'agent-2';
    await guard(RESERVED).guard.canActivate(contextOf(other));
    expect(reservedKeyOf(other)?.key).not.toBe(reserved?.key);
  });

  it('refuses with 422 a key held by an unfinished request with another body', async () => {
    expect(await refusal(() => guard({ kind: 'reused' }).guard.canActivate(contextOf(request({ 'idempotency-key': 'k' })))))
      .toMatchObject({ status: 422, type: 'idempotency-key-reused' });
  });

  it('releases a reservation whose request ended without passing onSend (the onResponse backstop)', async () => {
    const { guard: g, store } = guard(RESERVED);
    const req = request({ 'idempotency-key': 'k' });
    await g.canActivate(contextOf(req));

    let done = false;
    releaseUnansweredIdempotencyKey(req, {} as FastifyReply, () => (done = true));
    releaseUnansweredIdempotencyKey(req, {} as FastifyReply, () => undefined);

    expect(done).toBe(true);
    expect(store.calls).toEqual(['reserve agent-1\nk', 'release agent-1\nk']);
  });
});

/** An error as better-sqlite3 throws it (SqliteError with an SQLite result code), e.g. when the disk is full. */
class SqliteError extends Error {
  override readonly name = 'SqliteError';
  constructor(readonly code: string) {
    super(`sqlite failed: ${code}`);
  }
}

describe('IdempotencyGuard when the idempotency store fails', () => {
  beforeAll(() => Logger.overrideLogger(false)); // the failures are logged on purpose
  afterAll(() => Logger.overrideLogger(['error']));
  /** Fails in the methods named; records releases. */
  class FailingStore extends FakeStore {
    constructor(
      private readonly failing: ReadonlySet<'reserve' | 'complete' | 'release'>,
      private readonly code = 'SQLITE_FULL',
    ) {
      super(RESERVED);
    }
    override async reserve(scope: string, requestHash: string): Promise<Reservation> {
      if (this.failing.has('reserve')) throw this.error();
      return super.reserve(scope, requestHash);
    }
    override async complete(scope: string, hash: string, response: StoredResponse): Promise<void> {
      this.calls.push(`complete ${scope}`);
      if (this.failing.has('complete')) throw this.error();
      await super.complete(scope, hash, response);
      this.calls.pop();
    }
    override async release(scope: string): Promise<void> {
      await super.release(scope);
      if (this.failing.has('release')) throw this.error();
    }
    private error(): Error {
      return this.code === 'StoreUnavailable' ? new StoreUnavailable('idempotency store unavailable: connection reset') : new SqliteError(this.code);
    }
  }

  // StoreUnavailable: what the MongoDB store makes of a network error, a timeout or a primary that stepped down.
  for (const code of ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_BUSY', 'StoreUnavailable']) {
    it(`answers 503 store-unavailable with Retry-After when reserving fails with ${code}`, async () => {
      const store = new FailingStore(new Set(['reserve']), code);
      const thrown = await refusal(() => new IdempotencyGuard(store, { now: () => NOW }).canActivate(contextOf(request({ 'idempotency-key': 'k' }))));
      expect(thrown).toBeInstanceOf(ApiProblem);
      expect(thrown).toMatchObject({ status: 503, type: 'store-unavailable', headers: { 'Retry-After': '5' } });
    });
  }

  it('lets the answer through and leaves no reservation in progress when recording the outcome fails', async () => {
    const store = new FailingStore(new Set(['complete']));
    const req = request({ 'idempotency-key': 'k' });
    await new IdempotencyGuard(store, { now: () => NOW }).canActivate(contextOf(req));

    const payload = await send(req, 201, { 'content-type': 'application/json' }, '{"id":"c-1"}');

    expect(payload).toBe('{"id":"c-1"}');
    expect(store.calls).toEqual(['reserve agent-1\nk', 'complete agent-1\nk', 'release agent-1\nk']);
  });

  it('still answers when releasing after a 5xx fails too', async () => {
    const store = new FailingStore(new Set(['release']));
    const req = request({ 'idempotency-key': 'k' });
    await new IdempotencyGuard(store, { now: () => NOW }).canActivate(contextOf(req));

    expect(await send(req, 503, { 'content-type': 'application/problem+json' }, '{"type":"store-unavailable"}')).toBe('{"type":"store-unavailable"}');
    expect(store.calls).toEqual(['reserve agent-1\nk', 'release agent-1\nk']);
  });
});

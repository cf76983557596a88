import { randomUUID } from 'node:crypto';
import { type IdempotencyStore, type StoredResponse } from '../../apps/api/src/idempotency/idempotency-store';

export interface IdempotencyStoreHarness {
  /**
   * A store as one API process opens it. MongoDB: each call is another replica, running beside the others. SQLite:
   * the file belongs to one process at a time, so a later call is the next boot on the same file.
   */
  open(options: { leaseMs: number; retentionMs: number }): Promise<IdempotencyStore>;
  /** Whether stores opened side by side are replicas sharing the records (MongoDB), not successive boots (SQLite). */
  readonly replicas: boolean;
  dispose(): Promise<void>;
}

const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const LEASE_MS = 30_000;
const RETENTION_MS = 24 * 60 * 60 * 1000;
const RESPONSE: StoredResponse = { status: 201, headers: { etag: '"0"', location: '/customers/first-id' }, body: { id: 'first-id', note: { 'a.b': 1, $x: 2 } } };

/**
 * The one contract every idempotency store passes (SQLite; MongoDB through the real driver against the wire double,
 * and a real server when MONGODB_URI is set). Times are injected: `nowMs` is the caller's clock.
 */
export function describeIdempotencyStoreContract(name: string, makeHarness: () => Promise<IdempotencyStoreHarness>): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let harness: IdempotencyStoreHarness;
    const opened: IdempotencyStore[] = [];
    beforeEach(async () => {
      harness = await makeHarness();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await harness.dispose();
    });
    const open = async (leaseMs = LEASE_MS): Promise<IdempotencyStore> => {
      const store = await harness.open({ leaseMs, retentionMs: RETENTION_MS });
      opened.push(store);
      return store;
    };
    /** A scope no other test uses: the principal and the raw key, as the guard builds it. */
    const scope = (): string => `agent-1\nkey-${randomUUID()}`;

    it('reserves a new key with the request id it is given; a second request meanwhile is told it is in progress', async () => {
      const store = await open();
      const s = scope();

      expect(await store.reserve(s, 'h', T0, 'req-1')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: false });
      expect(await store.reserve(s, 'h', T0 + 1, 'req-2')).toEqual({ kind: 'in-progress' });
      expect(await store.reserve(s, 'other', T0 + 2, 'req-3')).toEqual({ kind: 'in-progress' });
    });

    it('replays a completed key with its request hash and response, to this process and to the next one', async () => {
      const store = await open();
      const s = scope();
      await store.reserve(s, 'h', T0, 'req-1');
      await store.complete(s, 'h', RESPONSE, T0 + 5);

      expect(await store.reserve(s, 'h', T0 + 10, 'req-2')).toEqual({ kind: 'completed', requestHash: 'h', response: RESPONSE });
      expect(await store.reserve(s, 'other-body', T0 + 11, 'req-3')).toEqual({ kind: 'completed', requestHash: 'h', response: RESPONSE });
      expect(await (await open()).reserve(s, 'h', T0 + 12, 'req-4')).toEqual({ kind: 'completed', requestHash: 'h', response: RESPONSE });
    });

    it('keeps keys of different scopes apart', async () => {
      const store = await open();
      const key = `key-${randomUUID()}`;
      await store.reserve(`agent-1\n${key}`, 'h', T0, 'req-1');

      expect(await store.reserve(`agent-2\n${key}`, 'h', T0 + 1, 'req-2')).toEqual({ kind: 'reserved', requestId: 'req-2', recovered: false });
    });

    it('recovers, with the first request id, a key whose owner died once its lease is over; then it runs again', async () => {
      const s = scope();
      const dying = await open();
      await dying.reserve(s, 'h', T0, 'req-1');
      // The owner dies: no complete, no release. Another process (a replica, or the next boot) sees the key later.

      const survivor = await open();

      expect(await survivor.reserve(s, 'h', T0 + LEASE_MS, 'req-2')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
      expect(await survivor.reserve(s, 'h', T0 + LEASE_MS + 1, 'req-3')).toEqual({ kind: 'in-progress' });
      await survivor.complete(s, 'h', RESPONSE, T0 + LEASE_MS + 2);
      expect(await survivor.reserve(s, 'h', T0 + LEASE_MS + 3, 'req-4')).toEqual({ kind: 'completed', requestHash: 'h', response: RESPONSE });
    });

    it('keeps a recoverable key bound to its request: another body is refused, as with a completed one', async () => {
      const s = scope();
      await (await open()).reserve(s, 'h', T0, 'req-1');

      expect(await (await open()).reserve(s, 'other', T0 + LEASE_MS, 'req-2')).toEqual({ kind: 'reused' });
    });

    it('takes over a request of this process that never ended once its lease is over (a backstop)', async () => {
      const store = await open(1_000);
      const s = scope();
      await store.reserve(s, 'h', T0, 'req-1');

      expect(await store.reserve(s, 'h', T0 + 999, 'req-2')).toEqual({ kind: 'in-progress' });
      expect(await store.reserve(s, 'h', T0 + 1_000, 'req-3')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
    });

    it('recovers at once a key its owner released (a 5xx may follow a committed append), never starting afresh', async () => {
      const store = await open();
      const s = scope();
      await store.reserve(s, 'h', T0, 'req-1');
      await store.release(s);

      expect(await store.reserve(s, 'h', T0 + 1, 'req-2')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
    });

    it('no longer counts a request as running once recording its outcome failed: the next attempt recovers it', async () => {
      const store = await open();
      const s = scope();
      await store.reserve(s, 'h', T0, 'req-1');
      const circular: Record<string, unknown> = {};
      circular['self'] = circular;

      await expect(store.complete(s, 'h', { status: 201, headers: {}, body: circular }, T0 + 1)).rejects.toThrow();
      expect(await store.reserve(s, 'h', T0 + 2, 'req-2')).toEqual({ kind: 'reserved', requestId: 'req-1', recovered: true });
    });

    it('lets exactly one of two concurrent first requests with one key run', async () => {
      const s = scope();
      const [a, b] = harness.replicas ? [await open(), await open()] : [await open(), undefined];
      const replicaB = b ?? a;

      const answers = await Promise.all([
        a.reserve(s, 'h', T0, 'req-a'), replicaB.reserve(s, 'h', T0, 'req-b'),
        a.reserve(s, 'h', T0, 'req-c'), replicaB.reserve(s, 'h', T0, 'req-d'),
      ]);

      expect(answers.filter((r) => r.kind === 'reserved')).toHaveLength(1);
      expect(answers.filter((r) => r.kind === 'in-progress')).toHaveLength(3);
    });

    it('forgets a key once its retention is over: the same key is new again, completed or left pending', async () => {
      const store = await open();
      const done = scope();
      const pending = scope();
      await store.reserve(done, 'h', T0, 'req-1');
      await store.complete(done, 'h', RESPONSE, T0 + 10);
      await store.reserve(pending, 'h', T0, 'req-2');

      expect(await store.reserve(done, 'h', T0 + 10 + RETENTION_MS - 1, 'req-3')).toMatchObject({ kind: 'completed' });
      expect(await store.reserve(done, 'other', T0 + 10 + RETENTION_MS, 'req-4')).toEqual({ kind: 'reserved', requestId: 'req-4', recovered: false });
      expect(await store.reserve(pending, 'other', T0 + RETENTION_MS, 'req-5')).toEqual({ kind: 'reserved', requestId: 'req-5', recovered: false });
    });
  });
}

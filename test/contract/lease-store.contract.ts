import { randomUUID } from 'node:crypto';
import type { LeaseStore } from '@crm/read-models';

/** The one contract every LeaseStore passes unchanged (SQLite; MongoDB through the real driver against the double). */
export function describeLeaseStoreContract(
  name: string,
  makeStore: () => Promise<{ store: LeaseStore; dispose: () => Promise<void> }>,
): void {
  describe(`LeaseStore contract: ${name}`, () => {
    let store: LeaseStore;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ store, dispose } = await makeStore());
    });
    afterEach(async () => {
      await dispose();
    });

    const lease = (): string => `lease-${randomUUID()}`;
    const T0 = 1_800_000_000_000;

    it('acquires a free lease with token 1 and refuses it to another replica while it runs', async () => {
      const n = lease();
      expect(await store.acquire(n, 'replica-a', T0, 15_000)).toEqual({ name: n, holder: 'replica-a', token: 1, expiresAt: T0 + 15_000 });
      expect(await store.acquire(n, 'replica-b', T0 + 14_999, 15_000)).toBeNull();
      expect(await store.list()).toEqual(expect.arrayContaining([{ name: n, holder: 'replica-a', token: 1, expiresAt: T0 + 15_000 }]));
    });

    it('renews the holder\'s lease (same token), and acquiring one\'s own running lease renews it', async () => {
      const n = lease();
      const first = await store.acquire(n, 'replica-a', T0, 15_000);
      const renewed = await store.renew(first!, T0 + 5_000, 15_000);
      expect(renewed).toEqual({ name: n, holder: 'replica-a', token: 1, expiresAt: T0 + 20_000 });
      expect(await store.acquire(n, 'replica-a', T0 + 6_000, 15_000)).toEqual({ name: n, holder: 'replica-a', token: 1, expiresAt: T0 + 21_000 });
      expect(await store.acquire(n, 'replica-b', T0 + 20_500, 15_000)).toBeNull();
    });

    it('lets another replica take an expired lease over with the next token; the stale holder\'s renew then fails', async () => {
      const n = lease();
      const old = await store.acquire(n, 'replica-a', T0, 15_000);
      const taken = await store.acquire(n, 'replica-b', T0 + 15_000, 15_000);
      expect(taken).toEqual({ name: n, holder: 'replica-b', token: 2, expiresAt: T0 + 30_000 });
      // The old holder, paused past its lease, wakes up: its renew (even with its own stale clock) is refused.
      expect(await store.renew(old!, T0 + 10_000, 15_000)).toBeNull();
      expect(await store.acquire(n, 'replica-a', T0 + 16_000, 15_000)).toBeNull();
      // A third takeover keeps counting.
      expect((await store.acquire(n, 'replica-a', T0 + 30_000, 15_000))?.token).toBe(3);
    });

    it('does not renew an expired lease, even if nobody took it: re-acquiring it takes a new token', async () => {
      const n = lease();
      const old = await store.acquire(n, 'replica-a', T0, 15_000);
      expect(await store.renew(old!, T0 + 15_000, 15_000)).toBeNull();
      expect((await store.acquire(n, 'replica-a', T0 + 15_000, 15_000))?.token).toBe(2);
    });

    it('releases a lease for the next replica at once, which takes it with the next token; a stale release does nothing', async () => {
      const n = lease();
      const a = await store.acquire(n, 'replica-a', T0, 15_000);
      await store.release(a!);
      const b = await store.acquire(n, 'replica-b', T0 + 1, 15_000);
      expect(b?.token).toBe(2);
      await store.release(a!);
      expect(await store.acquire(n, 'replica-c', T0 + 2, 15_000)).toBeNull();
      expect(await store.renew(b!, T0 + 3, 15_000)).toMatchObject({ holder: 'replica-b', token: 2 });
    });

    it('gives one lease to exactly one of many replicas racing for it', async () => {
      const n = lease();
      const results = await Promise.all(['r1', 'r2', 'r3', 'r4', 'r5'].map((r) => store.acquire(n, r, T0, 15_000)));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      const expired = await Promise.all(['r6', 'r7', 'r8'].map((r) => store.acquire(n, r, T0 + 15_000, 15_000)));
      expect(expired.filter((r) => r !== null)).toEqual([expect.objectContaining({ token: 2 })]);
    });

    it('counts live replicas by heartbeat, and forgets one that left or stopped beating', async () => {
      const [a, b] = [`replica-${randomUUID()}`, `replica-${randomUUID()}`];
      const before = await store.liveReplicas(T0);
      await store.heartbeat(a, T0, 15_000);
      await store.heartbeat(b, T0 + 5_000, 15_000);
      expect((await store.liveReplicas(T0 + 14_000)).filter((r) => !before.includes(r)).sort()).toEqual([a, b].sort());
      expect((await store.liveReplicas(T0 + 15_000)).filter((r) => !before.includes(r))).toEqual([b]);
      await store.leave(b);
      expect((await store.liveReplicas(T0 + 15_000)).filter((r) => !before.includes(r))).toEqual([]);
    });
  });
}

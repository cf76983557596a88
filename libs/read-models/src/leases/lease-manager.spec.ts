import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { LeaseManager, type LeasedUnit } from './lease-manager';
import type { LeaseStore } from './lease-store.port';
import { SqliteLeaseStore } from './sqlite-lease-store';

/** Units that record whether they run, with the token they were started with. */
function units(names: readonly string[]): { units: LeasedUnit[]; running: Map<string, number> } {
  const running = new Map<string, number>();
  return {
    running,
    units: names.map((name) => ({
      name,
      start: async (token: number) => void running.set(name, token),
      stop: async () => void running.delete(name),
    })),
  };
}

/** `store`, whose every call throws `message` while `failing()` holds (the store unreachable). */
function failingWhile(store: LeaseStore, failing: () => boolean, message: string): LeaseStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]): Promise<unknown> => {
        if (failing()) throw new Error(message);
        return (value as (...x: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
}

describe('LeaseManager', () => {
  let dir: string;
  let store: SqliteLeaseStore;
  let clock: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-leases-'));
    store = new SqliteLeaseStore(join(dir, 'leases.db'));
    clock = 1_800_000_000_000;
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const NAMES = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'];
  const manager = (id: string, u: LeasedUnit[], leaseStore: LeaseStore = store): LeaseManager =>
    new LeaseManager({ store: leaseStore, replicaId: id, units: u, leaseMs: 15_000, renewMs: 5_000, now: () => clock });

  it('splits nine units 5/4 between two replicas, and a clean stop hands them over at once', async () => {
    const a = units(NAMES);
    const b = units(NAMES);
    const ma = manager('a', a.units);
    const mb = manager('b', b.units);
    await ma.tick();
    await mb.tick();
    await ma.tick();
    await mb.tick();
    expect([a.running.size, b.running.size]).toEqual([5, 4]);
    expect([...a.running.keys(), ...b.running.keys()].sort()).toEqual(NAMES);
    await ma.stop();
    expect(a.running.size).toBe(0);
    await mb.tick(); // no waiting for the lease to expire: released, and a's heartbeat is gone
    expect([...b.running.keys()].sort()).toEqual(NAMES);
    expect([...b.running.values()]).toEqual(NAMES.map(() => 2)); // each lease taken over once, by b
  });

  it('stops a unit at once when its lease cannot be renewed (taken over while this replica stalled, or the store unreachable)', async () => {
    const a = units(['p1', 'p2']);
    let failing = false;
    const flaky = failingWhile(store, () => failing, 'connection reset 7f2q');
    const ma = manager('a', a.units, flaky);
    await ma.tick();
    expect([...a.running.keys()].sort()).toEqual(['p1', 'p2']);
    failing = true;
    clock += 5_000;
    await ma.tick();
    expect(a.running.size).toBe(0);
    expect(ma.holding()).toEqual([]);
  });

  it('stops the units whose renewals failed in parallel: one still finishing its batch does not hold back the others', async () => {
    // p1's stop ends only once p2's stop has begun: one after another, the pass would wait for ever.
    let p2Stopping!: () => void;
    const p2Began = new Promise<void>((resolve) => (p2Stopping = resolve));
    const stopped: string[] = [];
    const u: LeasedUnit[] = [
      { name: 'p1', start: async () => undefined, stop: async () => { await p2Began; stopped.push('p1'); } },
      { name: 'p2', start: async () => undefined, stop: async () => { p2Stopping(); stopped.push('p2'); } },
    ];
    let failing = false;
    const flaky = failingWhile(store, () => failing, 'connection reset 9d1k');
    const ma = manager('a', u, flaky);
    await ma.tick();
    expect(ma.holding().map((l) => l.name).sort()).toEqual(['p1', 'p2']);
    failing = true;
    clock += 5_000;
    const pass = ma.tick();
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise((resolve) => (timer = setTimeout(() => resolve('pass stuck'), 2_000)));
    const outcome = await Promise.race([pass.then(() => 'pass ended'), stuck]);
    clearTimeout(timer);
    expect(outcome).toBe('pass ended');
    expect(stopped).toEqual(['p2', 'p1']);
    expect(ma.holding()).toEqual([]);
    expect(ma.outage()).toMatchObject({ error: 'connection reset 9d1k' });
  });

  it('reports a store outage until a pass succeeds, renews in parallel, and takes its units again when the store is back', async () => {
    const a = units(['p1', 'p2', 'p3']);
    let failing = false;
    let inFlight = 0;
    let mostInFlight = 0;
    const slow: LeaseStore = new Proxy(store, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]): Promise<unknown> => {
          if (!failing) return (value as (...x: unknown[]) => Promise<unknown>).apply(target, args);
          inFlight += 1;
          mostInFlight = Math.max(mostInFlight, inFlight);
          await new Promise((resolve) => setImmediate(resolve)); // a timeout, in miniature
          inFlight -= 1;
          throw new Error('server selection timed out 3hx8');
        };
      },
    });
    const ma = manager('a', a.units, slow);
    await ma.tick();
    expect(ma.outage()).toBeNull();
    failing = true;
    clock += 5_000;
    await ma.tick();
    expect(a.running.size).toBe(0);
    expect(mostInFlight).toBe(3); // the three renewals waited out one timeout together
    expect(ma.outage()).toEqual({ error: 'server selection timed out 3hx8', since: clock });
    clock += 5_000;
    await ma.tick();
    expect(ma.outage()?.since).toBe(clock - 5_000); // since the first failing pass
    failing = false;
    clock += 5_000;
    await ma.tick();
    expect(ma.outage()).toBeNull();
    expect([...a.running.keys()].sort()).toEqual(['p1', 'p2', 'p3']);
  });

  it('lets a paused replica find its leases taken: its renew fails, its units stop, and it takes its fair share again', async () => {
    const a = units(['p1', 'p2']);
    const b = units(['p1', 'p2']);
    const ma = manager('a', a.units);
    const mb = manager('b', b.units);
    await ma.tick();
    clock += 15_001; // a stalls past its leases
    await mb.tick();
    expect([...b.running.entries()].sort()).toEqual([['p1', 2], ['p2', 2]]);
    await ma.tick(); // a wakes up: both leases lost, units stopped; b still holds both
    expect(a.running.size).toBe(0);
    await mb.tick(); // b gives one up for a
    await ma.tick();
    expect([a.running.size, b.running.size]).toEqual([1, 1]);
    expect([...a.running.values()]).toEqual([3]);
  });

  it('shares a projector thread\'s group among its peers only: two processes of two threads each, every group split 50/50', async () => {
    // Thread 0 of each process runs p1..p4, thread 1 runs p5..p8 (projector-groups); four replicas are alive.
    const group = (i: number): string[] => (i === 0 ? NAMES.slice(0, 4) : NAMES.slice(4, 8));
    const replicas = ['x', 'y'].flatMap((proc) => [0, 1].map((i) => {
      const u = units(group(i));
      const suffix = `#${i}/2`;
      const m = new LeaseManager({
        store, replicaId: `${proc}${suffix}`, units: u.units, leaseMs: 15_000, renewMs: 5_000, now: () => clock, peer: (id) => id.endsWith(suffix),
      });
      return { i, u, m };
    }));
    for (let pass = 0; pass < 3; pass++) for (const r of replicas) await r.m.tick();
    // Counted among all four, each would stop at ceil(4 / 4) = 1 unit and leave half of every group unowned.
    expect(replicas.map((r) => r.u.running.size)).toEqual([2, 2, 2, 2]);
    for (const i of [0, 1]) {
      expect(replicas.filter((r) => r.i === i).flatMap((r) => [...r.u.running.keys()]).sort()).toEqual(group(i));
    }
    // Process x ends: y's threads take all of their own group, none of the other's.
    for (const r of replicas.slice(0, 2)) await r.m.stop();
    for (const r of replicas.slice(2)) await r.m.tick();
    expect(replicas.slice(2).map((r) => [...r.u.running.keys()].sort())).toEqual([group(0), group(1)]);
  });

  it('refuses a renewal interval that is not shorter than the lease', () => {
    expect(() => new LeaseManager({ store, replicaId: 'a', units: [], leaseMs: 5_000, renewMs: 5_000 })).toThrow(/more frequent/);
  });
});

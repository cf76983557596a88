import { randomUUID } from 'node:crypto';
import {
  complaintStream, customerStream, DEFAULT_CONTACT_CAP_POLICY, DEFAULT_SLA_POLICY, makeComplaintDecider, makeCustomerDecider, schemaVersionOf,
} from '@crm/domain';
import { eventMetadataFactory, handleCommand, InMemoryEventStore } from '@crm/event-store';
import {
  ALL_PROJECTIONS, checkpointName, FencedOff, MongoLeaseStore, MongoReadModelStore, ProjectionRunner,
  SLA_WATCHER_LEASE, type Doc, type ReadModelStore,
} from '@crm/read-models';
import { ProjectorHost } from '@crm/runtime';
import { type MongoDoubleHandle, startMongoDouble } from '../doubles/mongo-wire-double';
import { dumpReadModels, until } from '../support/read-model-state';
import { seedHistory } from '../support/seed-history';

/**
 * Projector replicas on one MongoDB (the wire double) and one event log, in one test process, with an injected clock
 * that drives the leases: the lease passes run when the test says (`leaseManager.tick()`), never on a timer.
 */
const freshDbName = (): string => `replicas_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
const LEASE_MS = 15_000;
const UNITS = [...ALL_PROJECTIONS.map((p) => p.name), SLA_WATCHER_LEASE];

/** A store whose writes wait while `paused`: a replica stopped by GC or a network partition in the middle of a batch. */
function pausable(inner: ReadModelStore): { store: ReadModelStore; pause: () => void; resume: () => void } {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'applyBatch' || prop === 'saveCheckpoints') {
        return async (...args: unknown[]): Promise<unknown> => {
          await gate;
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return {
    store,
    pause: () => {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    resume: () => {
      gate = undefined;
      open?.();
    },
  };
}

async function caughtUp(store: ReadModelStore, head: number): Promise<boolean> {
  for (const p of ALL_PROJECTIONS) if (((await store.getCheckpoint(checkpointName(p)))?.position ?? 0) < head) return false;
  return true;
}

describe('projector replicas: fenced leases on MongoDB (wire double)', () => {
  let double: MongoDoubleHandle;
  beforeAll(async () => {
    double = await startMongoDouble();
  });
  afterAll(async () => {
    await double.stop();
  });

  let clock: number;
  const stores: MongoReadModelStore[] = [];
  const hosts: ProjectorHost[] = [];
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.stop();
    for (const s of stores.splice(0)) await s.close();
  });

  const connect = async (db: string): Promise<MongoReadModelStore> => {
    const s = await MongoReadModelStore.connect(double.uri, db);
    stores.push(s);
    return s;
  };

  const replica = (
    id: string, events: InMemoryEventStore, store: ReadModelStore, leaseDb: MongoReadModelStore, onFencedOff?: (projection: string) => void,
  ): ProjectorHost => {
    const host = new ProjectorHost({
      events, readModels: store, complaintDecider: makeComplaintDecider({ slaPolicy: DEFAULT_SLA_POLICY }),
      now: () => new Date(clock), newEventId: () => randomUUID(), slaIntervalMs: 3_600_000,
      runner: { idlePollMs: 20, onFencedOff },
      leases: { store: new MongoLeaseStore(leaseDb.database), replicaId: id, leaseMs: LEASE_MS, renewMs: 5_000, now: () => clock, manual: true },
    });
    hosts.push(host);
    return host;
  };

  const held = (h: ProjectorHost): string[] => h.leaseManager!.holding().map((l) => l.name).sort();

  /**
   * Two replicas on one database both running the same pass (what the SLA watcher's lease prevents; the appends'
   * expected revisions guard anyway), `passes` times, each time once the board has caught up with the log.
   */
  async function raceTwoReplicas(events: InMemoryEventStore, passes: number, pass: (a: ProjectorHost, b: ProjectorHost) => Promise<unknown>): Promise<void> {
    const db = freshDbName();
    const [storeA, storeB] = [await connect(db), await connect(db)];
    const a = replica('replica-a', events, storeA, storeA);
    const b = replica('replica-b', events, storeB, storeB);
    const projector = new ProjectionRunner(events, storeA, ALL_PROJECTIONS, { idlePollMs: 20 });
    await projector.start();
    try {
      for (let i = 0; i < passes; i++) {
        await until(async () => caughtUp(storeA, await events.headPosition()), 20_000, 'the complaints board');
        await pass(a, b);
      }
    } finally {
      await projector.stop();
    }
  }

  async function cleanRebuild(events: InMemoryEventStore): Promise<Record<string, Doc[]>> {
    const fresh = await connect(freshDbName());
    const runner = new ProjectionRunner(events, fresh, ALL_PROJECTIONS, { idlePollMs: 20 });
    await runner.start();
    try {
      const head = await events.headPosition();
      await until(() => caughtUp(fresh, head), 20_000, 'the clean rebuild');
    } finally {
      await runner.stop();
    }
    return dumpReadModels(fresh);
  }

  it('shares the projections out, and a dead replica\'s move to the survivor after the lease; the read models equal a clean rebuild', async () => {
    clock = Date.parse('2026-11-01T08:00:00Z');
    const events = new InMemoryEventStore();
    await seedHistory(events, 12);
    const db = freshDbName();
    const [storeA, storeB] = [await connect(db), await connect(db)];
    const a = replica('replica-a', events, storeA, storeA);
    const b = replica('replica-b', events, storeB, storeB);
    await a.start();
    await b.start();

    // A alone takes everything; B joins; A gives up its extras at its next pass, B takes them at its next.
    await a.leaseManager!.tick();
    expect(held(a)).toEqual([...UNITS].sort());
    await b.leaseManager!.tick();
    expect(held(b)).toEqual([]);
    await a.leaseManager!.tick();
    await b.leaseManager!.tick();
    // A fair share each: half of the units, the odd one to either.
    const fair = [Math.floor(UNITS.length / 2), Math.ceil(UNITS.length / 2)];
    expect(fair).toContain(held(a).length);
    expect(fair).toContain(held(b).length);
    const shareOfB = held(b).length;
    expect([...held(a), ...held(b)].sort()).toEqual([...UNITS].sort());
    expect(a.runner.running().sort()).toEqual(held(a).filter((n) => n !== SLA_WATCHER_LEASE));
    expect(b.runner.running().sort()).toEqual(held(b).filter((n) => n !== SLA_WATCHER_LEASE));
    // What GET /projections shows: the owner and the expiry of each lease, from the store.
    const leases = await new MongoLeaseStore(storeA.database).list();
    expect(leases.map((l) => [l.name, l.holder])).toEqual(expect.arrayContaining(held(a).map((n) => [n, 'replica-a'])));

    await until(async () => caughtUp(storeA, await events.headPosition()), 20_000, 'both replicas catching up');

    // A dies (SIGKILL: nothing released, its workers simply stop); the log goes on.
    await a.runner.stop();
    await a.slaWatcher.stop();
    await seedHistory(events, 6, new Date('2026-11-03T08:00:00Z'), 'after-death');
    clock += 5_000;
    await b.leaseManager!.tick();
    expect(held(b)).toHaveLength(shareOfB); // A's leases and heartbeat still run
    clock += LEASE_MS;
    await b.leaseManager!.tick();
    expect(held(b)).toEqual([...UNITS].sort());
    expect(b.runner.running().sort()).toEqual(ALL_PROJECTIONS.map((p) => p.name).sort());
    const taken = (await new MongoLeaseStore(storeB.database).list()).filter((l) => held(a).includes(l.name));
    expect(taken.every((l) => l.holder === 'replica-b' && l.token === 2)).toBe(true);

    const head = await events.headPosition();
    await until(() => caughtUp(storeB, head), 20_000, 'the survivor catching up');
    expect(await dumpReadModels(storeB)).toEqual(await cleanRebuild(events));
  });

  it('refuses the late write of a replica paused past its lease, which then stops that projection', async () => {
    clock = Date.parse('2026-11-01T08:00:00Z');
    const events = new InMemoryEventStore();
    await seedHistory(events, 6);
    const db = freshDbName();
    const [rawA, storeB] = [await connect(db), await connect(db)];
    const paused = pausable(rawA);
    const fencedOff = new Set<string>();
    const a = replica('replica-a', events, paused.store, rawA, (name) => fencedOff.add(name));
    const b = replica('replica-b', events, storeB, storeB);
    await a.start();
    await b.start();
    await a.leaseManager!.tick(); // A holds everything
    await until(async () => caughtUp(rawA, await events.headPosition()), 20_000, 'A catching up');
    const tokensBefore = new Map(a.leaseManager!.holding().map((l) => [l.name, l.token]));

    // A stalls in the middle of its writes (a long GC pause) while new events arrive.
    paused.pause();
    await seedHistory(events, 3, new Date('2026-11-02T08:00:00Z'), 'during-pause');
    clock += LEASE_MS + 1;
    await b.leaseManager!.tick(); // A's leases and heartbeat expired: B takes everything over, with the next tokens
    expect(held(b)).toEqual([...UNITS].sort());
    expect(b.leaseManager!.holding().every((l) => l.token === (tokensBefore.get(l.name) ?? 0) + 1)).toBe(true);
    const head = await events.headPosition();
    await until(() => caughtUp(storeB, head), 20_000, 'B catching up');
    const before = await dumpReadModels(storeB);

    // A wakes up and finishes its writes with its old tokens: every one is refused, and A stops those projections.
    paused.resume();
    await until(() => a.runner.running().length === 0, 20_000, 'A stopping every fenced-off projection');
    expect([...fencedOff].sort()).toEqual(ALL_PROJECTIONS.map((x) => x.name).sort());
    expect(held(a).filter((n) => n !== SLA_WATCHER_LEASE)).toEqual([]);
    expect(await dumpReadModels(storeB)).toEqual(before);
    expect(await dumpReadModels(storeB)).toEqual(await cleanRebuild(events));
    // A store-level look at one refusal, for the record: the old token is below the checkpoint's fence.
    const p = ALL_PROJECTIONS[0]!;
    await expect(rawA.applyBatch([], { projection: checkpointName(p), position: head + 1, fence: tokensBefore.get(p.name)! })).rejects.toBeInstanceOf(FencedOff);
  });

  it('appends one SlaBreached when two watchers race for the same due deadline (expected revision)', async () => {
    const filedAt = new Date('2026-11-01T08:00:00Z');
    clock = filedAt.getTime() + 30 * 86_400_000; // every deadline of the complaint has passed
    const events = new InMemoryEventStore();
    const complaintId = `race-${randomUUID()}`;
    await handleCommand(events, makeComplaintDecider({ slaPolicy: DEFAULT_SLA_POLICY }), {
      streamId: complaintStream(complaintId),
      command: { type: 'FileComplaint', data: { complaintId, customerId: 'cust-race', channel: 'email', category: 'billing', priority: 'P1', description: 'd', ownerId: 'agent-1', occurredAt: filedAt.toISOString(), resolvedAtFirstContact: false } },
      now: () => filedAt,
      eventMetadata: eventMetadataFactory({ newEventId: () => randomUUID(), schemaVersionOf }),
      metadata: { correlationId: 'race', causationId: 'race', actor: { id: 'tester', role: 'agent' } },
    });
    await raceTwoReplicas(events, 4, (a, b) => Promise.all([a.slaWatcher.checkOnce(), b.slaWatcher.checkOnce()]));
    const breaches = (await events.readStream(complaintStream(complaintId))).filter((e) => e.type === 'SlaBreached');
    const kinds = breaches.map((e) => (e.data as { kind: string }).kind).sort();
    expect(kinds).toEqual(['first-response', 'resolution']);
  });

  it('moves each open complaint once when two replicas run the owner hand-over at once (expected revision)', async () => {
    clock = Date.parse('2026-11-01T08:00:00Z');
    const events = new InMemoryEventStore();
    const eventMetadata = eventMetadataFactory({ newEventId: () => randomUUID(), schemaVersionOf });
    const metadata = { correlationId: 'hand-over', causationId: 'hand-over', actor: { id: 'tester', role: 'agent' } };
    const now = (): Date => new Date(clock);
    const customers = makeCustomerDecider({ contactPolicy: DEFAULT_CONTACT_CAP_POLICY });
    const complaints = makeComplaintDecider({ slaPolicy: DEFAULT_SLA_POLICY });
    const customerId = `hand-over-${randomUUID()}`;
    const ids = [1, 2, 3, 4].map((n) => `${customerId}-k${n}`);
    await handleCommand(events, customers, {
      streamId: customerStream(customerId), now, eventMetadata, metadata,
      command: { type: 'RegisterCustomer', data: { customerId, kind: 'customer', name: 'N', ownerId: 'agent-1' } },
    });
    for (const complaintId of ids) {
      await handleCommand(events, complaints, {
        streamId: complaintStream(complaintId), now, eventMetadata, metadata,
        command: { type: 'FileComplaint', data: { complaintId, customerId, channel: 'email', category: 'billing', priority: 'P3', description: 'd', ownerId: 'agent-1', occurredAt: now().toISOString(), resolvedAtFirstContact: false } },
      });
    }
    await handleCommand(events, customers, {
      streamId: customerStream(customerId), now, eventMetadata, metadata,
      command: { type: 'AssignCustomerOwner', data: { customerId, ownerId: 'agent-2', reason: 'territory', moveOpenWork: true } },
    });
    await raceTwoReplicas(events, 3, (a, b) => Promise.allSettled([a.ownerHandOver.runOnce(), b.ownerHandOver.runOnce()]));
    for (const complaintId of ids) {
      const moves = (await events.readStream(complaintStream(complaintId))).filter((e) => e.type === 'ComplaintOwnerChanged');
      expect(moves.map((e) => (e.data as { ownerId: string }).ownerId)).toEqual(['agent-2']);
    }
  });
});

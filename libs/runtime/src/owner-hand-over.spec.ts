import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  complaintStream, customerStream, DEFAULT_CONTACT_CAP_POLICY, DEFAULT_SLA_POLICY, makeComplaintDecider, makeCustomerDecider,
  type ComplaintCommand, type CustomerCommand,
} from '@crm/domain';
import { handleCommand, InMemoryEventStore, type EventStore, type RecordedEvent } from '@crm/event-store';
import { SqliteReadModelStore } from '@crm/read-models';
import { domainEventMetadata } from './event-metadata';
import { OWNER_HAND_OVER_ACTOR, OWNER_HAND_OVER_CHECKPOINT, OwnerHandOver, planHandOver, reassignedByHandSince } from './owner-hand-over';
import { ProjectorHost } from './projector-host';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const customers = makeCustomerDecider({ contactPolicy: DEFAULT_CONTACT_CAP_POLICY });
const complaints = makeComplaintDecider({ slaPolicy: DEFAULT_SLA_POLICY });
const metadataOf = domainEventMetadata(() => randomUUID());

let dir: string;
let events: InMemoryEventStore;
let readModels: SqliteReadModelStore;
let host: ProjectorHost;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-hand-over-'));
  events = new InMemoryEventStore(() => NOW);
  readModels = new SqliteReadModelStore(join(dir, 'read-models.db'));
  host = new ProjectorHost({
    events, readModels, complaintDecider: complaints, now: () => NOW, newEventId: () => randomUUID(), startSlaWatcher: false,
    runner: { idlePollMs: 5 },
  });
  await host.start();
});

afterEach(async () => {
  await host.stop();
  await readModels.close();
  rmSync(dir, { recursive: true, force: true });
});

const asAgent = { correlationId: 'corr-test', causationId: 'cause-test', actor: { id: 'agent-ana', role: 'agent' } };

async function customerCommand(command: CustomerCommand, store: EventStore = events): Promise<number> {
  const result = await handleCommand(store, customers, {
    streamId: customerStream(command.data.customerId), command, now: () => NOW, eventMetadata: metadataOf,
    metadata: { ...asAgent, correlationId: `corr-${command.type}-${randomUUID()}` },
  });
  return result.position;
}

async function complaintCommand(command: ComplaintCommand): Promise<number> {
  const result = await handleCommand(events, complaints, {
    streamId: complaintStream(command.data.complaintId), command, now: () => NOW, eventMetadata: metadataOf, metadata: asAgent,
  });
  return result.position;
}

async function register(customerId: string, ownerId: string): Promise<void> {
  await customerCommand({ type: 'RegisterCustomer', data: { customerId, kind: 'customer', name: 'Ada', ownerId } });
}

async function file(complaintId: string, customerId: string, ownerId: string | null): Promise<void> {
  await complaintCommand({
    type: 'FileComplaint',
    data: {
      complaintId, customerId, ownerId, channel: 'phone', category: 'delivery', priority: 'P2', description: 'late parcel',
      occurredAt: NOW.toISOString(), resolvedAtFirstContact: false,
    },
  });
}

async function close(complaintId: string): Promise<void> {
  await complaintCommand({ type: 'ResolveComplaint', data: { complaintId, resolution: 'refunded', occurredAt: NOW.toISOString() } });
  await complaintCommand({ type: 'CloseComplaint', data: { complaintId, occurredAt: NOW.toISOString() } });
}

async function changeOwner(customerId: string, ownerId: string, moveOpenWork = true): Promise<number> {
  return customerCommand({ type: 'AssignCustomerOwner', data: { customerId, ownerId, reason: 'ana moves to key accounts', moveOpenWork } });
}

/** The board has applied everything logged so far (the hand-over waits for that by itself; tests wait to assert). */
async function boardCaughtUp(): Promise<void> {
  expect(await host.runner.waitFor('complaints', await events.headPosition(), 10_000)).toBe(true);
}

async function ownerMoves(complaintId: string): Promise<RecordedEvent[]> {
  return (await events.readStream(complaintStream(complaintId))).filter((e) => e.type === 'ComplaintOwnerChanged');
}

async function ownersOf(...ids: string[]): Promise<Array<string | null>> {
  const owners: Array<string | null> = [];
  for (const id of ids) {
    const moves = await ownerMoves(id);
    const filed = (await events.readStream(complaintStream(id)))[0]?.data as { ownerId: string | null };
    owners.push(moves.length ? (moves.at(-1)!.data as { ownerId: string }).ownerId : filed.ownerId);
  }
  return owners;
}

/** An event store whose appends fail after `allowed` of them: the process dies half-way through a hand-over. */
function crashingAfter(allowed: number): EventStore {
  let appends = 0;
  return new Proxy(events, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'appendToStream') {
        return (...args: unknown[]): Promise<unknown> => {
          appends += 1;
          if (appends > allowed) return Promise.reject(new Error('process killed'));
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

function handOverOn(store: EventStore): OwnerHandOver {
  return new OwnerHandOver(store, host.servingStore, {
    now: () => NOW, newEventId: () => randomUUID(), boardPosition: async () => host.runner.checkpointOf('complaints') ?? 0,
  });
}

describe('owner hand-over process manager', () => {
  it("moves the customer's open complaints to the new owner, each once, with the reason, caused by the owner change", async () => {
    await register('c1', 'agent-ana');
    await file('k1', 'c1', 'agent-ana');
    await file('k2', 'c1', 'agent-ana');
    await file('k-closed', 'c1', 'agent-ana');
    await close('k-closed');
    await file('k-other', 'c2', 'agent-ana');
    await changeOwner('c1', 'agent-bob');
    await boardCaughtUp();

    expect(await host.ownerHandOver.runOnce()).toEqual({ moved: 2, changes: 1 });

    expect(await ownersOf('k1', 'k2', 'k-closed', 'k-other')).toEqual(['agent-bob', 'agent-bob', 'agent-ana', 'agent-ana']);
    const change = (await events.readStream(customerStream('c1'))).find((e) => e.type === 'CustomerOwnerAssigned')!;
    const [move] = await ownerMoves('k1');
    expect(move!.data).toEqual({
      complaintId: 'k1', customerId: 'c1', ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: 'owner hand-over: ana moves to key accounts',
    });
    expect(move!.metadata).toMatchObject({
      causationId: change.eventId, correlationId: change.metadata['correlationId'], actor: OWNER_HAND_OVER_ACTOR,
    });

    // Run again, and from the start of the log (a lost checkpoint): nothing more.
    expect(await host.ownerHandOver.runOnce()).toEqual({ moved: 0, changes: 0 });
    await readModels.deleteCheckpoint(OWNER_HAND_OVER_CHECKPOINT);
    expect(await handOverOn(events).runOnce()).toEqual({ moved: 0, changes: 1 });
    expect((await ownerMoves('k1')).length + (await ownerMoves('k2')).length).toBe(2);
  });

  it('moves nothing when the owner change says moveOpenWork: false, nor for owner changes recorded before hand-overs existed', async () => {
    await register('c1', 'agent-ana');
    await file('k1', 'c1', 'agent-ana');
    await changeOwner('c1', 'agent-bob', false);
    await customerCommand({ type: 'AssignCustomerOwner', data: { customerId: 'c1', ownerId: 'agent-cy', reason: 'historic' } });
    await boardCaughtUp();

    expect(await host.ownerHandOver.runOnce()).toEqual({ moved: 0, changes: 2 });
    expect(await ownerMoves('k1')).toEqual([]);
  });

  it('resumes after a crash half-way through a customer: every complaint moved exactly once', async () => {
    await register('c1', 'agent-ana');
    for (const id of ['k1', 'k2', 'k3', 'k4']) await file(id, 'c1', 'agent-ana');
    await changeOwner('c1', 'agent-bob');
    await boardCaughtUp();

    await expect(handOverOn(crashingAfter(2)).runOnce()).rejects.toThrow('process killed');
    expect(await ownersOf('k1', 'k2', 'k3', 'k4')).toEqual(['agent-bob', 'agent-bob', 'agent-ana', 'agent-ana']);
    expect(await readModels.getCheckpoint(OWNER_HAND_OVER_CHECKPOINT)).toBeNull();

    expect(await handOverOn(events).runOnce()).toEqual({ moved: 2, changes: 1 });
    for (const id of ['k1', 'k2', 'k3', 'k4']) expect((await ownerMoves(id)).map((e) => (e.data as { ownerId: string }).ownerId)).toEqual(['agent-bob']);
  });

  it('two replicas running at once (a lease changing hands) move each complaint once', async () => {
    await register('c1', 'agent-ana');
    for (const id of ['k1', 'k2', 'k3', 'k4', 'k5']) await file(id, 'c1', 'agent-ana');
    await changeOwner('c1', 'agent-bob');
    await boardCaughtUp();

    // The loser of a race on a complaint is refused (its decision read an older revision) and tries again next pass.
    await Promise.allSettled([handOverOn(events).runOnce(), handOverOn(events).runOnce()]);
    await handOverOn(events).runOnce();
    for (const id of ['k1', 'k2', 'k3', 'k4', 'k5']) expect((await ownerMoves(id)).map((e) => (e.data as { ownerId: string }).ownerId)).toEqual(['agent-bob']);
  });

  it('a later owner change wins over an earlier one still being handed over', async () => {
    await register('c1', 'agent-ana');
    for (const id of ['k1', 'k2', 'k3']) await file(id, 'c1', 'agent-ana');
    await changeOwner('c1', 'agent-bob');
    await boardCaughtUp();
    await expect(handOverOn(crashingAfter(1)).runOnce()).rejects.toThrow('process killed');
    await changeOwner('c1', 'agent-cy');
    await boardCaughtUp();

    expect(await host.ownerHandOver.runOnce()).toEqual({ moved: 3, changes: 2 });
    expect(await ownersOf('k1', 'k2', 'k3')).toEqual(['agent-cy', 'agent-cy', 'agent-cy']);
    // k1 went to bob before the second change and then on to cy; the others straight to cy, never to bob.
    expect((await ownerMoves('k2')).map((e) => (e.data as { ownerId: string }).ownerId)).toEqual(['agent-cy']);
  });

  it('leaves a complaint someone reassigned by hand after the owner change, and one closed meanwhile', async () => {
    await register('c1', 'agent-ana');
    await file('k-specialist', 'c1', 'agent-ana');
    await file('k-closing', 'c1', 'agent-ana');
    await changeOwner('c1', 'agent-bob');
    await complaintCommand({ type: 'ChangeComplaintOwner', data: { complaintId: 'k-specialist', ownerId: 'agent-specialist', reason: 'needs a technician' } });
    await close('k-closing');
    await boardCaughtUp();

    expect(await host.ownerHandOver.runOnce()).toEqual({ moved: 0, changes: 1 });
    expect(await ownersOf('k-specialist', 'k-closing')).toEqual(['agent-specialist', 'agent-ana']);
  });

  it('moves a complaint filed just before the owner change, once the board has reached the change', async () => {
    await register('c1', 'agent-ana');
    await file('k-late', 'c1', 'agent-ana');
    await changeOwner('c1', 'agent-bob');
    const behind = new OwnerHandOver(events, host.servingStore, { now: () => NOW, newEventId: () => randomUUID(), boardPosition: async () => 0 });

    expect(await behind.runOnce()).toEqual({ moved: 0, changes: 0 });
    expect(await readModels.getCheckpoint(OWNER_HAND_OVER_CHECKPOINT)).toBeNull();

    await boardCaughtUp();
    expect(await host.ownerHandOver.runOnce()).toEqual({ moved: 1, changes: 1 });
    expect(await ownersOf('k-late')).toEqual(['agent-bob']);
  });

  it('moves a complaint filed with the old owner by a filing that raced the owner change', async () => {
    await register('c1', 'agent-ana');
    await changeOwner('c1', 'agent-bob');
    // The filing read the customer before the change, and appended after it.
    await file('k-raced', 'c1', 'agent-ana');
    await boardCaughtUp();

    expect(await host.ownerHandOver.runOnce()).toEqual({ moved: 1, changes: 1 });
    expect(await ownersOf('k-raced')).toEqual(['agent-bob']);
  });
});

describe('planHandOver and reassignedByHandSince (pure)', () => {
  const recorded = (type: string, data: unknown, position: number, actorId = 'agent-ana'): RecordedEvent => ({
    eventId: `e${position}`, type, data, streamId: 'customer-c1', revision: position, position, recordedAt: NOW.toISOString(),
    metadata: { actor: { id: actorId, role: 'agent' } },
  });
  const registered = recorded('CustomerRegistered', { customerId: 'c1', kind: 'customer', name: 'Ada', ownerId: 'agent-ana' }, 1);
  const toBob = recorded('CustomerOwnerAssigned', { customerId: 'c1', ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: 'r', moveOpenWork: true }, 2);

  it('given the latest owner change asking to move, when planned, then the new owner and the hand-over reason', () => {
    expect(planHandOver([registered, toBob], toBob)).toEqual({ customerId: 'c1', ownerId: 'agent-bob', reason: 'owner hand-over: r' });
  });

  it('given a later owner change, when the earlier one is planned, then nothing (the later one moves everything)', () => {
    const toCy = recorded('CustomerOwnerAssigned', { customerId: 'c1', ownerId: 'agent-cy', previousOwnerId: 'agent-bob', reason: 'r2', moveOpenWork: true }, 3);
    expect(planHandOver([registered, toBob, toCy], toBob)).toBeNull();
  });

  it('given an erased customer, when planned, then nothing', () => {
    const erased = recorded('CustomerErased', { customerId: 'c1', erasedAt: NOW.toISOString(), reason: 'request 7', fields: {} }, 3);
    expect(planHandOver([registered, toBob, erased], toBob)).toBeNull();
  });

  it("given complaint owner changes, when asked, then only a person's change after the owner change counts", () => {
    const byHand = recorded('ComplaintOwnerChanged', {}, 5);
    const byProcess = recorded('ComplaintOwnerChanged', {}, 6, OWNER_HAND_OVER_ACTOR.id);
    expect(reassignedByHandSince([byHand], 4)).toBe(true);
    expect(reassignedByHandSince([byHand], 5)).toBe(false);
    expect(reassignedByHandSince([byProcess], 4)).toBe(false);
  });
});

import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InMemoryEventStore } from '@crm/event-store';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_LOYALTY_POLICY } from '@crm/domain';
import {
  complaintFiled,
  complaintResolved,
  complaintResponded,
  contactLogged,
  customerMerge,
  customerRegistered,
  followUpCompleted,
  followUpScheduled,
  money,
  ownerAssigned,
  project,
  loyaltyPolicyPublished,
  purchaseRecorded,
  returnRecorded,
  slaBreached,
  toAppend,
  P2_SLA,
  FILED_AT,
  type Fact,
} from '../../test-support/project';
import { checkpointName, physicalCollection, type DocumentChange, type ProjectedEvent, type Projection } from '../projection/projection';
import { ALL_PROJECTIONS, customerTimelineProjection, FOLLOW_UPS, followUpsProjection, TIMELINE_ENTRIES } from '../projections';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import type { Doc } from '../store/read-model-store.port';
import type { EventFeed } from './event-feed';
import { ProjectionRunner, type RunnerOptions } from './projection-runner';

/*
 * The runner against the in-memory log and a SQLite read-model store in a temp dir of its own per test. Nothing sleeps:
 * tests wait with runner.waitFor (bounded), and the races of the runner's wake-ups are forced with a hooked feed.
 * Most runners poll every 20 ms as a fallback so that a missed append signal (see the it.failing tests) cannot make an
 * unrelated test hang; the tests of the signal itself use a poll of a minute.
 */

const RECORDED_AT = '2026-03-01T00:00:00.000Z';
const WAIT_MS = 5_000;
const FAST_POLL: RunnerOptions = { idlePollMs: 20 };
/** A build catching up commits every page, as before carried documents: for the tests of what a failing page leaves. */
const COMMIT_EVERY_PAGE: RunnerOptions = { ...FAST_POLL, carry: { maxDocuments: 0, maxMs: 0 } };

// ---------------------------------------------------------------------------------------------------------------
// Test projections
// ---------------------------------------------------------------------------------------------------------------

const ALL_TYPES = [...new Set(ALL_PROJECTIONS.flatMap((p) => p.eventTypes))];
const COUNTERS = 'counters';
const POISON_COUNTERS = 'poison_counters';
const SEEN = 'seen';

/** Counts every event into one document, and how often the runner asked it for changes (reads, not writes). */
function countingProjection(name = 'counting'): { projection: Projection; changesCalls: () => number } {
  let calls = 0;
  const projection: Projection = {
    name,
    version: 1,
    eventTypes: ALL_TYPES,
    collections: [{ name: COUNTERS, indexes: [] }],
    changes(event: ProjectedEvent): DocumentChange[] {
      calls += 1;
      return [{
        collection: COUNTERS,
        id: 'all',
        evolve: (doc) => ({ count: Number(doc?.['count'] ?? 0) + 1, lastEventId: event.eventId }),
      }];
    },
  };
  return { projection, changesCalls: () => calls };
}

/**
 * Writes one `seen` document per event and counts events in `counters/all`; throws on the event at `poisonAt`, either
 * from `changes` or from the `evolve` of its second change (after the counter change of the same event was staged).
 * Counts into its own collection: physical names are `<collection>_v<version>`, without the projection's name.
 */
function poisonedProjection(name: string, poisonAt: number, where: 'changes' | 'evolve'): Projection {
  return {
    name,
    version: 1,
    eventTypes: ALL_TYPES,
    collections: [{ name: POISON_COUNTERS, indexes: [] }, { name: SEEN, indexes: [] }],
    changes(event: ProjectedEvent): DocumentChange[] {
      if (where === 'changes' && event.position === poisonAt) throw new Error(`cannot read event ${event.position}`);
      return [
        { collection: POISON_COUNTERS, id: 'all', evolve: (doc) => ({ count: Number(doc?.['count'] ?? 0) + 1 }) },
        {
          collection: SEEN,
          id: event.eventId,
          evolve: () => {
            if (event.position === poisonAt) throw new Error(`cannot apply event ${event.position}`);
            return { type: event.type };
          },
        },
      ];
    },
  };
}

const LATEST = 'latest';

/** Replaces one document with each event (`replaces`: the runner does not read it before writing). */
const LATEST_EVENT: Projection = {
  name: 'latest_event',
  version: 1,
  eventTypes: ALL_TYPES,
  collections: [{ name: LATEST, indexes: [] }],
  changes: (event: ProjectedEvent): DocumentChange[] => [{
    collection: LATEST,
    id: 'latest',
    replaces: true,
    evolve: () => ({ eventId: event.eventId }),
  }],
};

// ---------------------------------------------------------------------------------------------------------------
// Fixture: log, store, runners; everything closed after each test
// ---------------------------------------------------------------------------------------------------------------

let dir: string;
let log: InMemoryEventStore;
let stores: SqliteReadModelStore[];
let runners: ProjectionRunner[];
let appended: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crm-runner-'));
  log = new InMemoryEventStore(() => new Date(RECORDED_AT));
  stores = [];
  runners = [];
  appended = 0;
});

afterEach(async () => {
  for (const runner of runners) await runner.stop();
  for (const store of stores) await store.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(): SqliteReadModelStore {
  const store = new SqliteReadModelStore(join(dir, 'read-models.db'));
  stores.push(store);
  return store;
}

/**
 * SQLite store whose `applyBatch` fails once, on call `failOnCall`: before writing anything (the store is unreachable),
 * or after writing the documents but not the checkpoint (as MongoDB can, which writes documents first).
 */
class FlakySqliteStore extends SqliteReadModelStore {
  private calls = 0;

  constructor(filename: string, private readonly failOnCall: number, private readonly mode: 'before-writing' | 'after-documents') {
    super(filename);
  }

  override async applyBatch(...[writes, checkpoint]: Parameters<SqliteReadModelStore['applyBatch']>): Promise<void> {
    this.calls += 1;
    if (this.calls === this.failOnCall) {
      // Position 0 never moves a checkpoint: the documents land, the checkpoint stays where it was.
      if (this.mode === 'after-documents') await super.applyBatch(writes, { projection: checkpoint.projection, position: 0 });
      throw new Error('read-model store unreachable');
    }
    await super.applyBatch(writes, checkpoint);
  }
}

function openFlakyStore(failOnCall: number, mode: 'before-writing' | 'after-documents'): FlakySqliteStore {
  const store = new FlakySqliteStore(join(dir, 'read-models.db'), failOnCall, mode);
  stores.push(store);
  return store;
}

async function allDocuments(store: SqliteReadModelStore, projections: readonly Projection[]): Promise<Record<string, Doc[]>> {
  const result: Record<string, Doc[]> = {};
  for (const p of projections) for (const c of p.collections) result[physicalCollection(p, c.name)] = await store.find(physicalCollection(p, c.name), {});
  return result;
}

function runner(feed: EventFeed, store: SqliteReadModelStore, projections: readonly Projection[], options: RunnerOptions = FAST_POLL): ProjectionRunner {
  const r = new ProjectionRunner(feed, store, projections, options);
  runners.push(r);
  return r;
}

/** Appends the facts, each in its own append (so its own position), and returns the last position. */
async function append(...facts: Fact[]): Promise<number> {
  let position = 0;
  for (const fact of facts) {
    appended += 1;
    position = (await log.appendToStream(fact.streamId, [toAppend(fact, `e-${appended}`)])).position;
  }
  return position;
}

/** Appends the facts in one append: they become visible together. */
async function appendTogether(streamId: string, facts: Fact[]): Promise<number> {
  const events = facts.map((f) => {
    appended += 1;
    return toAppend(f, `e-${appended}`);
  });
  return (await log.appendToStream(streamId, events)).position;
}

/** `n` contacts of the default customer, a minute apart. */
function contacts(n: number, from = 0): Fact[] {
  return Array.from({ length: n }, (_, i) =>
    contactLogged(new Date(Date.parse('2026-03-02T09:00:00.000Z') + (from + i) * 60_000).toISOString(), { contactId: `c-${from + i}` }));
}

async function waitUntilDefined<T>(get: () => T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (let value = get(); ; value = get()) {
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function counterDoc(store: SqliteReadModelStore, projection: Projection): Promise<Doc | null> {
  return store.get(physicalCollection(projection, COUNTERS), 'all');
}

// ---------------------------------------------------------------------------------------------------------------

describe('ProjectionRunner', () => {
  it('catches up from an empty checkpoint in batches, then applies live appends', async () => {
    const { projection, changesCalls } = countingProjection();
    const batches: number[] = [];
    const store = openStore();
    await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(9));
    const r = runner(log, store, [projection], { ...FAST_POLL, batchSize: 3, onBatch: (_p, events) => batches.push(events) });

    await r.start();
    expect(await r.waitFor('counting', 10, WAIT_MS)).toBe(true);

    expect(batches).toEqual([3, 3, 3, 1]);
    expect(await counterDoc(store, projection)).toEqual({ _id: 'all', _position: 10, count: 10, lastEventId: 'e-10' });
    expect(await store.getCheckpoint(checkpointName(projection))).toMatchObject({ projection: 'counting@v1', position: 10 });
    expect(r.status()).toEqual([{ name: 'counting', version: 1, checkpoint: 10, status: 'live', lastError: null, eventsApplied: 10, serving: { version: 1, generation: 0 }, rebuild: null }]);

    const live = await appendTogether('customer-cust-1', contacts(2, 100));
    expect(live).toBe(12);
    expect(await r.waitFor('counting', 12, WAIT_MS)).toBe(true);
    const next = await append(ownerAssigned('2026-03-03T09:00:00.000Z'));
    expect(await r.waitFor('counting', next, WAIT_MS)).toBe(true);

    expect(batches).toEqual([3, 3, 3, 1, 2, 1]);
    expect(await counterDoc(store, projection)).toEqual({ _id: 'all', _position: 13, count: 13, lastEventId: 'e-13' });
    expect(await store.getCheckpoint('counting@v1')).toMatchObject({ position: 13 });
    expect(r.checkpointOf('counting')).toBe(13);
    expect(changesCalls()).toBe(13);
  });

  it("applies at most a projection's own maxBatchSize per batch, below the runner's batch size", async () => {
    const { projection } = countingProjection();
    const batches: number[] = [];
    const store = openStore();
    await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(6));
    const r = runner(log, store, [{ ...projection, maxBatchSize: 2 }], { ...FAST_POLL, batchSize: 5, onBatch: (_p, events) => batches.push(events) });

    await r.start();
    expect(await r.waitFor('counting', 7, WAIT_MS)).toBe(true);

    expect(batches).toEqual([2, 2, 2, 1]);
    expect(await counterDoc(store, projection)).toMatchObject({ _position: 7, count: 7 });
  });

  it('keeps nothing of a page past its batch: at the turn of the event loop before the next page, the events are garbage', async () => {
    // The runner yields between pages, and that is where V8's scavenges run: a page still reachable there is copied,
    // then promoted, and a mark-compact every few pages collects it (a timeline rebuild at 1M fell into that mode, ~110
    // mark-compacts instead of 5, in 7 runs of 8; docs/decisions.md "A page held across the turn of the event loop").
    // The feed hands out copies it holds weakly; after each batch, in the turn where the runner has yielded, a full
    // collection must leave none of them.
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(59));
    let lastPage: Array<WeakRef<ProjectedEvent>> = [];
    const feed: EventFeed = {
      readAll: async (o) => {
        const copies = (await log.readAll(o)).map((e) => ({ ...e }));
        lastPage = copies.map((e) => new WeakRef(e));
        return copies;
      },
      headPosition: () => log.headPosition(),
      subscribeToAll: (o) => log.subscribeToAll(o),
    };
    const survivors: number[] = [];
    const onBatch = (): void => {
      const page = lastPage;
      setImmediate(() => {
        collect();
        survivors.push(page.filter((ref) => ref.deref() !== undefined).length);
      });
    };
    const r = runner(feed, openStore(), [customerTimelineProjection], { ...FAST_POLL, batchSize: 20, onBatch });

    await r.start();
    expect(await r.waitFor('customer_timelines', 60, WAIT_MS)).toBe(true);
    await new Promise<void>((resolve) => setImmediate(resolve));

    expect(survivors.length).toBeGreaterThanOrEqual(3);
    expect(survivors).toEqual(survivors.map(() => 0));
  });

  it("asks the log for the data's text only when it runs sealed projections alone (they keep events' data as it is)", async () => {
    // The window holds the text with each event: a runner whose projections never store it should not hold it, nor
    // one where the timeline is the slowest reader of a window shared with others (+7 MB peak RSS at 1M, over 400).
    await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(2));
    const asked = (): { feed: EventFeed; options: Array<{ dataJson?: boolean }> } => {
      const options: Array<{ dataJson?: boolean }> = [];
      return { options, feed: { readAll: (o) => { options.push(o); return log.readAll(o); }, headPosition: () => log.headPosition(), subscribeToAll: (o) => log.subscribeToAll(o) } };
    };
    const without = asked();
    const beside = asked();
    const withTimeline = asked();
    const timelineStore = new SqliteReadModelStore(join(dir, 'timeline.db'));
    const besideStore = new SqliteReadModelStore(join(dir, 'beside.db'));
    stores.push(timelineStore, besideStore);
    const a = runner(without.feed, openStore(), [followUpsProjection]);
    const b = runner(withTimeline.feed, timelineStore, [customerTimelineProjection]);
    const c = runner(beside.feed, besideStore, [customerTimelineProjection, followUpsProjection]);
    await a.start();
    await b.start();
    await c.start();
    expect(await a.waitFor('follow_ups', 3, WAIT_MS)).toBe(true);
    expect(await b.waitFor('customer_timelines', 3, WAIT_MS)).toBe(true);
    expect(await c.waitFor('customer_timelines', 3, WAIT_MS)).toBe(true);

    for (const other of [without, beside]) {
      expect(other.options.length).toBeGreaterThan(0);
      expect(other.options.some((o) => o.dataJson)).toBe(false);
    }
    expect(withTimeline.options.length).toBeGreaterThan(0);
    expect(withTimeline.options.every((o) => o.dataJson === true)).toBe(true);
  });

  it("stores the timeline's entries from the log's text of their data as it stores them from the parsed data", async () => {
    await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(4), purchaseRecorded('2026-03-03T10:00:00.000Z', money(1, 3)));
    // A feed that hands over each event's data text, in other bytes than JSON.stringify writes (indented).
    const withText: EventFeed = {
      readAll: async (o) => (await log.readAll(o)).map((e) => (o.dataJson ? { ...e, dataJson: JSON.stringify(e.data, null, 2) } : e)),
      headPosition: () => log.headPosition(),
      subscribeToAll: (o) => log.subscribeToAll(o),
    };
    const timeline = [customerTimelineProjection];
    const plainStore = new SqliteReadModelStore(join(dir, 'plain.db'));
    stores.push(plainStore);
    const textStore = new SqliteReadModelStore(join(dir, 'text.db'));
    stores.push(textStore);
    const plain = runner(log, plainStore, timeline);
    const text = runner(withText, textStore, timeline);
    await plain.start();
    await text.start();
    expect(await plain.waitFor('customer_timelines', 6, WAIT_MS)).toBe(true);
    expect(await text.waitFor('customer_timelines', 6, WAIT_MS)).toBe(true);

    const entries = await allDocuments(textStore, timeline);
    expect(Object.values(entries).flat()).toHaveLength(6);
    expect(entries).toEqual(await allDocuments(plainStore, timeline));
    // The text store holds the feed's bytes (indented), not a serialisation of their parse.
    const raw = new Database(join(dir, 'text.db'), { readonly: true });
    try {
      const docs = raw.prepare(`SELECT doc FROM rm_${physicalCollection(customerTimelineProjection, TIMELINE_ENTRIES)}`).pluck().all() as string[];
      expect(docs.filter((d) => !/"data":\{\n {2}"/.test(d))).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('writes exactly the documents the projections compute from the same events, across batch boundaries', async () => {
    const store = openStore();
    await append(
      customerRegistered('2026-03-01T09:00:00.000Z', { name: 'Zoë Ångström', kind: 'prospect' }),
      ...contacts(3),
      followUpScheduled('2026-03-02T10:00:00.000Z'),
      complaintFiled(FILED_AT),
      slaBreached(P2_SLA.firstResponseDueAt, 'first-response', P2_SLA.firstResponseDueAt),
      complaintResponded('2026-03-02T14:00:00.000Z'),
      followUpCompleted('2026-03-02T15:00:00.000Z'),
      complaintResolved('2026-03-02T16:00:00.000Z'),
      purchaseRecorded('2026-03-03T10:00:00.000Z', money(1, 3)),
      purchaseRecorded('2026-03-02T10:00:00.000Z', money(255, 2), { orderId: 'order-2' }),
      returnRecorded('2026-03-04T10:00:00.000Z', money(1, 3)),
      // A purchase read against the policy in force, then re-valued by the next version, in other batches.
      loyaltyPolicyPublished('2026-03-04T11:00:00.000Z', { ...DEFAULT_LOYALTY_POLICY, version: 'loyalty-eur', rates: [{ currency: 'EUR', rate: '0.85', from: '2026-01-01' }] }),
      purchaseRecorded('2026-03-05T10:00:00.000Z', money(90000, 2, 'EUR'), { orderId: 'order-3' }),
      purchaseRecorded('2026-03-05T11:00:00.000Z', money(1000, 2, 'USD'), { orderId: 'order-4', customerId: 'cust-2' }),
      loyaltyPolicyPublished('2026-03-06T11:00:00.000Z', {
        ...DEFAULT_LOYALTY_POLICY, version: 'loyalty-usd', rates: [{ currency: 'EUR', rate: '0.85', from: '2026-01-01' }, { currency: 'USD', rate: '0.8', from: '2026-01-01' }],
      }, 'loyalty-eur'),
      purchaseRecorded('2026-03-06T12:00:00.000Z', money(2000, 2, 'USD'), { orderId: 'order-5' }),
      // A merge, so that the merges projection has a document to write too.
      customerRegistered('2026-03-07T09:00:00.000Z', { customerId: 'cust-3', name: 'Bo D.' }),
      ...customerMerge('2026-03-07T10:00:00.000Z', 'cust-2', 'cust-3'),
    );
    const head = await log.headPosition();
    const r = runner(log, store, ALL_PROJECTIONS, { ...FAST_POLL, batchSize: 4 });

    await r.start();
    for (const p of ALL_PROJECTIONS) expect(await r.waitFor(p.name, head, WAIT_MS)).toBe(true);

    const recorded = await log.readAll({});
    for (const p of ALL_PROJECTIONS) {
      const expected = project(p, recorded);
      for (const c of p.collections) {
        const stored = await store.find(physicalCollection(p, c.name), {});
        expect({ collection: c.name, docs: stored }).toEqual({ collection: c.name, docs: expected.all(c.name) });
        expect(stored.length).toBeGreaterThan(0);
      }
      expect(await store.getCheckpoint(checkpointName(p))).toMatchObject({ position: head });
    }
  });

  it('continues from the stored checkpoint after a restart without applying any event twice', async () => {
    const firstRun = countingProjection();
    await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(9));
    const before = runner(log, openStore(), [firstRun.projection], { ...FAST_POLL, batchSize: 3 });
    await before.start();
    expect(await before.waitFor('counting', 10, WAIT_MS)).toBe(true);
    await before.stop();
    await stores[0]?.close();

    await append(...contacts(5, 100));
    const secondRun = countingProjection();
    const batches: number[] = [];
    const store = openStore();
    const after = runner(log, store, [secondRun.projection], { ...FAST_POLL, batchSize: 3, onBatch: (_p, n) => batches.push(n) });
    await after.start();
    expect(after.checkpointOf('counting')).toBe(10);
    expect(await after.waitFor('counting', 15, WAIT_MS)).toBe(true);

    expect(await counterDoc(store, secondRun.projection)).toEqual({ _id: 'all', _position: 15, count: 15, lastEventId: 'e-15' });
    expect(firstRun.changesCalls()).toBe(10);
    expect(secondRun.changesCalls()).toBe(5);
    expect(batches).toEqual([3, 2]);
    expect(after.status()[0]).toMatchObject({ checkpoint: 15, eventsApplied: 5, status: 'live' });
  });

  it('leaves documents and checkpoint consistent when stopped mid catch-up, and a restart finishes the job exactly', async () => {
    const firstRun = countingProjection();
    await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(29));
    const store = openStore();
    const before = runner(log, store, [firstRun.projection], { ...FAST_POLL, batchSize: 2 });
    await before.start();
    await before.stop();

    const stoppedAt = (await store.getCheckpoint('counting@v1'))?.position ?? 0;
    expect(before.checkpointOf('counting')).toBe(stoppedAt);
    expect(before.status()[0]?.status).toBe('stopped');
    expect(Number((await counterDoc(store, firstRun.projection))?.['count'] ?? 0)).toBe(stoppedAt);

    const secondRun = countingProjection();
    const after = runner(log, store, [secondRun.projection], { ...FAST_POLL, batchSize: 2 });
    await after.start();
    expect(await after.waitFor('counting', 30, WAIT_MS)).toBe(true);
    expect(await counterDoc(store, secondRun.projection)).toEqual({ _id: 'all', _position: 30, count: 30, lastEventId: 'e-30' });
    expect(secondRun.changesCalls()).toBe(30 - stoppedAt);
  });

  it('rebuilds over existing documents when the checkpoints are lost, leaving every document exactly as it was', async () => {
    const store = openStore();
    await append(
      customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(2), followUpScheduled('2026-03-02T10:00:00.000Z'), complaintFiled(FILED_AT),
      slaBreached(P2_SLA.firstResponseDueAt, 'first-response', P2_SLA.firstResponseDueAt), complaintResponded('2026-03-02T14:00:00.000Z'),
      purchaseRecorded('2026-03-03T10:00:00.000Z', money(1, 3)), returnRecorded('2026-03-04T10:00:00.000Z', money(1, 3)),
    );
    const head = await log.headPosition();
    const first = runner(log, store, ALL_PROJECTIONS, { ...FAST_POLL, batchSize: 4 });
    await first.start();
    for (const p of ALL_PROJECTIONS) expect(await first.waitFor(p.name, head, WAIT_MS)).toBe(true);
    await first.stop();
    const built = await allDocuments(store, ALL_PROJECTIONS);

    for (const p of ALL_PROJECTIONS) await store.deleteCheckpoint(checkpointName(p));
    const replay = runner(log, store, ALL_PROJECTIONS, { ...FAST_POLL, batchSize: 3 });
    await replay.start();
    for (const p of ALL_PROJECTIONS) expect(await replay.waitFor(p.name, head, WAIT_MS)).toBe(true);

    expect(await allDocuments(store, ALL_PROJECTIONS)).toEqual(built);
  });

  describe('secondary indexes of a build that is not ready yet', () => {
    /** Records which indexes each collection was given, in order. */
    class IndexRecordingStore extends SqliteReadModelStore {
      readonly calls: Array<{ collection: string; indexes: string[] }> = [];
      override async ensureCollection(...[collection, indexes]: Parameters<SqliteReadModelStore['ensureCollection']>): Promise<void> {
        this.calls.push({ collection, indexes: indexes.map((i) => `${i.unique ? 'unique:' : ''}${i.fields.map(([f]) => f).join('+')}`) });
        await super.ensureCollection(collection, indexes);
      }
    }
    const indexed: Projection = {
      name: 'indexed',
      version: 1,
      eventTypes: ALL_TYPES,
      collections: [{ name: 'indexed_docs', indexes: [{ fields: [['customerId', 1]] }, { fields: [['eventId', 1]], unique: true }] }],
      changes: (event) => [{ collection: 'indexed_docs', id: event.eventId, evolve: () => ({ customerId: (event.data as { customerId?: string }).customerId ?? null, eventId: event.eventId }) }],
    };

    it('writes the catch-up without them, creates them before the build is marked ready, and has them from the start once ready', async () => {
      const store = new IndexRecordingStore(join(dir, 'read-models.db'));
      stores.push(store);
      const last = await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(5));
      const r = runner(log, store, [indexed], { ...FAST_POLL, batchSize: 2 });
      await r.start();
      expect(await r.waitFor('indexed', last, WAIT_MS)).toBe(true);
      await r.stop();

      expect(store.calls).toEqual([
        { collection: 'indexed_docs_v1', indexes: ['unique:eventId'] },
        { collection: 'indexed_docs_v1', indexes: ['customerId', 'unique:eventId'] },
      ]);
      expect(await store.getCheckpoint('ready:indexed@v1')).not.toBeNull();
      expect(await store.count('indexed_docs_v1', { customerId: 'cust-1' })).toBe(6);

      store.calls.length = 0;
      const again = runner(log, store, [indexed], FAST_POLL);
      await again.start();
      expect(store.calls).toEqual([{ collection: 'indexed_docs_v1', indexes: ['customerId', 'unique:eventId'] }]);
    });
  });

  it('reads the shared window with the event types its projections want, and nothing else', async () => {
    const requested: Array<readonly string[] | undefined> = [];
    const feed: EventFeed = {
      readAll: (options) => {
        requested.push(options.eventTypes);
        return log.readAll(options);
      },
      headPosition: () => log.headPosition(),
      subscribeToAll: (options) => log.subscribeToAll(options),
    };
    const last = await append(customerRegistered('2026-03-01T09:00:00.000Z'), purchaseRecorded('2026-03-02T09:00:00.000Z', money(1000, 2)), ...contacts(2));
    const store = openStore();
    const r = runner(feed, store, [followUpsProjection], FAST_POLL);
    await r.start();
    expect(await r.waitFor(followUpsProjection.name, last, WAIT_MS)).toBe(true);

    expect(requested.length).toBeGreaterThan(0);
    for (const types of requested) expect([...(types ?? [])].sort()).toEqual([...followUpsProjection.eventTypes].sort());
  });

  describe('an event store outage', () => {
    it('marks the projection paused (not failed), retries with a backoff, and resumes by itself with every event once', async () => {
      const { projection, changesCalls } = countingProjection();
      let down = false;
      let attempts = 0;
      const attemptTimes: number[] = [];
      const feed: EventFeed = {
        readAll: (options) => (down ? Promise.reject(new Error('connect ECONNREFUSED 9q4z')) : log.readAll(options)),
        headPosition: () => {
          if (!down) return log.headPosition();
          attempts += 1;
          attemptTimes.push(performance.now());
          return Promise.reject(new Error('connect ECONNREFUSED 9q4z'));
        },
        subscribeToAll: (options) => log.subscribeToAll(options),
      };
      await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(2));
      const r = runner(feed, openStore(), [projection], { idlePollMs: 5, storeRetry: { initialDelayMs: 10, maxDelayMs: 80 } });
      await r.start();
      expect(await r.waitFor('counting', 3, WAIT_MS)).toBe(true);

      down = true;
      await append(...contacts(3));
      const waitUntil = async (predicate: () => boolean): Promise<void> => {
        const deadline = Date.now() + WAIT_MS;
        while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      };
      await waitUntil(() => attempts >= 1);
      const firstFailure = Date.now();
      await waitUntil(() => r.status()[0]?.status === 'paused');
      expect(r.status()[0]).toMatchObject({ status: 'paused', checkpoint: 3, lastError: { message: 'connect ECONNREFUSED 9q4z', eventType: '' } });
      // Backoff: the 5th attempt comes at least 10 + 20 + 40 + 80 ms after the 1st (timers never fire early), where
      // the 5 ms idle poll would have made it within about 20 ms.
      // Appends go on meanwhile (the log answers the subscription, the worker's reads fail): they do not cut it short.
      let more = 0;
      while (attempts < 5 && Date.now() - firstFailure < WAIT_MS) {
        await append(...contacts(1));
        more += 1;
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      // Measured between the attempts themselves (polling for them added up to a few ms of error either way), less a
      // millisecond per timer for Node's timer rounding: still far above the ~20 ms that polling every 5 ms would give.
      expect(attemptTimes[4]! - attemptTimes[0]!).toBeGreaterThanOrEqual(150 - 4);
      expect(r.status()[0]?.status).toBe('paused');
      const last = await append(...contacts(1));

      down = false;
      expect(await r.waitFor('counting', last, WAIT_MS)).toBe(true);
      expect(r.status()[0]).toMatchObject({ status: 'live', checkpoint: last, lastError: null, eventsApplied: 7 + more });
      expect(changesCalls()).toBe(7 + more);
    });
  });

  describe('a read-model store that fails a batch', () => {
    it('retries from the same checkpoint when nothing was written, and applies every event once', async () => {
      const { projection, changesCalls } = countingProjection();
      const store = openFlakyStore(2, 'before-writing');
      await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(9));
      const r = runner(log, store, [projection], { ...COMMIT_EVERY_PAGE, batchSize: 3 });

      await r.start();
      expect(await r.waitFor('counting', 10, WAIT_MS)).toBe(true);

      expect(await counterDoc(store, projection)).toEqual({ _id: 'all', _position: 10, count: 10, lastEventId: 'e-10' });
      expect(changesCalls()).toBe(13);
      // A store error that has passed is cleared once a batch succeeds: a recovered projection shows no error.
      expect(r.status()).toEqual([{ name: 'counting', version: 1, checkpoint: 10, status: 'live', eventsApplied: 10, lastError: null, serving: { version: 1, generation: 0 }, rebuild: null }]);
    });

    it('skips, per document, what a batch whose checkpoint was lost had already written', async () => {
      const { projection, changesCalls } = countingProjection();
      const store = openFlakyStore(2, 'after-documents');
      await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(9));
      const r = runner(log, store, [projection], { ...COMMIT_EVERY_PAGE, batchSize: 3 });

      await r.start();
      expect(await r.waitFor('counting', 10, WAIT_MS)).toBe(true);

      expect(await counterDoc(store, projection)).toEqual({ _id: 'all', _position: 10, count: 10, lastEventId: 'e-10' });
      expect(await store.getCheckpoint('counting@v1')).toMatchObject({ position: 10 });
      // Events 4–6 were read twice; their second reading changed no document, and only the batch that committed counts.
      expect(changesCalls()).toBe(13);
      expect(r.status()[0]).toMatchObject({ checkpoint: 10, status: 'live', eventsApplied: 10 });
    });

    it('keeps a replaced document that is newer than the replayed event, without reading it first', async () => {
      const store = openFlakyStore(2, 'after-documents');
      const reads: string[] = [];
      const getMany = store.getMany.bind(store);
      store.getMany = (collection, ids) => {
        reads.push(collection);
        return getMany(collection, ids);
      };
      // Events 3 and 4 both replace `latest`: the batch [3, 4] lands, its checkpoint does not, and is replayed.
      await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(3));
      const r = runner(log, store, [LATEST_EVENT], { ...FAST_POLL, batchSize: 2 });

      await r.start();
      expect(await r.waitFor(LATEST_EVENT.name, 4, WAIT_MS)).toBe(true);

      expect(await store.get(physicalCollection(LATEST_EVENT, LATEST), 'latest')).toEqual({ _id: 'latest', _position: 4, eventId: 'e-4' });
      expect(await store.getCheckpoint(checkpointName(LATEST_EVENT))).toMatchObject({ position: 4 });
      expect(reads).toEqual([]);
    });
  });

  describe('a build that serves no queries yet carries its documents from page to page', () => {
    /** The positions of the checkpoint `name` as the store was asked to commit them. */
    function commitsOf(store: SqliteReadModelStore, name: string): number[] {
      const positions: number[] = [];
      const applyBatch = store.applyBatch.bind(store);
      store.applyBatch = async (writes, checkpoint) => {
        await applyBatch(writes, checkpoint);
        if (checkpoint.projection === name) positions.push(checkpoint.position);
      };
      return positions;
    }

    it('given pages that rewrite one document, when the first build catches up, then it commits once, at the head, and every page once it serves', async () => {
      const { projection, changesCalls } = countingProjection();
      const store = openStore();
      const commits = commitsOf(store, 'counting@v1');
      await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(9));
      const r = runner(log, store, [projection], { ...FAST_POLL, batchSize: 3 });

      await r.start();
      expect(await r.waitFor('counting', 10, WAIT_MS)).toBe(true);

      expect(commits).toEqual([10]);
      expect(changesCalls()).toBe(10);
      expect(await counterDoc(store, projection)).toEqual({ _id: 'all', _position: 10, count: 10, lastEventId: 'e-10' });
      expect(r.status()[0]).toMatchObject({ checkpoint: 10, status: 'live', eventsApplied: 10 });
      // Ready now: a page of live appends is committed at once.
      const next = await appendTogether('customer-c-1', contacts(2, 20));
      expect(await r.waitFor('counting', next, WAIT_MS)).toBe(true);
      expect(commits).toEqual([10, next]);
    });

    it('given a carry limit of five documents, when pages of three events write four documents each, then every second page commits', async () => {
      const seen = poisonedProjection('seeing', -1, 'evolve');
      const store = openStore();
      const commits = commitsOf(store, 'seeing@v1');
      await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(9));
      const r = runner(log, store, [seen], { ...FAST_POLL, batchSize: 3, carry: { maxDocuments: 5, maxMs: 60_000 } });

      await r.start();
      expect(await r.waitFor('seeing', 10, WAIT_MS)).toBe(true);

      // Pages 1–3 and 4–6 carry the counter and six `seen` documents past the limit at 6; 7–9 is carried, 10 is the head.
      expect(commits).toEqual([6, 10]);
      expect(await store.get(physicalCollection(seen, POISON_COUNTERS), 'all')).toEqual({ _id: 'all', _position: 10, count: 10 });
      expect(await store.count(physicalCollection(seen, SEEN), {})).toBe(10);
    });

    it.each(['before-writing', 'after-documents'] as const)(
      'given a store that fails the commit of a carry (%s), when the build retries, then it reads again from its checkpoint and counts every event once',
      async (mode) => {
        const { projection, changesCalls } = countingProjection();
        const store = openFlakyStore(1, mode);
        await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(9));
        const r = runner(log, store, [projection], { ...FAST_POLL, batchSize: 3, storeRetry: { initialDelayMs: 1 } });

        await r.start();
        expect(await r.waitFor('counting', 10, WAIT_MS)).toBe(true);

        expect(await counterDoc(store, projection)).toEqual({ _id: 'all', _position: 10, count: 10, lastEventId: 'e-10' });
        expect(await store.getCheckpoint('counting@v1')).toMatchObject({ position: 10 });
        // The whole log was read twice: the carry was dropped with the failed commit. The second reading changed the
        // document only where the first had not landed (after-documents: it had, at position 10).
        expect(changesCalls()).toBe(20);
        expect(r.status()[0]).toMatchObject({ checkpoint: 10, status: 'live', eventsApplied: 10, lastError: null });
      },
    );

    it('given a build stopped between two pages, when it stops, then it commits what it carried', async () => {
      const { projection } = countingProjection();
      const store = openStore();
      await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(9));
      let stopping: Promise<void> | undefined;
      const r = runner(log, store, [projection], {
        ...FAST_POLL, batchSize: 3,
        onBatch: () => {
          stopping ??= r.stop();
        },
      });

      await r.start();
      await waitUntilDefined(() => stopping);
      await stopping;

      expect(await store.getCheckpoint('counting@v1')).toMatchObject({ position: 3 });
      expect(await counterDoc(store, projection)).toEqual({ _id: 'all', _position: 3, count: 3, lastEventId: 'e-3' });
      expect(r.status()[0]).toMatchObject({ checkpoint: 3, status: 'stopped', eventsApplied: 3 });
    });
  });

  describe('a projection that throws on an event', () => {
    it.each(['changes', 'evolve'] as const)('stops alone (thrown from %s), with everything before that event applied, while another goes on to the head', async (where) => {
      const store = openStore();
      await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(2), complaintFiled(FILED_AT), ...contacts(2, 10));
      const poisoned = poisonedProjection('poisoned', 5, where);
      const healthy = countingProjection('healthy');
      const r = runner(log, store, [poisoned, healthy.projection], { ...FAST_POLL, batchSize: 3 });

      await r.start();
      // Asked before the failure happens, with a timeout far beyond the test's: it must return because of the failure.
      const waitingForPoisoned = r.waitFor('poisoned', 6, 600_000);
      expect(await r.waitFor('healthy', 6, WAIT_MS)).toBe(true);
      expect(await waitingForPoisoned).toBe(false);

      expect(r.status()[0]).toMatchObject({ name: 'poisoned', checkpoint: 4, status: 'failed', eventsApplied: 4 });
      expect(await store.getCheckpoint('poisoned@v1')).toMatchObject({ position: 4 });
      // Event 4 came in the same batch as the poisoned event 5 (batches 1–3, 4–6) and is applied; nothing of event 5 is.
      expect(await store.find(physicalCollection(poisoned, SEEN), {})).toEqual([
        { _id: 'e-1', _position: 1, type: 'CustomerRegistered' },
        { _id: 'e-2', _position: 2, type: 'ContactLogged' },
        { _id: 'e-3', _position: 3, type: 'ContactLogged' },
        { _id: 'e-4', _position: 4, type: 'ComplaintFiled' },
      ]);
      expect(await store.get(physicalCollection(poisoned, POISON_COUNTERS), 'all')).toEqual({ _id: 'all', _position: 4, count: 4 });

      const next = await append(ownerAssigned('2026-03-03T09:00:00.000Z'));
      expect(await r.waitFor('healthy', next, WAIT_MS)).toBe(true);
      expect(await r.waitFor('poisoned', 4, WAIT_MS)).toBe(true);
      expect(await r.waitFor('poisoned', next, WAIT_MS)).toBe(false);
      // Read after the healthy worker's own wake-up (the failed one notifies nobody any more), so `live` is settled.
      expect(r.status()).toEqual([
        {
          name: 'poisoned', version: 1, checkpoint: 4, status: 'failed', eventsApplied: 4, serving: { version: 1, generation: 0 }, rebuild: null,
          lastError: { message: `cannot ${where === 'changes' ? 'read' : 'apply'} event 5`, position: 5, eventType: 'ContactLogged' },
        },
        { name: 'healthy', version: 1, checkpoint: 7, status: 'live', lastError: null, eventsApplied: 7, serving: { version: 1, generation: 0 }, rebuild: null },
      ]);

      await r.stop();
      expect(r.status().map((s) => s.status)).toEqual(['failed', 'stopped']);
    });
  });

  describe('waitFor', () => {
    it('returns false when the position is not reached in time, and true at once for a position already applied', async () => {
      const { projection } = countingProjection();
      await append(customerRegistered('2026-03-01T09:00:00.000Z'));
      const r = runner(log, openStore(), [projection]);
      await r.start();
      expect(await r.waitFor('counting', 1, WAIT_MS)).toBe(true);

      expect(await r.waitFor('counting', 2, 30)).toBe(false);
      expect(await r.waitFor('counting', 1, 0)).toBe(true);
      expect(await r.waitFor('counting', 0, 0)).toBe(true);
    });

    it('refuses a projection it does not run', async () => {
      const r = runner(log, openStore(), [countingProjection().projection]);
      await expect(r.waitFor('no-such-projection', 1, 10)).rejects.toThrow('unknown projection no-such-projection');
    });
  });

  it('moves the checkpoint past events of types the projection does not handle, so waits on unrelated writes return', async () => {
    const store = openStore();
    await append(
      followUpScheduled('2026-03-02T09:00:00.000Z', { followUpId: 'fu-1' }),
      followUpScheduled('2026-03-02T09:01:00.000Z', { followUpId: 'fu-2' }),
      ...contacts(3),
    );
    const r = runner(log, store, [followUpsProjection], { ...FAST_POLL, batchSize: 2 });
    await r.start();

    expect(await r.waitFor('follow_ups', 5, WAIT_MS)).toBe(true);
    expect(r.status()[0]).toMatchObject({ checkpoint: 5, eventsApplied: 2 });
    expect(await store.getCheckpoint('follow_ups@v1')).toMatchObject({ position: 5 });

    const unrelated = await append(customerRegistered('2026-03-03T09:00:00.000Z'), purchaseRecorded('2026-03-03T10:00:00.000Z', money(100, 2)));
    expect(await r.waitFor('follow_ups', unrelated, WAIT_MS)).toBe(true);
    expect(await store.getCheckpoint('follow_ups@v1')).toMatchObject({ position: 7 });
    expect((await store.find(physicalCollection(followUpsProjection, FOLLOW_UPS), {})).map((d) => [d._id, d._position])).toEqual([['fu-1', 1], ['fu-2', 2]]);
  });

  it('writes the checkpoint moves of projections that had nothing to apply together, in one write', async () => {
    class CountingStore extends SqliteReadModelStore {
      readonly moves: string[][] = [];
      batches = 0;
      override async saveCheckpoints(...[checkpoints]: Parameters<SqliteReadModelStore['saveCheckpoints']>): Promise<void> {
        this.moves.push(checkpoints.map((c) => `${c.projection}=${c.position}`).sort());
        await super.saveCheckpoints(checkpoints);
      }
      override async applyBatch(...args: Parameters<SqliteReadModelStore['applyBatch']>): Promise<void> {
        this.batches += 1;
        await super.applyBatch(...args);
      }
    }
    const store = new CountingStore(join(dir, 'read-models.db'));
    stores.push(store);
    const uninterested = ['a', 'b', 'c'].map((name): Projection => ({ ...followUpsProjection, name }));
    const first = await append(customerRegistered('2026-03-01T09:00:00.000Z'));
    const r = runner(log, store, uninterested, { idlePollMs: 60_000 });
    await r.start();
    for (const p of uninterested) expect(await r.waitFor(p.name, first, WAIT_MS)).toBe(true);
    store.moves.length = 0;
    store.batches = 0; // the first catch-up wrote the ready markers

    const next = await append(...contacts(1));
    for (const p of uninterested) expect(await r.waitFor(p.name, next, WAIT_MS)).toBe(true);

    expect(store.moves).toEqual([[`a@v1=${next}`, `b@v1=${next}`, `c@v1=${next}`]]);
    for (const p of uninterested) expect(await store.getCheckpoint(`${p.name}@v1`)).toMatchObject({ position: next });
    expect(store.batches).toBe(0);
  });

  it('stops cleanly: every worker and the subscription end, later appends are not applied and waits return false', async () => {
    const { projection, changesCalls } = countingProjection();
    const store = openStore();
    await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(2));
    const r = runner(log, store, [projection, followUpsProjection]);
    await r.start();
    expect(await r.waitFor('counting', 3, WAIT_MS)).toBe(true);
    expect(await r.waitFor('follow_ups', 3, WAIT_MS)).toBe(true);

    await r.stop();
    await append(...contacts(1, 100));

    expect(r.status().map((s) => [s.name, s.status, s.checkpoint])).toEqual([['counting', 'stopped', 3], ['follow_ups', 'stopped', 3]]);
    expect(await r.waitFor('counting', 4, WAIT_MS)).toBe(false);
    expect(changesCalls()).toBe(3);
    expect(await store.getCheckpoint('counting@v1')).toMatchObject({ position: 3 });
    await r.stop();
  });

  // -------------------------------------------------------------------------------------------------------------
  // The append signal is edge-triggered: a wake that arrives while a worker is between reading a page and going idle
  // is lost, and the worker waits for the fallback poll (RunnerOptions.idlePollMs, 1 s in production) instead.
  // -------------------------------------------------------------------------------------------------------------

  describe('wake-ups that arrive while a worker is busy', () => {
    it('applies an append signalled while the worker was reading, without waiting for the fallback poll', async () => {
      const { projection } = countingProjection();
      const feed = new HookedFeed(log);
      await append(customerRegistered('2026-03-01T09:00:00.000Z'));
      const r = runner(feed, openStore(), [projection], { idlePollMs: 60_000 });
      await r.start();
      expect(await r.waitFor('counting', 1, WAIT_MS)).toBe(true);

      // The worker reads page [2]; before that read returns, event 3 is appended and its signal fully handled.
      feed.afterNextRead = async () => {
        const third = await append(...contacts(1, 200));
        await feed.signalHandled(third);
      };
      await append(...contacts(1, 100));

      expect(await r.waitFor('counting', 2, WAIT_MS)).toBe(true);
      // Fails today: event 3 waits for the 60 s poll although its append was signalled.
      expect(await r.waitFor('counting', 3, 1_000)).toBe(true);
    });

    it('a waitFor pending when the runner stops returns false at once, not at its timeout', async () => {
      const { projection } = countingProjection();
      await append(customerRegistered('2026-03-01T09:00:00.000Z'));
      const r = runner(log, openStore(), [projection]);
      await r.start();
      expect(await r.waitFor('counting', 1, WAIT_MS)).toBe(true);

      const waiting = r.waitFor('counting', 2, 1_500);
      await r.stop();

      try {
        // Fails today: stop() wakes the workers but not the position waiters, so this resolves at its 1.5 s timeout.
        expect(await settlesWithin(waiting, 500)).toBe(true);
      } finally {
        expect(await waiting).toBe(false);
      }
    });

    it('stop() returns promptly when called while a worker is reading', async () => {
      const { projection } = countingProjection();
      const feed = new HookedFeed(log);
      await append(customerRegistered('2026-03-01T09:00:00.000Z'));
      const r = runner(feed, openStore(), [projection], { idlePollMs: 60_000 });
      await r.start();
      expect(await r.waitFor('counting', 1, WAIT_MS)).toBe(true);

      let stopping: Promise<void> | undefined;
      const read = new Promise<void>((resolve) => {
        feed.afterNextRead = async () => {
          stopping = r.stop();
          resolve();
        };
      });
      await append(...contacts(1, 100));
      await read;

      // Fails today: the worker goes idle for the 60 s poll after the read instead of seeing `stopped`.
      expect(await settlesWithin(stopping, 1_000)).toBe(true);
    });
  });
  // -------------------------------------------------------------------------------------------------------------
  // Live tail under a stream of appends (RunnerOptions.liveCoalesceMs): one wake per interval, not one per append.
  // -------------------------------------------------------------------------------------------------------------

  describe('appends coalesced into one wake (liveCoalesceMs)', () => {
    it('applies a stream of appends in a few batches, skipping none, within the coalescing delay', async () => {
      const coalesceMs = 300;
      const { projection, changesCalls } = countingProjection();
      const batches: number[] = [];
      const store = openStore();
      await append(customerRegistered('2026-03-01T09:00:00.000Z'));
      const r = runner(log, store, [projection], { idlePollMs: 60_000, liveCoalesceMs: coalesceMs, onBatch: (_p, events) => batches.push(events) });
      await r.start();
      expect(await r.waitFor('counting', 1, WAIT_MS)).toBe(true);
      batches.length = 0;

      // A stream of appends 5 ms apart (200/s): the load shape, not a wait for an outcome.
      const started = performance.now();
      let last = 0;
      for (const fact of contacts(20)) {
        last = await append(fact);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const appendedWithinMs = performance.now() - started;
      expect(await r.waitFor('counting', last, WAIT_MS)).toBe(true);
      const appliedAfterMs = performance.now() - started;

      // One wake at once (the first append after a quiet spell), then one per interval the appends spanned. Without
      // coalescing each append woke the worker and it applied ~one event per batch.
      expect(batches.length).toBeLessThanOrEqual(2 + Math.floor(appendedWithinMs / coalesceMs));
      expect(batches.reduce((a, b) => a + b, 0)).toBe(20);
      // The delay is bounded by the interval (the 60 s poll never had to pick anything up).
      expect(appliedAfterMs).toBeLessThan(appendedWithinMs + coalesceMs + 2_000);
      expect(await counterDoc(store, projection)).toEqual({ _id: 'all', _position: last, count: 21, lastEventId: `e-${last}` });
      expect(changesCalls()).toBe(21);
    });

    it('reads the head of the log once per wake for all its projections, not once per projection', async () => {
      let headReads = 0;
      const feed: EventFeed = {
        readAll: (options) => log.readAll(options),
        headPosition: () => {
          headReads += 1;
          return log.headPosition();
        },
        subscribeToAll: (options) => log.subscribeToAll(options),
      };
      const projections = [countingProjection().projection, ...['a', 'b', 'c', 'd'].map((name): Projection => ({ ...followUpsProjection, name }))];
      await append(customerRegistered('2026-03-01T09:00:00.000Z'));
      const r = runner(feed, openStore(), projections, { idlePollMs: 60_000 });
      await r.start();
      for (const p of projections) expect(await r.waitFor(p.name, 1, WAIT_MS)).toBe(true);
      headReads = 0;

      const next = await append(...contacts(1));
      for (const p of projections) expect(await r.waitFor(p.name, next, WAIT_MS)).toBe(true);

      // One for the five workers, one for the shared window's read of the new event (five before: one per worker).
      expect(headReads).toBeLessThanOrEqual(2);
    });

    it('a stop while a coalesced wake is pending returns at once and loses nothing: the next start applies it', async () => {
      const first = countingProjection();
      const store = openStore();
      await append(customerRegistered('2026-03-01T09:00:00.000Z'));
      const r = runner(log, store, [first.projection], { idlePollMs: 60_000, liveCoalesceMs: 60_000 });
      await r.start();
      expect(await r.waitFor('counting', 1, WAIT_MS)).toBe(true);
      // The first append after a quiet spell wakes at once; the next one within the minute waits for its wake.
      expect(await r.waitFor('counting', await append(...contacts(1)), WAIT_MS)).toBe(true);
      const pending = await append(...contacts(1, 100));
      expect(await r.waitFor('counting', pending, 300)).toBe(false);

      expect(await settlesWithin(r.stop(), 1_000)).toBe(true);
      expect(await store.getCheckpoint('counting@v1')).toMatchObject({ position: pending - 1 });

      const second = countingProjection();
      const again = runner(log, store, [second.projection]);
      await again.start();
      expect(await again.waitFor('counting', pending, WAIT_MS)).toBe(true);
      expect(await counterDoc(store, second.projection)).toEqual({ _id: 'all', _position: pending, count: 3, lastEventId: `e-${pending}` });
      expect(second.changesCalls()).toBe(1);
    });
  });
});

/** True when `promise` settles within `ms`; clears its timer either way. */
async function settlesWithin(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([Promise.resolve(promise).then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The in-memory log as the runner's feed, with two hooks to force a race deterministically: `afterNextRead` runs
 * once after the next `readAll` has read its page and before the runner gets it, and `signalHandled(position)`
 * resolves once the runner's subscription loop has handled the event at `position` (it asks for the next event).
 */
class HookedFeed implements EventFeed {
  afterNextRead: (() => Promise<void>) | undefined;
  private handled = 0;
  private readonly handledWaiters = new Set<() => void>();

  constructor(private readonly inner: InMemoryEventStore) {}

  async readAll(options: { fromPosition?: number; maxCount?: number; eventTypes?: readonly string[] }): Promise<ProjectedEvent[]> {
    const page = await this.inner.readAll(options);
    const hook = this.afterNextRead;
    this.afterNextRead = undefined;
    if (hook) await hook();
    return page;
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  subscribeToAll(options: { fromPosition?: number }): AsyncIterable<ProjectedEvent> & { close(): Promise<void> } {
    const subscription = this.inner.subscribeToAll(options);
    const iterator = subscription[Symbol.asyncIterator]();
    let last = 0;
    const next = async (): Promise<IteratorResult<ProjectedEvent>> => {
      // Asking for the next event means the loop body for the previous one has run.
      this.handled = last;
      for (const wake of [...this.handledWaiters]) wake();
      const result = await iterator.next();
      if (!result.done) last = result.value.position;
      return result;
    };
    return {
      [Symbol.asyncIterator]: () => ({ next, return: async () => { await subscription.close(); return { done: true, value: undefined }; } }),
      close: () => subscription.close(),
    };
  }

  signalHandled(position: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.handled < position) return;
        this.handledWaiters.delete(check);
        resolve();
      };
      this.handledWaiters.add(check);
      check();
    });
  }
}

describe('ProjectionRunner with leases (projector replicas)', () => {
  it('runs only the projections it is given, each with its lease\'s fence on every write, until it is told to stop one', async () => {
    const a = countingProjection('leased_a').projection;
    const b = countingProjection('leased_b').projection;
    const store = openStore();
    await append(customerRegistered('2026-03-01T09:00:00.000Z'), ...contacts(3));
    const r = runner(log, store, [a, b]);
    await r.start([]);
    expect(r.status()).toEqual([]);
    await r.startProjection('leased_a', 7);
    expect(await r.waitFor('leased_a', 4, WAIT_MS)).toBe(true);
    expect(r.running()).toEqual(['leased_a']);
    expect(r.status().map((s) => s.name)).toEqual(['leased_a']);
    expect(await store.getCheckpoint(checkpointName(a))).toMatchObject({ position: 4, fence: 7 });
    expect(await store.getCheckpoint(checkpointName(b))).toBeNull();
    await expect(r.rebuild('leased_b')).rejects.toThrow('leased_b runs on another projector replica');

    await r.stopProjection('leased_a');
    expect(r.running()).toEqual([]);
    expect(r.checkpointOf('leased_a')).toBeUndefined();
    await append(...contacts(1, 50));
    await r.startProjection('leased_b', 1);
    expect(await r.waitFor('leased_b', 5, WAIT_MS)).toBe(true);
    expect(await store.getCheckpoint(checkpointName(a))).toMatchObject({ position: 4 }); // not advanced once stopped
  });

  it('stops only the fenced-off projection when a newer lease holder has written it, and says so', async () => {
    const a = countingProjection('fenced_a').projection;
    const b = countingProjection('fenced_b').projection;
    const store = openStore();
    await append(customerRegistered('2026-03-01T09:00:00.000Z'));
    const fenced: string[] = [];
    const r = runner(log, store, [a, b], { ...FAST_POLL, onFencedOff: (name) => fenced.push(name) });
    await r.start([]);
    await r.startProjection('fenced_a', 1);
    await r.startProjection('fenced_b', 1);
    expect(await r.waitFor('fenced_a', 1, WAIT_MS)).toBe(true);
    // Another replica took fenced_a over (token 2) and wrote its checkpoint.
    await store.applyBatch([], { projection: checkpointName(a), position: 1, fence: 2 });
    const next = await append(...contacts(2));
    expect(await r.waitFor('fenced_b', next, WAIT_MS)).toBe(true);
    // Waits on the condition asserted (the worker reads, is refused, stops), bounded.
    for (const deadline = Date.now() + WAIT_MS; fenced.length === 0 && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(fenced).toEqual(['fenced_a']);
    const status = r.status().find((s) => s.name === 'fenced_a');
    expect(status).toMatchObject({ status: 'stopped', checkpoint: 1 });
    expect(status?.lastError?.message).toMatch(/fenced off/);
    // Nothing of the refused batch was written (SQLite: documents and checkpoint in one transaction).
    expect(await store.getCheckpoint(checkpointName(a))).toMatchObject({ position: 1, fence: 2 });
    expect(await store.getCheckpoint(checkpointName(b))).toMatchObject({ position: next, fence: 1 });
  });
});

import { join } from 'node:path';
import { InMemoryEventStore, type PersonalFieldSelection, type ReadAllOptions, type RecordedEvent } from '@crm/event-store';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { makeTempDir } from '../../../../test/support/temp-dir';
import { contactLogged, customerRegistered, toAppend } from '../../test-support/project';
import { physicalCollection, type DocumentChange, type ProjectedEvent, type Projection } from '../projection/projection';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import type { EventFeed } from './event-feed';
import { ProjectionRunner } from './projection-runner';

/*
 * A sealing feed over the in-memory log: a sealed read returns each ContactLogged summary as `sealed:<summary>`, and
 * openSealed turns it back, counting the events it opened. Stands in for the EncryptingEventStore (AES-GCM per field,
 * tested in libs/runtime/src/personal-data-encryption.spec.ts); what is tested here is who gets which.
 */
class SealingFeed implements EventFeed {
  opened = 0;
  sealedReads = 0;
  constructor(private readonly log: InMemoryEventStore) {}

  async readAll(options: ReadAllOptions): Promise<ProjectedEvent[]> {
    const events = await this.log.readAll(options);
    if (!options.sealed) return events;
    this.sealedReads += 1;
    return events.map((e) => (e.type === 'ContactLogged' ? { ...e, data: { ...(e.data as object), summary: `sealed:${summaryOf(e)}` } } : e));
  }

  /** The `only` of each openSealed call. */
  readonly selections: Array<PersonalFieldSelection | undefined> = [];

  openSealed(events: readonly ProjectedEvent[], only?: PersonalFieldSelection): Promise<ProjectedEvent[]> {
    this.opened += events.length;
    this.selections.push(only);
    return Promise.resolve(events.map((e) => (e.type === 'ContactLogged' ? { ...e, data: { ...(e.data as object), summary: summaryOf(e).replace(/^sealed:/, '') } } : e)));
  }

  headPosition(): Promise<number> {
    return this.log.headPosition();
  }

  subscribeToAll(options: { fromPosition?: number }): ReturnType<EventFeed['subscribeToAll']> {
    return this.log.subscribeToAll(options);
  }
}

function summaryOf(e: RecordedEvent | ProjectedEvent): string {
  return String((e.data as { summary?: unknown }).summary);
}

/** Keeps the last contact summary it was given, per projection. */
function summaryProjection(name: string, sealed: boolean, opens?: Projection['opens']): Projection {
  return {
    name,
    version: 1,
    ...(sealed ? { sealed: true as const } : {}),
    ...(opens ? { opens } : {}),
    eventTypes: ['ContactLogged'],
    collections: [{ name: `${name}_last`, indexes: [] }],
    changes: (event: ProjectedEvent): DocumentChange[] => [{
      collection: `${name}_last`, id: 'last', replaces: true, evolve: () => ({ summary: summaryOf(event) }),
    }],
  };
}

let temp: ReturnType<typeof makeTempDir>;
let log: InMemoryEventStore;
let store: SqliteReadModelStore;
let runner: ProjectionRunner | undefined;

beforeEach(() => {
  temp = makeTempDir('crm-sealed-reads-');
  log = new InMemoryEventStore(() => new Date('2026-03-01T00:00:00.000Z'));
  store = new SqliteReadModelStore(join(temp.dir, 'read-models.db'));
});

afterEach(async () => {
  await runner?.stop();
  runner = undefined;
  await store.close();
  await log.close();
  temp.remove();
});

async function append(...facts: ReturnType<typeof contactLogged>[]): Promise<number> {
  let position = 0;
  for (const [i, fact] of facts.entries()) position = (await log.appendToStream(fact.streamId, [toAppend(fact, `e-${i}`)])).position;
  return position;
}

describe('sealed reads (Projection.sealed)', () => {
  it('gives a sealed projection the events as stored and the others opened, each event opened once for all of them', async () => {
    const head = await append(
      customerRegistered('2026-03-01T09:00:00.000Z'),
      contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1', summary: 'first call 6182' }),
      contactLogged('2026-03-01T11:00:00.000Z', { contactId: 'c-2', summary: 'second call 6183' }),
    );
    const feed = new SealingFeed(log);
    const sealed = summaryProjection('sealed_one', true);
    const openA = summaryProjection('open_a', false);
    const openB = summaryProjection('open_b', false);
    runner = new ProjectionRunner(feed, store, [sealed, openA, openB], { idlePollMs: 20 });
    await runner.start();
    for (const p of [sealed, openA, openB]) expect(await runner.waitFor(p.name, head, 5_000)).toBe(true);

    expect(feed.sealedReads).toBeGreaterThan(0);
    expect((await store.get(physicalCollection(sealed, 'sealed_one_last'), 'last'))?.['summary']).toBe('sealed:second call 6183');
    expect((await store.get(physicalCollection(openA, 'open_a_last'), 'last'))?.['summary']).toBe('second call 6183');
    expect((await store.get(physicalCollection(openB, 'open_b_last'), 'last'))?.['summary']).toBe('second call 6183');
    expect(feed.opened).toBe(2);
  });

  it('reads the log opened, as before, when no projection is sealed', async () => {
    const head = await append(contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1', summary: 'only call 7301' }));
    const feed = new SealingFeed(log);
    const openA = summaryProjection('open_a', false);
    runner = new ProjectionRunner(feed, store, [openA], { idlePollMs: 20 });
    await runner.start();
    expect(await runner.waitFor(openA.name, head, 5_000)).toBe(true);

    expect(feed.sealedReads).toBe(0);
    expect(feed.opened).toBe(0);
    expect((await store.get(physicalCollection(openA, 'open_a_last'), 'last'))?.['summary']).toBe('only call 7301');
  });

  it('opens only the personal fields its plaintext projections list (Projection.opens), the union of them', async () => {
    const head = await append(
      contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1', summary: 'first call 6190' }),
      contactLogged('2026-03-01T11:00:00.000Z', { contactId: 'c-2', summary: 'second call 6191' }),
    );
    const feed = new SealingFeed(log);
    const reads = summaryProjection('reads_summary', false, { ContactLogged: ['summary'] });
    const readsOther = summaryProjection('reads_other', false, { ContactLogged: ['outcome'], FollowUpScheduled: ['reason'] });
    runner = new ProjectionRunner(feed, store, [reads, readsOther], { idlePollMs: 20 });
    await runner.start();
    for (const p of [reads, readsOther]) expect(await runner.waitFor(p.name, head, 5_000)).toBe(true);

    expect(feed.sealedReads).toBeGreaterThan(0);
    expect(feed.opened).toBe(2);
    expect(new Set(feed.selections.map((only) => JSON.stringify(only)))).toEqual(new Set([
      JSON.stringify({ ContactLogged: ['outcome', 'summary'], FollowUpScheduled: ['reason'] }),
    ]));
    expect((await store.get(physicalCollection(reads, 'reads_summary_last'), 'last'))?.['summary']).toBe('second call 6191');
  });

  it('opens nothing when its plaintext projections list no personal field, and everything when one does not say', async () => {
    const head = await append(contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1', summary: 'only call 7302' }));
    const none = summaryProjection('reads_none', false, {});
    const feed = new SealingFeed(log);
    runner = new ProjectionRunner(feed, store, [none], { idlePollMs: 20 });
    await runner.start();
    expect(await runner.waitFor(none.name, head, 5_000)).toBe(true);
    expect(feed.sealedReads).toBeGreaterThan(0);
    expect(feed.opened).toBe(0);
    // What it would get, were it to read a field it did not list: the field as stored.
    expect((await store.get(physicalCollection(none, 'reads_none_last'), 'last'))?.['summary']).toBe('sealed:only call 7302');
    await runner.stop();

    const unsaid = summaryProjection('reads_all', false);
    const both = new SealingFeed(log);
    runner = new ProjectionRunner(both, store, [summaryProjection('reads_none_2', false, {}), unsaid], { idlePollMs: 20 });
    await runner.start();
    expect(await runner.waitFor(unsaid.name, head, 5_000)).toBe(true);
    expect(both.opened).toBe(1);
    expect(both.selections).toEqual([undefined]);
    expect((await store.get(physicalCollection(unsaid, 'reads_all_last'), 'last'))?.['summary']).toBe('only call 7302');
  });
});

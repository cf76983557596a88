import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SqliteEventStore } from '@crm/event-store';
import { CUSTOMER_MERGES, customerMergesProjection, MongoReadModelStore, physicalCollection, SqliteReadModelStore, type ReadModelStore } from '@crm/read-models';
import {
  complaintFiled, complaintResolved, complaintResponded, contactLogged, customerMerge, customerRegistered, customerUnmerge, eventIdOf,
  followUpScheduled, money, purchaseRecorded, returnRecorded, toAppend, type Fact,
} from '../../libs/read-models/test-support/project';
import { startMongoDouble, type MongoDoubleHandle } from '../doubles/mongo-wire-double';
import { cleanRebuildInto } from '../support/read-model-state';
import { makeTempDir } from '../support/temp-dir';

const S = 'surv';
const D1 = 'dup-1';
const D2 = 'dup-2';
const at = (day: number, hour = 9): string => `2026-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;

/**
 * A survivor and two duplicates with history before, during and after their merges; both merges undone at the end.
 * The last events on each customer stream come after the unmerge, so each profile's stream revision is current.
 */
const HISTORY: readonly Fact[] = [
  customerRegistered(at(1), { customerId: S, name: 'Samuel Vimes', email: 'sam@example.com' }),
  customerRegistered(at(1, 10), { customerId: D1, name: 'Sam Vimes', email: 'vimes@watch.example' }),
  customerRegistered(at(1, 11), { customerId: D2, name: 'S. Vimes', phone: '+44 20 7946 0001' }),
  contactLogged(at(2), { customerId: D1, contactId: 'k-d1' }),
  complaintFiled(at(2, 10), { customerId: D1, complaintId: 'c-d1' }),
  purchaseRecorded(at(2, 11), money(1250, 2), { customerId: D1, orderId: 'o-d1' }),
  purchaseRecorded(at(2, 12), money(990, 2), { customerId: S, orderId: 'o-s' }),
  followUpScheduled(at(2, 13), { customerId: D2, followUpId: 'fu-d2' }),
  ...customerMerge(at(3), S, D1),
  ...customerMerge(at(3, 10), S, D2),
  // The duplicates' history goes on while merged (their complaints and orders keep their own streams).
  complaintResponded(at(4), { customerId: D1, complaintId: 'c-d1' }),
  returnRecorded(at(4, 10), money(250, 2), { customerId: D1, orderId: 'o-d1' }),
  purchaseRecorded(at(4, 11), money(500, 2), { customerId: S, orderId: 'o-s2' }),
  ...customerUnmerge(at(5), S, D1),
  complaintResolved(at(5, 10), { customerId: D1, complaintId: 'c-d1' }),
  ...customerUnmerge(at(6), S, D2),
  contactLogged(at(7), { customerId: S, contactId: 'k-s' }),
  contactLogged(at(7, 10), { customerId: D1, contactId: 'k-d1b' }),
  contactLogged(at(7, 11), { customerId: D2, contactId: 'k-d2' }),
];

const MERGE_TYPES = new Set(['CustomerMerged', 'CustomerMergedInto', 'CustomerUnmerged', 'CustomerUnmergedFrom']);

/**
 * The same log with every merge event replaced by an event no projection reads, on the same stream: positions and
 * stream revisions stay the same, so the two logs differ in the merges alone.
 */
async function writeLog(file: string, withMerges: boolean, count = HISTORY.length): Promise<{ events: SqliteEventStore; head: number }> {
  const events = new SqliteEventStore({ filename: file, synchronous: 'NORMAL', now: () => new Date(at(10)) });
  for (const [i, fact] of HISTORY.slice(0, count).entries()) {
    const event = toAppend(fact, eventIdOf(i + 1));
    const written = withMerges || !MERGE_TYPES.has(fact.type) ? event : { ...event, type: 'NotAMergeFiller', data: { customerId: 'none' } };
    await events.appendToStream(fact.streamId, [written]);
  }
  return { events, head: await events.headPosition() };
}

/**
 * Unmerge gives exactly the read models a log without the merge builds (issue 16 item 6): every document of every
 * projection, on both read-model stores.
 */
describe.each([['sqlite'], ['mongodb (wire-protocol double)']])('merge then unmerge, rebuilt into %s', (kind) => {
  let double: MongoDoubleHandle | undefined;
  const tmp = makeTempDir('crm-merge-rebuild-');
  const stores: ReadModelStore[] = [];
  const open = async (): Promise<ReadModelStore> => {
    const store = kind === 'sqlite'
      ? new SqliteReadModelStore(join(tmp.dir, `${randomUUID()}.db`))
      : await MongoReadModelStore.connect(double!.uri, `rm_${randomUUID().replace(/-/g, '').slice(0, 16)}`);
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    if (kind !== 'sqlite') double = await startMongoDouble();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await double?.stop();
    tmp.remove();
  });

  it('equals a clean rebuild of the log without the merge events', async () => {
    const merged = await writeLog(join(tmp.dir, 'with.db'), true);
    const plain = await writeLog(join(tmp.dir, 'without.db'), false);
    try {
      expect(merged.head).toBe(plain.head);
      const withMerges = await cleanRebuildInto(merged.events, await open(), merged.head);
      const withoutMerges = await cleanRebuildInto(plain.events, await open(), plain.head);
      expect(withMerges).toEqual(withoutMerges);
      expect(withMerges[physicalCollection(customerMergesProjection, CUSTOMER_MERGES)]).toEqual([]);
    } finally {
      await merged.events.close();
      await plain.events.close();
    }
  }, 60_000);

  it('does show the merges before they are undone (the comparison above is not vacuous)', async () => {
    const firstUnmerge = HISTORY.findIndex((f) => f.type === 'CustomerUnmergedFrom');
    const merged = await writeLog(join(tmp.dir, 'partial.db'), true, firstUnmerge);
    try {
      const state = await cleanRebuildInto(merged.events, await open(), merged.head);
      expect(state[physicalCollection(customerMergesProjection, CUSTOMER_MERGES)]).toEqual([
        expect.objectContaining({ _id: D1, mergedInto: S }),
        expect.objectContaining({ _id: D2, mergedInto: S }),
        expect.objectContaining({ _id: S, duplicates: [D1, D2] }),
      ]);
    } finally {
      await merged.events.close();
    }
  }, 60_000);
});

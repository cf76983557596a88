import { add, rescale, type Money } from '@crm/domain';
import type { ReadModelStore } from '../store/read-model-store.port';
import { physicalCollection } from '../projection/projection';
import { CUSTOMER_MERGES, customerMergesProjection, type MergeDoc } from './customer-merges.projection';
import type { ProfileDoc } from './customer-profiles.projection';
import type { LoyaltyDoc, SpendTotals } from './loyalty.projection';

/**
 * Reading through the merge alias map (customer_merges): a survivor's view is its own documents and its duplicates'
 * combined at query time. No projection writes a duplicate's facts into the survivor's documents, so an unmerge has
 * nothing to take apart (docs/read-models.md "Merged customers").
 */

const MERGES = physicalCollection(customerMergesProjection, CUSTOMER_MERGES);

export interface MergeAlias {
  /** The survivor this customer was merged into, or null. */
  readonly mergedInto: string | null;
  /** The duplicates merged into this customer (empty unless it is a survivor). */
  readonly duplicates: readonly string[];
}

const NO_MERGE: MergeAlias = { mergedInto: null, duplicates: [] };

export async function mergeAliasOf(store: ReadModelStore, customerId: string): Promise<MergeAlias> {
  const doc = (await store.get(MERGES, customerId)) as MergeDoc | null;
  return doc ? { mergedInto: doc.mergedInto, duplicates: doc.duplicates } : NO_MERGE;
}

export async function mergeAliasesOf(store: ReadModelStore, customerIds: readonly string[]): Promise<Map<string, MergeAlias>> {
  const docs = await store.getMany(MERGES, [...new Set(customerIds)]);
  return new Map(customerIds.map((id) => {
    const doc = docs.get(id) as MergeDoc | undefined;
    return [id, doc ? { mergedInto: doc.mergedInto, duplicates: doc.duplicates } : NO_MERGE];
  }));
}

/** Every survivor with its duplicates (merges are rare: a handful per thousand customers). */
export async function mergeGroups(store: ReadModelStore): Promise<Array<{ survivorId: string; duplicates: string[] }>> {
  const docs = (await store.find(MERGES, {})) as MergeDoc[];
  return docs.filter((d) => d.duplicates.length > 0).map((d) => ({ survivorId: d.customerId, duplicates: d.duplicates }));
}

/** A customer's own id and, for a survivor, its duplicates': whose documents a survivor's queries include. */
export const groupIds = (customerId: string, alias: MergeAlias): string[] => [customerId, ...alias.duplicates];

const byKey = <T>(key: (t: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** The survivor's profile with its duplicates' complaints, contacts and follow-ups; identity stays the survivor's. */
export function combineProfiles(survivor: ProfileDoc, duplicates: readonly ProfileDoc[]): ProfileDoc {
  if (duplicates.length === 0) return survivor;
  const all = [survivor, ...duplicates];
  const lastContacts = all.map((d) => d.lastContact).filter((c): c is NonNullable<ProfileDoc['lastContact']> => c !== null);
  return {
    ...survivor,
    complaints: all.flatMap((d) => d.complaints).sort(byKey((c) => c.filedAt)),
    openComplaintCount: all.reduce((n, d) => n + d.openComplaintCount, 0),
    lastContact: lastContacts.sort(byKey((c) => c.occurredAt)).at(-1) ?? null,
    recentContacts: all.flatMap((d) => d.recentContacts).sort(byKey((c) => c.occurredAt)),
    openFollowUps: all.flatMap((d) => d.openFollowUps).sort(byKey((f) => f.dueAt)),
  };
}

function plus(a: Money, b: Money): Money {
  const scale = Math.max(a.scale, b.scale);
  return add(rescale(a, scale), rescale(b, scale));
}

/**
 * One loyalty document for a merged group, as if every order had been the survivor's: spend per currency added,
 * orders together. Fields a later projection version adds must be combined here too (the loyalty spec pins it).
 */
export function combineLoyalty(customerId: string, docs: readonly LoyaltyDoc[]): LoyaltyDoc | null {
  const [first, ...rest] = docs;
  if (first === undefined) return null;
  if (rest.length === 0) return { ...first, customerId };
  const spend: Record<string, SpendTotals> = {};
  for (const doc of docs) {
    for (const [currency, totals] of Object.entries(doc.spend)) {
      const current = spend[currency];
      spend[currency] = current
        ? { gross: plus(current.gross, totals.gross), returns: plus(current.returns, totals.returns), net: plus(current.net, totals.net) }
        : totals;
    }
  }
  const orders = docs.flatMap((d) => d.orders).sort(byKey((o) => o.occurredAt));
  const netValue = Object.fromEntries(Object.entries(spend).map(([c, s]) => [c, s.net.amount / 10 ** s.net.scale]));
  // Net spend per currency and day, summed over the group; the members' stored valuations (`valued`) are per member,
  // so the group's is left for the reader to compute from these days under the policy in force.
  const netByDay: LoyaltyDoc['netByDay'] = {};
  for (const doc of docs) {
    for (const [currency, days] of Object.entries(doc.netByDay ?? {})) {
      const into = (netByDay[currency] ??= {});
      for (const [day, amount] of Object.entries(days)) {
        const current = into[day];
        into[day] = current ? plus(current, amount) : amount;
      }
    }
  }
  const { valued: _memberValuation, ...firstWithoutValuation } = first;
  return {
    ...firstWithoutValuation,
    customerId,
    netByDay,
    spend,
    orders,
    orderCount: orders.length,
    firstPurchaseAt: orders[0]?.occurredAt ?? first.firstPurchaseAt,
    lastPurchaseAt: orders.at(-1)?.occurredAt ?? first.lastPurchaseAt,
    returnCount: docs.reduce((n, d) => n + d.returnCount, 0),
    netValue,
  };
}

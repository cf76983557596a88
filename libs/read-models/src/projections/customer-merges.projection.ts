import type { DocumentChange, ProjectedEvent, Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { asCrmEvent } from './crm-event';

export const CUSTOMER_MERGES = 'customer_merges';

/**
 * The merge alias map: one document per customer in a merge, the survivor's listing its duplicates, each duplicate's
 * naming its survivor. Queries read the other read models through it (a survivor's profile, timeline, loyalty and
 * complaints include its duplicates' documents), so merging changes no other document and unmerging leaves them exactly
 * as a log without the merge would have built them. Built from the survivor's events only: the survivor's
 * step completes a merge and completes an unmerge (docs/decisions.md, "Customer merge").
 */
export interface MergeDoc extends Doc {
  customerId: string;
  mergedInto: string | null;
  duplicates: string[];
}

/** The event types that make or undo a merge: no read model but this one projects them. */
export const MERGE_EVENT_TYPES: readonly string[] = ['CustomerMerged', 'CustomerMergedInto', 'CustomerUnmerged', 'CustomerUnmergedFrom'];

type MergeFields = Pick<MergeDoc, 'customerId' | 'mergedInto' | 'duplicates'>;

function change(customerId: string, update: (doc: MergeFields) => MergeFields): DocumentChange {
  return {
    collection: CUSTOMER_MERGES,
    id: customerId,
    evolve: (current) => {
      const doc = (current as MergeDoc | null) ?? { customerId, mergedInto: null, duplicates: [] };
      const next = update({ customerId, mergedInto: doc.mergedInto, duplicates: doc.duplicates });
      // No document for a customer in no merge: after an unmerge the collection is as if the merge never happened.
      return next.mergedInto === null && next.duplicates.length === 0 ? null : next;
    },
  };
}

export const customerMergesProjection: Projection = {
  name: 'customer_merges',
  version: 1,
  eventTypes: ['CustomerMerged', 'CustomerUnmerged'],
  opens: {},
  collections: [{ name: CUSTOMER_MERGES, indexes: [] }],
  changes(event: ProjectedEvent): DocumentChange[] {
    const e = asCrmEvent(event);
    if (e.type === 'CustomerMerged') {
      const { customerId, duplicateId } = e.data;
      return [
        change(customerId, (d) => ({ ...d, duplicates: d.duplicates.includes(duplicateId) ? d.duplicates : [...d.duplicates, duplicateId] })),
        change(duplicateId, (d) => ({ ...d, mergedInto: customerId })),
      ];
    }
    if (e.type === 'CustomerUnmerged') {
      const { customerId, duplicateId } = e.data;
      return [
        change(customerId, (d) => ({ ...d, duplicates: d.duplicates.filter((x) => x !== duplicateId) })),
        change(duplicateId, (d) => ({ ...d, mergedInto: null })),
      ];
    }
    return [];
  },
};

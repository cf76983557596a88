import { DomainError } from '../shared/domain-error';
import type {
  MarkMergedInto, MarkUnmergedFrom, MergeDuplicate, MergeParty, UnmergeDuplicate,
} from './customer-commands';
import type { CustomerMerged, CustomerMergedInto, CustomerUnmerged, CustomerUnmergedFrom } from './customer-events';
import type { CustomerState } from './customer-state';

/** The merge-relevant facts of a customer's state, as the other side of a merge sees them. */
export function mergePartyOf(customerId: string, state: CustomerState): MergeParty {
  if (!state.exists) return { customerId, exists: false, erased: false, mergedInto: null, duplicates: [] };
  return {
    customerId,
    exists: true,
    erased: state.erasedAt !== undefined,
    mergedInto: state.mergedInto ?? null,
    duplicates: state.duplicates ?? [],
  };
}

/**
 * Every rule of a merge, over both parties. Each side's decider runs it with its own current state and the other's as
 * read, so whichever stream changed last refuses a conflicting merge: a chain needs one customer to be both merged
 * away and a survivor, and the second of those two events lands on that customer's own stream, where it is refused.
 * `completing`: the survivor's step after the duplicate's (the duplicate already names this survivor).
 */
export function checkMerge(survivor: MergeParty, duplicate: MergeParty, completing: boolean): void {
  const pair = { survivorId: survivor.customerId, duplicateId: duplicate.customerId };
  if (survivor.customerId === duplicate.customerId) {
    throw new DomainError('merge-into-self', `customer ${survivor.customerId} cannot be merged into itself`, pair);
  }
  for (const party of [survivor, duplicate]) {
    if (!party.exists) {
      throw new DomainError('customer-not-found', `customer ${party.customerId} does not exist`, { customerId: party.customerId });
    }
    if (party.erased) {
      throw new DomainError('merge-customer-erased', `customer ${party.customerId} was erased`, { ...pair, customerId: party.customerId });
    }
  }
  if (survivor.mergedInto !== null) {
    throw new DomainError(
      'merge-chain',
      `customer ${survivor.customerId} was itself merged into ${survivor.mergedInto}; merge into that customer instead`,
      { ...pair, customerId: survivor.customerId, mergedInto: survivor.mergedInto },
    );
  }
  if (duplicate.duplicates.length > 0) {
    throw new DomainError(
      'merge-chain',
      `customer ${duplicate.customerId} has duplicates merged into it (${duplicate.duplicates.join(', ')}); unmerge them first`,
      { ...pair, customerId: duplicate.customerId, duplicates: [...duplicate.duplicates] },
    );
  }
  const halfDone = completing && duplicate.mergedInto === survivor.customerId;
  if ((duplicate.mergedInto !== null && !halfDone) || survivor.duplicates.includes(duplicate.customerId)) {
    const into = duplicate.mergedInto ?? survivor.customerId;
    throw new DomainError('customer-merged', `customer ${duplicate.customerId} is already merged into ${into}`, {
      ...pair, customerId: duplicate.customerId, survivorId: into,
    });
  }
}

/** Unmerge: the pair must be merged (or half-way through an unmerge: the duplicate's step done, the survivor's not). */
export function checkUnmerge(survivor: MergeParty, duplicate: MergeParty, completing: boolean): void {
  const pair = { survivorId: survivor.customerId, duplicateId: duplicate.customerId };
  if (survivor.customerId === duplicate.customerId) {
    throw new DomainError('not-merged', `customer ${survivor.customerId} is not merged into itself`, pair);
  }
  for (const party of [survivor, duplicate]) {
    if (!party.exists) {
      throw new DomainError('customer-not-found', `customer ${party.customerId} does not exist`, { customerId: party.customerId });
    }
    if (party.erased) {
      throw new DomainError('merge-customer-erased', `customer ${party.customerId} was erased`, { ...pair, customerId: party.customerId });
    }
  }
  const listed = survivor.duplicates.includes(duplicate.customerId);
  const named = duplicate.mergedInto === survivor.customerId;
  if (!(listed && (named || completing))) {
    throw new DomainError('not-merged', `customer ${duplicate.customerId} is not merged into ${survivor.customerId}`, pair);
  }
}

export function mergeDuplicate(command: MergeDuplicate, self: MergeParty, now: Date): CustomerMerged[] {
  const { duplicateId, reason, duplicate } = command.data;
  checkMerge(self, { ...duplicate, customerId: duplicateId }, true);
  return [{ type: 'CustomerMerged', data: { customerId: self.customerId, duplicateId, reason, mergedAt: now.toISOString() } }];
}

export function markMergedInto(command: MarkMergedInto, self: MergeParty, now: Date): CustomerMergedInto[] {
  const { survivorId, reason, survivor } = command.data;
  checkMerge({ ...survivor, customerId: survivorId }, self, false);
  return [{ type: 'CustomerMergedInto', data: { customerId: self.customerId, survivorId, reason, mergedAt: now.toISOString() } }];
}

export function unmergeDuplicate(command: UnmergeDuplicate, self: MergeParty, now: Date): CustomerUnmerged[] {
  const { duplicateId, reason, duplicate } = command.data;
  checkUnmerge(self, { ...duplicate, customerId: duplicateId }, true);
  return [{ type: 'CustomerUnmerged', data: { customerId: self.customerId, duplicateId, reason, unmergedAt: now.toISOString() } }];
}

/**
 * The duplicate leaves its survivor: an unmerge's first step, or the compensation of a merge whose survivor step was
 * refused (`abandon`: the survivor never listed it, so only the duplicate's own pointer is checked).
 */
export function markUnmergedFrom(command: MarkUnmergedFrom, self: MergeParty, now: Date): CustomerUnmergedFrom[] {
  const { survivorId, reason, survivor, abandon } = command.data;
  if (abandon) {
    if (self.mergedInto !== survivorId) {
      throw new DomainError('not-merged', `customer ${self.customerId} is not merged into ${survivorId}`, {
        survivorId, duplicateId: self.customerId,
      });
    }
  } else {
    checkUnmerge({ ...survivor, customerId: survivorId }, self, false);
  }
  return [{ type: 'CustomerUnmergedFrom', data: { customerId: self.customerId, survivorId, reason, unmergedAt: now.toISOString() } }];
}

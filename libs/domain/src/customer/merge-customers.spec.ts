import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification, DEFAULT_NOW } from '../../test-support/decider-specification';
import { registered } from '../../test-support/customer-fixtures';
import { fold } from '../shared/decider';
import { DEFAULT_CONTACT_CAP_POLICY } from './contact-cap-policy';
import type { MergeParty } from './customer-commands';
import { makeCustomerDecider } from './customer-decider';
import type { CustomerEvent } from './customer-events';
import { mergePartyOf } from './merge-rules';

const decider = makeCustomerDecider({ contactPolicy: DEFAULT_CONTACT_CAP_POLICY });
const spec = DeciderSpecification.for(decider);
const AT = DEFAULT_NOW.toISOString();

const SURVIVOR = 'cust-survivor';
const DUPLICATE = 'cust-duplicate';
const THIRD = 'cust-third';

const reg = (customerId: string): CustomerEvent => registered({ customerId });
const party = (customerId: string, events: CustomerEvent[]): MergeParty => mergePartyOf(customerId, fold(decider, events));
const erased = (customerId: string): CustomerEvent => ({ type: 'CustomerErased', data: { customerId, erasedAt: AT, reason: 'ticket 9', fields: {} } });
const mergedInto = (customerId: string, survivorId: string): CustomerEvent => ({ type: 'CustomerMergedInto', data: { customerId, survivorId, reason: 'dup', mergedAt: AT } });
const merged = (customerId: string, duplicateId: string): CustomerEvent => ({ type: 'CustomerMerged', data: { customerId, duplicateId, reason: 'dup', mergedAt: AT } });
const unmergedFrom = (customerId: string, survivorId: string): CustomerEvent => ({ type: 'CustomerUnmergedFrom', data: { customerId, survivorId, reason: 'not the same person', unmergedAt: AT } });

/** The duplicate's own stream: its step of the merge (appended first). */
const markMergedInto = (duplicate: string, survivor: string, survivorEvents: CustomerEvent[]) => ({
  type: 'MarkMergedInto' as const,
  data: { customerId: duplicate, survivorId: survivor, reason: 'dup', survivor: party(survivor, survivorEvents) },
});
/** The survivor's stream: the step that completes the merge. */
const mergeDuplicate = (survivor: string, duplicate: string, duplicateEvents: CustomerEvent[]) => ({
  type: 'MergeDuplicate' as const,
  data: { customerId: survivor, duplicateId: duplicate, reason: 'dup', duplicate: party(duplicate, duplicateEvents) },
});

describe('merging a duplicate into a survivor', () => {
  it('records where the duplicate went in its own stream, then what the survivor took in in the survivor\'s', () => {
    spec.given([reg(DUPLICATE)]).when(markMergedInto(DUPLICATE, SURVIVOR, [reg(SURVIVOR)]))
      .then([mergedInto(DUPLICATE, SURVIVOR)]);
    spec.given([reg(SURVIVOR)]).when(mergeDuplicate(SURVIVOR, DUPLICATE, [reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)]))
      .then([merged(SURVIVOR, DUPLICATE)]);
  });

  it('refuses to merge a customer into itself', () => {
    spec.given([reg(SURVIVOR)]).when(mergeDuplicate(SURVIVOR, SURVIVOR, [reg(SURVIVOR)]))
      .thenThrows('merge-into-self', { survivorId: SURVIVOR, duplicateId: SURVIVOR });
    spec.given([reg(SURVIVOR)]).when(markMergedInto(SURVIVOR, SURVIVOR, [reg(SURVIVOR)])).thenThrows('merge-into-self');
  });

  it('refuses to merge into an erased customer, and to merge an erased one (422, not the 410 of other commands)', () => {
    spec.given([reg(DUPLICATE)]).when(markMergedInto(DUPLICATE, SURVIVOR, [reg(SURVIVOR), erased(SURVIVOR)]))
      .thenThrows('merge-customer-erased', { customerId: SURVIVOR });
    spec.given([reg(SURVIVOR), erased(SURVIVOR)]).when(mergeDuplicate(SURVIVOR, DUPLICATE, [reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)]))
      .thenThrows('merge-customer-erased', { customerId: SURVIVOR });
    spec.given([reg(DUPLICATE), erased(DUPLICATE)]).when(markMergedInto(DUPLICATE, SURVIVOR, [reg(SURVIVOR)]))
      .thenThrows('merge-customer-erased', { customerId: DUPLICATE });
  });

  it('refuses an unknown survivor or duplicate', () => {
    spec.given([reg(DUPLICATE)]).when(markMergedInto(DUPLICATE, SURVIVOR, [])).thenThrows('customer-not-found', { customerId: SURVIVOR });
    spec.given([]).when(markMergedInto(DUPLICATE, SURVIVOR, [reg(SURVIVOR)])).thenThrows('customer-not-found', { customerId: DUPLICATE });
  });

  it('refuses a chain: into a survivor that was itself merged away (A into B, B already into C)', () => {
    spec.given([reg(DUPLICATE)]).when(markMergedInto(DUPLICATE, SURVIVOR, [reg(SURVIVOR), mergedInto(SURVIVOR, THIRD)]))
      .thenThrows('merge-chain', { customerId: SURVIVOR, mergedInto: THIRD });
    // The survivor's own stream refuses too, when it was merged away between the duplicate's step and its own.
    spec.given([reg(SURVIVOR), mergedInto(SURVIVOR, THIRD)]).when(mergeDuplicate(SURVIVOR, DUPLICATE, [reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)]))
      .thenThrows('merge-chain', { customerId: SURVIVOR, mergedInto: THIRD });
  });

  it('refuses a chain: a duplicate that has duplicates of its own (C into A, then A into B)', () => {
    spec.given([reg(DUPLICATE), merged(DUPLICATE, THIRD)]).when(markMergedInto(DUPLICATE, SURVIVOR, [reg(SURVIVOR)]))
      .thenThrows('merge-chain', { customerId: DUPLICATE, duplicates: [THIRD] });
  });

  it('refuses a duplicate already merged (into this survivor or another)', () => {
    spec.given([reg(DUPLICATE), mergedInto(DUPLICATE, THIRD)]).when(markMergedInto(DUPLICATE, SURVIVOR, [reg(SURVIVOR)]))
      .thenThrows('customer-merged', { customerId: DUPLICATE, survivorId: THIRD });
    spec.given([reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)]).when(markMergedInto(DUPLICATE, SURVIVOR, [reg(SURVIVOR), merged(SURVIVOR, DUPLICATE)]))
      .thenThrows('customer-merged', { survivorId: SURVIVOR });
    spec.given([reg(SURVIVOR), merged(SURVIVOR, DUPLICATE)]).when(mergeDuplicate(SURVIVOR, DUPLICATE, [reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)]))
      .thenThrows('customer-merged', { survivorId: SURVIVOR });
  });

  it('lets a survivor take several duplicates', () => {
    spec.given([reg(SURVIVOR), merged(SURVIVOR, THIRD)]).when(mergeDuplicate(SURVIVOR, DUPLICATE, [reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)]))
      .thenState((state) => expect(state.exists && state.duplicates).toEqual([THIRD, DUPLICATE]));
  });

  it('refuses every other command addressed to a merged duplicate, naming the survivor (409)', () => {
    spec.given([reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)])
      .when({ type: 'ChangeCustomerProfile', data: { customerId: DUPLICATE, name: 'Someone' } })
      .thenThrows('customer-merged', { customerId: DUPLICATE, survivorId: SURVIVOR });
  });

  it('still erases a merged duplicate (erasure of a merged customer erases the group)', () => {
    spec.given([reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)])
      .when({ type: 'EraseCustomer', data: { customerId: DUPLICATE, reason: 'ticket 9', fields: {} } })
      .then([erased(DUPLICATE)]);
  });
});

describe('unmerging', () => {
  const unmergeDuplicate = (duplicateEvents: CustomerEvent[]) => ({
    type: 'UnmergeDuplicate' as const,
    data: { customerId: SURVIVOR, duplicateId: DUPLICATE, reason: 'not the same person', duplicate: party(DUPLICATE, duplicateEvents) },
  });
  const markUnmergedFrom = (survivorEvents: CustomerEvent[], abandon?: boolean) => ({
    type: 'MarkUnmergedFrom' as const,
    data: { customerId: DUPLICATE, survivorId: SURVIVOR, reason: 'not the same person', survivor: party(SURVIVOR, survivorEvents), ...(abandon ? { abandon } : {}) },
  });

  it('frees the duplicate first, then the survivor lets it go; both states are as before the merge', () => {
    const duplicateBefore = fold(decider, [reg(DUPLICATE)]);
    spec.given([reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)]).when(markUnmergedFrom([reg(SURVIVOR), merged(SURVIVOR, DUPLICATE)]))
      .thenState((state, events) => {
        expect(events).toEqual([unmergedFrom(DUPLICATE, SURVIVOR)]);
        expect(state).toEqual(duplicateBefore);
      });
    const survivorBefore = fold(decider, [reg(SURVIVOR)]);
    spec.given([reg(SURVIVOR), merged(SURVIVOR, DUPLICATE)]).when(unmergeDuplicate([reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR), unmergedFrom(DUPLICATE, SURVIVOR)]))
      .thenState((state, events) => {
        expect(events).toEqual([{ type: 'CustomerUnmerged', data: { customerId: SURVIVOR, duplicateId: DUPLICATE, reason: 'not the same person', unmergedAt: AT } }]);
        expect(state).toEqual(survivorBefore);
      });
  });

  it('refuses to unmerge a pair that is not merged', () => {
    spec.given([reg(DUPLICATE)]).when(markUnmergedFrom([reg(SURVIVOR)])).thenThrows('not-merged', { survivorId: SURVIVOR, duplicateId: DUPLICATE });
    spec.given([reg(SURVIVOR)]).when(unmergeDuplicate([reg(DUPLICATE)])).thenThrows('not-merged');
    // Merged into another survivor is not merged into this one.
    spec.given([reg(DUPLICATE), mergedInto(DUPLICATE, THIRD)]).when(markUnmergedFrom([reg(SURVIVOR)])).thenThrows('not-merged');
  });

  it('refuses to unmerge erased customers', () => {
    spec.given([reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR), erased(DUPLICATE)])
      .when(markUnmergedFrom([reg(SURVIVOR), merged(SURVIVOR, DUPLICATE)])).thenThrows('merge-customer-erased');
  });

  it('abandons a half-done merge whose survivor refused its step (compensation)', () => {
    spec.given([reg(DUPLICATE), mergedInto(DUPLICATE, SURVIVOR)]).when(markUnmergedFrom([reg(SURVIVOR), erased(SURVIVOR)], true))
      .then([unmergedFrom(DUPLICATE, SURVIVOR)]);
    spec.given([reg(DUPLICATE)]).when(markUnmergedFrom([reg(SURVIVOR)], true)).thenThrows('not-merged');
  });
});

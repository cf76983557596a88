import type { Channel, ContactPurpose, CustomerKind, Direction } from '../shared/types';

/** Events of the `customer-<customerId>` stream, as in docs/event-catalogue.md. */

export type CustomerRegistered = {
  type: 'CustomerRegistered';
  data: {
    customerId: string;
    kind: CustomerKind;
    name: string;
    email?: string;
    phone?: string;
    ownerId?: string;
    externalRef?: string;
  };
};

/** Only the fields that actually changed; `null` clears email or phone. */
export type CustomerProfileChanged = {
  type: 'CustomerProfileChanged';
  data: { customerId: string; changes: { name?: string; email?: string | null; phone?: string | null } };
};

export type ProspectConverted = {
  type: 'ProspectConverted';
  data: { customerId: string };
};

/**
 * `moveOpenWork`: whether the customer's open complaints and follow-ups go to the new owner too (the follow-ups in the
 * same append, the complaints by the owner hand-over process). Absent on events recorded before hand-overs existed,
 * which read as false: those owner changes left the open work where it was.
 */
export type CustomerOwnerAssigned = {
  type: 'CustomerOwnerAssigned';
  data: { customerId: string; ownerId: string; previousOwnerId: string | null; reason: string; moveOpenWork?: boolean };
};

export type ContactPreferencesSet = {
  type: 'ContactPreferencesSet';
  data: { customerId: string; maxContactsPer7Days: number | null; doNotContact: boolean; channels: Channel[] };
};

export type ContactLogged = {
  type: 'ContactLogged';
  data: {
    customerId: string;
    contactId: string;
    channel: Channel;
    direction: Direction;
    purpose: ContactPurpose;
    summary: string;
    outcome: string;
    occurredAt: string;
    complaintId?: string;
    agentId: string;
  };
};

export type FollowUpScheduled = {
  type: 'FollowUpScheduled';
  data: { customerId: string; followUpId: string; dueAt: string; reason: string; complaintId?: string; ownerId: string };
};

export type FollowUpCompleted = {
  type: 'FollowUpCompleted';
  data: { customerId: string; followUpId: string; completedAt: string; note?: string };
};

export type FollowUpCancelled = {
  type: 'FollowUpCancelled';
  data: { customerId: string; followUpId: string; cancelledAt: string; reason?: string };
};

/** An open follow-up handed over to the customer's new owner (an owner change with `moveOpenWork`). */
export type FollowUpReassigned = {
  type: 'FollowUpReassigned';
  data: { customerId: string; followUpId: string; ownerId: string; previousOwnerId: string; reason: string };
};

/**
 * GDPR erasure: the customer's data key was destroyed, so every personal field of its events reads as erased from
 * now on. The history itself (types, times, amounts, codes such as sku and priority) stays. `fields`: what was erased, per event type.
 */
export type CustomerErased = {
  type: 'CustomerErased';
  data: { customerId: string; erasedAt: string; reason: string; fields: Record<string, string[]> };
};

/**
 * Merge (issue 16 item 6), in two streams: the duplicate's stream records where it went (first, with its expected
 * revision), then the survivor's records what it took in. Nothing earlier is rewritten; read models alias the
 * duplicate's documents to the survivor from CustomerMerged until CustomerUnmerged (docs/decisions.md).
 */
export type CustomerMergedInto = {
  type: 'CustomerMergedInto';
  data: { customerId: string; survivorId: string; reason: string; mergedAt: string };
};

export type CustomerMerged = {
  type: 'CustomerMerged';
  data: { customerId: string; duplicateId: string; reason: string; mergedAt: string };
};

/** Unmerge, duplicate first again: a half-done unmerge (survivor still lists it) is told apart from a half-done merge. */
export type CustomerUnmergedFrom = {
  type: 'CustomerUnmergedFrom';
  data: { customerId: string; survivorId: string; reason: string; unmergedAt: string };
};

export type CustomerUnmerged = {
  type: 'CustomerUnmerged';
  data: { customerId: string; duplicateId: string; reason: string; unmergedAt: string };
};

export type CustomerEvent =
  | CustomerMergedInto
  | CustomerMerged
  | CustomerUnmergedFrom
  | CustomerUnmerged
  | CustomerErased
  | CustomerRegistered
  | CustomerProfileChanged
  | ProspectConverted
  | CustomerOwnerAssigned
  | ContactPreferencesSet
  | ContactLogged
  | FollowUpScheduled
  | FollowUpCompleted
  | FollowUpCancelled
  | FollowUpReassigned;

export type CustomerEventType = CustomerEvent['type'];

export const CUSTOMER_EVENT_TYPES = [
  'CustomerRegistered',
  'CustomerProfileChanged',
  'ProspectConverted',
  'CustomerOwnerAssigned',
  'ContactPreferencesSet',
  'ContactLogged',
  'FollowUpScheduled',
  'FollowUpCompleted',
  'FollowUpCancelled',
  'FollowUpReassigned',
  'CustomerErased',
  'CustomerMergedInto',
  'CustomerMerged',
  'CustomerUnmergedFrom',
  'CustomerUnmerged',
] as const satisfies readonly CustomerEventType[];

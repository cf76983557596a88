import type { Channel, ContactPurpose, CustomerKind, Direction } from '../shared/types';

/**
 * What the application found in the complaint stream named by a command's `complaintId`.
 * Absent means the complaint does not exist. `open` = filed and not closed.
 */
export type LinkedComplaint = { customerId: string; open: boolean };

export type RegisterCustomer = {
  type: 'RegisterCustomer';
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

/** Omitted fields are left alone; `null` clears email or phone. */
export type ChangeCustomerProfile = {
  type: 'ChangeCustomerProfile';
  data: { customerId: string; name?: string; email?: string | null; phone?: string | null };
};

export type ConvertProspect = {
  type: 'ConvertProspect';
  data: { customerId: string };
};

export type AssignCustomerOwner = {
  type: 'AssignCustomerOwner';
  /** `moveOpenWork`: hand the open complaints and follow-ups over too (absent: they stay, as before hand-overs). */
  data: { customerId: string; ownerId: string; reason: string; moveOpenWork?: boolean };
};

export type SetContactPreferences = {
  type: 'SetContactPreferences';
  data: { customerId: string; maxContactsPer7Days: number | null; doNotContact: boolean; channels: Channel[] };
};

export type LogContact = {
  type: 'LogContact';
  data: {
    customerId: string;
    contactId: string;
    channel: Channel;
    direction: Direction;
    purpose: ContactPurpose;
    summary: string;
    outcome: string;
    /** Business time; may be in the past (offline or imported contacts). The contact policy's window ends here. */
    occurredAt: string;
    complaintId?: string;
    agentId: string;
    linkedComplaint?: LinkedComplaint;
  };
};

export type ScheduleFollowUp = {
  type: 'ScheduleFollowUp';
  data: {
    customerId: string;
    followUpId: string;
    dueAt: string;
    reason: string;
    complaintId?: string;
    linkedComplaint?: LinkedComplaint;
    /** Owns the follow-up when the customer has no owner. */
    actorId: string;
  };
};

export type CompleteFollowUp = {
  type: 'CompleteFollowUp';
  data: { customerId: string; followUpId: string; note?: string };
};

export type CancelFollowUp = {
  type: 'CancelFollowUp';
  data: { customerId: string; followUpId: string; reason?: string };
};

export type EraseCustomer = {
  type: 'EraseCustomer';
  data: { customerId: string; reason: string; fields: Record<string, string[]> };
};

/**
 * What the application found in the other customer's stream of a merge or unmerge (like LinkedComplaint): each side's
 * decider checks the pair, so both streams refuse the same things. See merge-rules.ts.
 */
export type MergeParty = {
  customerId: string;
  exists: boolean;
  erased: boolean;
  mergedInto: string | null;
  duplicates: readonly string[];
};

/** Survivor side of a merge (its stream gets CustomerMerged); `duplicate` as read after the duplicate's step. */
export type MergeDuplicate = {
  type: 'MergeDuplicate';
  data: { customerId: string; duplicateId: string; reason: string; duplicate: MergeParty };
};

/** Duplicate side of a merge (its stream gets CustomerMergedInto), appended first. */
export type MarkMergedInto = {
  type: 'MarkMergedInto';
  data: { customerId: string; survivorId: string; reason: string; survivor: MergeParty };
};

export type UnmergeDuplicate = {
  type: 'UnmergeDuplicate';
  data: { customerId: string; duplicateId: string; reason: string; duplicate: MergeParty };
};

/** Duplicate side of an unmerge, appended first; also the compensation of a merge the survivor refused. */
export type MarkUnmergedFrom = {
  type: 'MarkUnmergedFrom';
  data: {
    customerId: string; survivorId: string; reason: string; survivor: MergeParty;
    /** Compensation: the survivor refused its step of this merge, so the survivor never listed this duplicate. */
    abandon?: boolean;
  };
};

export type CustomerCommand =
  | MergeDuplicate
  | MarkMergedInto
  | UnmergeDuplicate
  | MarkUnmergedFrom
  | EraseCustomer
  | RegisterCustomer
  | ChangeCustomerProfile
  | ConvertProspect
  | AssignCustomerOwner
  | SetContactPreferences
  | LogContact
  | ScheduleFollowUp
  | CompleteFollowUp
  | CancelFollowUp;

export type CustomerCommandType = CustomerCommand['type'];

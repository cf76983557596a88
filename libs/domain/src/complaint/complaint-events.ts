import type { Channel, Priority } from '../shared/types';

/** Events of the `complaint-<complaintId>` stream, as in docs/event-catalogue.md. */

export type SlaKind = 'first-response' | 'resolution';
export const SLA_KINDS = ['first-response', 'resolution'] as const satisfies readonly SlaKind[];

export type SlaDeadlines = { policyVersion: string; firstResponseDueAt: string; resolutionDueAt: string };

export type ComplaintFiled = {
  type: 'ComplaintFiled';
  data: {
    complaintId: string;
    customerId: string;
    channel: Channel;
    category: string;
    priority: Priority;
    description: string;
    ownerId: string | null;
    filedAt: string;
    sla: SlaDeadlines;
  };
};

export type ComplaintResponded = {
  type: 'ComplaintResponded';
  /** `sla`: the deadlines in force when this happened, so read models can tell which breach it ends. */
  data: { complaintId: string; customerId: string; respondedAt: string; message: string; responderId: string; sla: SlaDeadlines };
};

export type ComplaintResolved = {
  type: 'ComplaintResolved';
  data: { complaintId: string; customerId: string; resolvedAt: string; resolution: string; atFirstContact: boolean; sla: SlaDeadlines };
};

export type ComplaintReopened = {
  type: 'ComplaintReopened';
  data: { complaintId: string; customerId: string; reopenedAt: string; reason: string; resolutionDueAt: string };
};

export type ComplaintClosed = {
  type: 'ComplaintClosed';
  data: { complaintId: string; customerId: string; closedAt: string };
};

export type ComplaintOwnerChanged = {
  type: 'ComplaintOwnerChanged';
  data: { complaintId: string; customerId: string; ownerId: string; previousOwnerId: string | null; reason: string };
};

/** Appended by the SLA watcher. `breachedAt` is the deadline itself: that is when it was missed. */
export type SlaBreached = {
  type: 'SlaBreached';
  data: {
    complaintId: string;
    customerId: string;
    kind: SlaKind;
    dueAt: string;
    breachedAt: string;
    ownerId: string | null;
    priority: Priority;
  };
};

export type ComplaintEvent =
  | ComplaintFiled
  | ComplaintResponded
  | ComplaintResolved
  | ComplaintReopened
  | ComplaintClosed
  | ComplaintOwnerChanged
  | SlaBreached;

export type ComplaintEventType = ComplaintEvent['type'];

export const COMPLAINT_EVENT_TYPES = [
  'ComplaintFiled',
  'ComplaintResponded',
  'ComplaintResolved',
  'ComplaintReopened',
  'ComplaintClosed',
  'ComplaintOwnerChanged',
  'SlaBreached',
] as const satisfies readonly ComplaintEventType[];

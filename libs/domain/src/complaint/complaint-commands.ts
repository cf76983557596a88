import type { Channel, Priority } from '../shared/types';
import type { SlaKind } from './complaint-events';

export type FileComplaint = {
  type: 'FileComplaint';
  data: {
    complaintId: string;
    customerId: string;
    channel: Channel;
    category: string;
    priority: Priority;
    description: string;
    /** Supplied by the application: the customer's owner (single-owner rule), null when it has none. */
    ownerId: string | null;
    /** Business time; SLA deadlines are computed from it, so imported history gets its own deadlines. */
    occurredAt: string;
    resolvedAtFirstContact: boolean;
    /** Resolution text recorded when resolvedAtFirstContact; defaults to RESOLVED_AT_FIRST_CONTACT. */
    resolution?: string;
  };
};

export type RespondToComplaint = {
  type: 'RespondToComplaint';
  data: { complaintId: string; message: string; responderId: string; occurredAt: string };
};

export type ResolveComplaint = {
  type: 'ResolveComplaint';
  data: { complaintId: string; resolution: string; occurredAt: string };
};

export type ReopenComplaint = {
  type: 'ReopenComplaint';
  data: { complaintId: string; reason: string; occurredAt: string };
};

export type CloseComplaint = {
  type: 'CloseComplaint';
  data: { complaintId: string; occurredAt: string };
};

export type ChangeComplaintOwner = {
  type: 'ChangeComplaintOwner';
  data: { complaintId: string; ownerId: string; reason: string };
};

/** Sent by the SLA watcher when a deadline it tracks has passed. Yields no event when nothing was breached. */
export type RecordSlaBreach = {
  type: 'RecordSlaBreach';
  data: { complaintId: string; kind: SlaKind };
};

export type ComplaintCommand =
  | FileComplaint
  | RespondToComplaint
  | ResolveComplaint
  | ReopenComplaint
  | CloseComplaint
  | ChangeComplaintOwner
  | RecordSlaBreach;

export type ComplaintCommandType = ComplaintCommand['type'];

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

export type AwaitCustomer = {
  type: 'AwaitCustomer';
  data: { complaintId: string; reason: string; occurredAt: string };
};

/**
 * Ends a wait for the customer. From an agent it is refused when the complaint is not waiting; from an inbound contact
 * (the SLA watcher reacting to a ContactLogged linked to the complaint) it yields nothing then, so that replaying the
 * reaction is harmless.
 */
export type ResumeComplaint = {
  type: 'ResumeComplaint';
  data: { complaintId: string; reason: string | null; occurredAt: string; trigger: 'agent' | 'inbound-contact'; contactId?: string };
};

export type ChangeComplaintPriority = {
  type: 'ChangeComplaintPriority';
  data: { complaintId: string; priority: Priority; reason: string; occurredAt: string };
};

/** Sent by the SLA watcher: records every escalation step due by now and not yet recorded. */
export type RecordSlaEscalations = {
  type: 'RecordSlaEscalations';
  data: { complaintId: string };
};

export type ComplaintCommand =
  | FileComplaint
  | RespondToComplaint
  | ResolveComplaint
  | ReopenComplaint
  | CloseComplaint
  | ChangeComplaintOwner
  | RecordSlaBreach
  | AwaitCustomer
  | ResumeComplaint
  | ChangeComplaintPriority
  | RecordSlaEscalations;

export type ComplaintCommandType = ComplaintCommand['type'];

import type { Channel, Priority } from '../shared/types';

/** Events of the `complaint-<complaintId>` stream, as in docs/event-catalogue.md. */

export type SlaKind = 'first-response' | 'resolution';
export const SLA_KINDS = ['first-response', 'resolution'] as const satisfies readonly SlaKind[];

export type SlaDeadlines = { policyVersion: string; firstResponseDueAt: string; resolutionDueAt: string };

/**
 * When an escalation step of the policy falls due for a complaint: `atPercent` of the `kind` target, in SLA time,
 * paused time excluded. Events that move the clocks carry the whole schedule, so the complaints board can index the
 * next one without knowing the policy.
 */
export type SlaEscalationDue = { step: string; kind: SlaKind; atPercent: number; notify: string; dueAt: string };

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
    /** The policy's escalation steps for this complaint; absent when the policy names none (and before issue 16). */
    escalations?: SlaEscalationDue[];
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
  data: {
    complaintId: string;
    customerId: string;
    reopenedAt: string;
    reason: string;
    resolutionDueAt: string;
    /** The escalation schedule with the new resolution clock; absent when the policy names no steps. */
    escalations?: SlaEscalationDue[];
  };
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

/**
 * The complaint waits for the customer (Zendesk's "pending"). `clocksStopped`: whether the policy's `pauseWhen`
 * includes `awaiting-customer`, i.e. whether the SLA clocks stop until it resumes.
 */
export type ComplaintAwaitingCustomer = {
  type: 'ComplaintAwaitingCustomer';
  data: { complaintId: string; customerId: string; pausedAt: string; reason: string; clocksStopped: boolean };
};

/** Who or what ended a wait for the customer. */
export type ResumeTrigger = 'agent' | 'inbound-contact' | 'resolution';

/**
 * The wait for the customer ended. `pausedMinutes`: the SLA minutes this pause took off the running clocks (0 when
 * they did not stop); `sla` and `escalations`: the deadlines and escalation schedule moved out by them.
 */
export type ComplaintResumed = {
  type: 'ComplaintResumed';
  data: {
    complaintId: string;
    customerId: string;
    resumedAt: string;
    pausedSince: string;
    pausedMinutes: number;
    reason: string | null;
    trigger: ResumeTrigger;
    /** The inbound contact that resumed it (trigger `inbound-contact`), else null. */
    contactId: string | null;
    sla: SlaDeadlines;
    escalations: SlaEscalationDue[];
  };
};

/** The priority changed: the running clocks now measure the new priority's targets from their start, less paused time. */
export type ComplaintPriorityChanged = {
  type: 'ComplaintPriorityChanged';
  data: {
    complaintId: string;
    customerId: string;
    priority: Priority;
    previousPriority: Priority;
    reason: string;
    changedAt: string;
    sla: SlaDeadlines;
    escalations: SlaEscalationDue[];
  };
};

/** Appended by the SLA watcher when an escalation step fell due. `escalatedAt` is the step's due time, like `breachedAt`. */
export type ComplaintEscalated = {
  type: 'ComplaintEscalated';
  data: {
    complaintId: string;
    customerId: string;
    step: string;
    kind: SlaKind;
    atPercent: number;
    notify: string;
    dueAt: string;
    escalatedAt: string;
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
  | SlaBreached
  | ComplaintAwaitingCustomer
  | ComplaintResumed
  | ComplaintPriorityChanged
  | ComplaintEscalated;

export type ComplaintEventType = ComplaintEvent['type'];

export const COMPLAINT_EVENT_TYPES = [
  'ComplaintFiled',
  'ComplaintResponded',
  'ComplaintResolved',
  'ComplaintReopened',
  'ComplaintClosed',
  'ComplaintOwnerChanged',
  'SlaBreached',
  'ComplaintAwaitingCustomer',
  'ComplaintResumed',
  'ComplaintPriorityChanged',
  'ComplaintEscalated',
] as const satisfies readonly ComplaintEventType[];

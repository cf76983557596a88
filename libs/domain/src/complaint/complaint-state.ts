import type { Channel, Priority } from '../shared/types';
import type { ComplaintEvent, SlaDeadlines, SlaEscalationDue, SlaKind } from './complaint-events';
import type { SlaPause } from './sla-schedule';

/** open = filed and not yet responded to. */
export type ComplaintStatus = 'open' | 'responded' | 'resolved' | 'closed';

export type RecordedSlaBreach = { kind: SlaKind; dueAt: string };

export type NoComplaint = { exists: false };

export type FiledComplaintState = {
  exists: true;
  complaintId: string;
  customerId: string;
  channel: Channel;
  category: string;
  priority: Priority;
  ownerId: string | null;
  status: ComplaintStatus;
  filedAt: string;
  /** The current deadlines: a reopen replaces resolutionDueAt. */
  sla: SlaDeadlines;
  firstRespondedAt: string | null;
  /**
   * When the first-response clock stopped: the first response, or a resolution if that came first
   * (a complaint resolved at first contact was answered; it has no clock running).
   */
  firstResponseMetAt: string | null;
  /** Latest resolution; null while unresolved (also after a reopen). */
  resolvedAt: string | null;
  resolvedAtFirstContact: boolean;
  closedAt: string | null;
  responseCount: number;
  reopenCount: number;
  /** One entry per missed deadline, so that a watcher replaying its work never double-breaches. */
  breaches: readonly RecordedSlaBreach[];
  /**
   * Whether each clock has breached: a clock breaches at most once, even when a pause or a priority change moves its
   * deadline afterwards; a reopen starts a new resolution clock that may breach again.
   */
  breachedClocks: Readonly<Record<SlaKind, boolean>>;
  /** The priority it was filed with (analytics may count by it). */
  filingPriority: Priority;
  /** The start of the resolution clock: filing, or the latest reopen. */
  resolutionStartedAt: string;
  /** Waiting for the customer (ComplaintAwaitingCustomer until ComplaintResumed). */
  paused: boolean;
  pausedSince: string | null;
  /** Whether the current wait stops the clocks (the policy's pauseWhen); false when not paused. */
  pauseStopsClocks: boolean;
  /** Finished waits that stopped the clocks: what the deadlines were moved out by. */
  pauses: readonly SlaPause[];
  /** SLA minutes the finished waits took off the clocks. */
  pausedMinutes: number;
  /** The escalation schedule of the current clocks. */
  escalations: readonly SlaEscalationDue[];
  /** Steps recorded on the current clocks, as `kind:step`: each escalates once per clock. */
  escalated: readonly string[];
};

export const escalationKey = (kind: SlaKind, step: string): string => `${kind}:${step}`;

export type ComplaintState = NoComplaint | FiledComplaintState;

export function initialComplaintState(): ComplaintState {
  return { exists: false };
}

export function evolveComplaint(state: ComplaintState, event: ComplaintEvent): ComplaintState {
  if (event.type === 'ComplaintFiled') {
    const { data } = event;
    return {
      exists: true,
      complaintId: data.complaintId,
      customerId: data.customerId,
      channel: data.channel,
      category: data.category,
      priority: data.priority,
      ownerId: data.ownerId,
      status: 'open',
      filedAt: data.filedAt,
      sla: { ...data.sla },
      firstRespondedAt: null,
      firstResponseMetAt: null,
      resolvedAt: null,
      resolvedAtFirstContact: false,
      closedAt: null,
      responseCount: 0,
      reopenCount: 0,
      breaches: [],
      breachedClocks: { 'first-response': false, resolution: false },
      filingPriority: data.priority,
      resolutionStartedAt: data.filedAt,
      paused: false,
      pausedSince: null,
      pauseStopsClocks: false,
      pauses: [],
      pausedMinutes: 0,
      escalations: data.escalations ?? [],
      escalated: [],
    };
  }
  // A stream always starts with ComplaintFiled; anything else before it is ignored.
  if (!state.exists) return state;

  switch (event.type) {
    case 'ComplaintResponded': {
      const { respondedAt } = event.data;
      return {
        ...state,
        status: state.status === 'open' ? 'responded' : state.status,
        firstRespondedAt: state.firstRespondedAt ?? respondedAt,
        firstResponseMetAt: state.firstResponseMetAt ?? respondedAt,
        responseCount: state.responseCount + 1,
      };
    }
    case 'ComplaintResolved': {
      const { resolvedAt, atFirstContact } = event.data;
      return {
        ...state,
        status: 'resolved',
        resolvedAt,
        resolvedAtFirstContact: state.resolvedAtFirstContact || atFirstContact,
        firstResponseMetAt: state.firstResponseMetAt ?? resolvedAt,
      };
    }
    case 'ComplaintReopened':
      return {
        ...state,
        status: state.firstRespondedAt === null ? 'open' : 'responded',
        resolvedAt: null,
        sla: { ...state.sla, resolutionDueAt: event.data.resolutionDueAt },
        reopenCount: state.reopenCount + 1,
        resolutionStartedAt: event.data.reopenedAt,
        breachedClocks: { ...state.breachedClocks, resolution: false },
        escalations: event.data.escalations ?? state.escalations,
        escalated: state.escalated.filter((key) => !key.startsWith('resolution:')),
      };
    case 'ComplaintClosed':
      return { ...state, status: 'closed', closedAt: event.data.closedAt };
    case 'ComplaintOwnerChanged':
      return { ...state, ownerId: event.data.ownerId };
    case 'SlaBreached':
      return {
        ...state,
        breaches: [...state.breaches, { kind: event.data.kind, dueAt: event.data.dueAt }],
        breachedClocks: { ...state.breachedClocks, [event.data.kind]: true },
      };
    case 'ComplaintAwaitingCustomer':
      return { ...state, paused: true, pausedSince: event.data.pausedAt, pauseStopsClocks: event.data.clocksStopped };
    case 'ComplaintResumed': {
      const { pausedSince, resumedAt, pausedMinutes, sla, escalations } = event.data;
      return {
        ...state,
        paused: false,
        pausedSince: null,
        pauseStopsClocks: false,
        pauses: state.pauseStopsClocks ? [...state.pauses, { from: pausedSince, to: resumedAt }] : state.pauses,
        pausedMinutes: state.pausedMinutes + pausedMinutes,
        sla: { ...sla },
        escalations,
      };
    }
    case 'ComplaintPriorityChanged':
      return { ...state, priority: event.data.priority, sla: { ...event.data.sla }, escalations: event.data.escalations };
    case 'ComplaintEscalated':
      return { ...state, escalated: [...state.escalated, escalationKey(event.data.kind, event.data.step)] };
  }
}

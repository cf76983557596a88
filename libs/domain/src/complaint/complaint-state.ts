import type { Channel, Priority } from '../shared/types';
import type { ComplaintEvent, SlaDeadlines, SlaKind } from './complaint-events';

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
};

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
      };
    case 'ComplaintClosed':
      return { ...state, status: 'closed', closedAt: event.data.closedAt };
    case 'ComplaintOwnerChanged':
      return { ...state, ownerId: event.data.ownerId };
    case 'SlaBreached':
      return { ...state, breaches: [...state.breaches, { kind: event.data.kind, dueAt: event.data.dueAt }] };
  }
}

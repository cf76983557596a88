import { COMPLAINT_EVENT_TYPES, ERASED, type SlaEscalationDue } from '@crm/domain';
import type { Change, DocBody, DocumentChange, ProjectedEvent, Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { asCrmEvent } from './crm-event';

export const COMPLAINTS = 'complaints';

export type ComplaintBoardStatus = 'filed' | 'responded' | 'resolved' | 'closed';

export interface ComplaintFields {
  complaintId: string;
  customerId: string;
  ownerId: string | null;
  status: ComplaintBoardStatus;
  /** Not resolved and not closed: on the open board. */
  open: boolean;
  priority: string;
  channel: string;
  category: string;
  description: string;
  filedAt: string;
  slaPolicyVersion: string;
  firstResponseDueAt: string;
  resolutionDueAt: string;
  firstRespondedAt: string | null;
  /** When the first-response clock stopped: the first response, or a resolution that came first (as the domain). */
  firstResponseMetAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  resolvedAtFirstContact: boolean;
  reopenCount: number;
  breached: boolean;
  breaches: Array<{ kind: string; dueAt: string }>;
  /**
   * The next deadline the SLA watcher must check: first response while unanswered, else resolution while unresolved;
   * null when no clock runs. Indexed, so the watcher finds due complaints without scanning.
   */
  nextDeadline: { kind: 'first-response' | 'resolution'; dueAt: string } | null;
  /**
   * When the SLA watcher must look at it next: the earliest of the next deadline, the next escalation step and an
   * inbound contact's resume request (issue 16). Indexed.
   */
  nextDueAt: string | null;
  /*
   * Issue 16 fields, written once the events that concern them happen (a complaint that never waited, changed
   * priority or escalated has none of them; the query side reads them with their defaults).
   */
  /** Waiting for the customer; `clocksStopped`: the policy stopped the clocks for the wait. */
  paused?: boolean;
  pausedSince?: string | null;
  clocksStopped?: boolean;
  /** SLA minutes the finished waits took off the clocks. */
  pausedMinutes?: number;
  /** An inbound contact linked to the waiting complaint, for the SLA watcher to turn into a ComplaintResumed. */
  resumeRequest?: { contactId: string; occurredAt: string } | null;
  filingPriority?: string;
  priorityChanges?: number;
  /** The escalation steps of the current clocks and which of them were recorded (`kind:step`). */
  escalationSchedule?: SlaEscalationDue[];
  escalatedSteps?: string[];
  /** Every escalation recorded, oldest first (the board shows them). */
  escalations?: Array<{ step: string; kind: string; atPercent: number; notify: string; dueAt: string; escalatedAt: string; priority: string }>;
  escalated?: boolean;
  nextEscalationDueAt?: string | null;
}

export type ComplaintDoc = Doc & ComplaintFields;
type ComplaintCore = Omit<ComplaintFields, 'nextDeadline' | 'nextDueAt' | 'nextEscalationDueAt'>;

const minInstant = (values: Array<string | null | undefined>): string | null =>
  values.filter((v): v is string => typeof v === 'string').sort()[0] ?? null;

function withNextDeadline(doc: ComplaintCore): DocBody {
  const breachedKinds = new Set(doc.breaches.map((b) => `${b.kind}@${b.dueAt}`));
  let next: ComplaintDoc['nextDeadline'] = null;
  let nextEscalation: string | null = null;
  // A complaint waiting for the customer with its clocks stopped has nothing due: its deadlines move on resume.
  if (doc.open && !(doc.paused === true && doc.clocksStopped === true)) {
    if (!doc.firstResponseMetAt && !breachedKinds.has(`first-response@${doc.firstResponseDueAt}`)) {
      next = { kind: 'first-response', dueAt: doc.firstResponseDueAt };
    } else if (!breachedKinds.has(`resolution@${doc.resolutionDueAt}`)) {
      next = { kind: 'resolution', dueAt: doc.resolutionDueAt };
    }
    const done = new Set(doc.escalatedSteps ?? []);
    nextEscalation = minInstant(
      (doc.escalationSchedule ?? [])
        .filter((e) => !done.has(`${e.kind}:${e.step}`) && (e.kind === 'resolution' || !doc.firstResponseMetAt))
        .map((e) => e.dueAt),
    );
  }
  const escalationField = doc.escalationSchedule ? { nextEscalationDueAt: nextEscalation } : {};
  return {
    ...doc,
    ...escalationField,
    nextDeadline: next,
    nextDueAt: minInstant([next?.dueAt, nextEscalation, doc.resumeRequest?.occurredAt]),
  };
}

/** The complaint board: status, owner and SLA clocks of every complaint. */
export const complaintsProjection: Projection = {
  name: 'complaints',
  version: 1,
  eventTypes: [...COMPLAINT_EVENT_TYPES, 'CustomerErased', 'ContactLogged'],
  opens: { ComplaintFiled: ['category', 'description'] },
  collections: [
    {
      name: COMPLAINTS,
      indexes: [
        { fields: [['open', 1], ['ownerId', 1]] },
        { fields: [['customerId', 1]] },
        { fields: [['nextDueAt', 1]] },
        { fields: [['filedAt', 1]] },
      ],
    },
  ],
  changes(event: ProjectedEvent): Change[] {
    const e = asCrmEvent(event);
    const complaintId = (e.data as { complaintId?: string }).complaintId ?? '';
    const update = (fn: (doc: ComplaintDoc) => ComplaintCore): DocumentChange[] => [
      { collection: COMPLAINTS, id: complaintId, evolve: (doc) => (doc ? withNextDeadline(fn(doc as ComplaintDoc)) : null) },
    ];
    switch (e.type) {
      case 'CustomerErased':
        return [{ collection: COMPLAINTS, where: { customerId: e.data.customerId }, evolve: (d: Doc) => ({ ...d, category: ERASED, description: ERASED }) }];
      case 'ComplaintFiled':
        return [{
          collection: COMPLAINTS,
          id: e.data.complaintId,
          evolve: () => withNextDeadline({
            complaintId: e.data.complaintId, customerId: e.data.customerId, ownerId: e.data.ownerId, status: 'filed', open: true,
            priority: e.data.priority, channel: e.data.channel, category: e.data.category, description: e.data.description,
            filedAt: e.data.filedAt, slaPolicyVersion: e.data.sla.policyVersion, firstResponseDueAt: e.data.sla.firstResponseDueAt,
            resolutionDueAt: e.data.sla.resolutionDueAt, firstRespondedAt: null, firstResponseMetAt: null, resolvedAt: null, closedAt: null,
            resolvedAtFirstContact: false, reopenCount: 0, breached: false, breaches: [],
            ...(e.data.escalations ? { escalationSchedule: e.data.escalations, escalatedSteps: [] } : {}),
          }),
        }];
      case 'ComplaintResponded':
        return update((d) => ({ ...d, status: d.status === 'filed' ? 'responded' : d.status, firstRespondedAt: d.firstRespondedAt ?? e.data.respondedAt,
          firstResponseMetAt: d.firstResponseMetAt ?? e.data.respondedAt,
        }));
      case 'ComplaintResolved':
        return update((d) => ({
          ...d, status: 'resolved', open: false, resolvedAt: e.data.resolvedAt, resolvedAtFirstContact: e.data.atFirstContact,
          firstResponseMetAt: d.firstResponseMetAt ?? e.data.resolvedAt,
        }));
      case 'ComplaintReopened':
        return update((d) => ({
          ...d, status: d.firstRespondedAt ? 'responded' : 'filed', open: true, resolvedAt: null,
          resolutionDueAt: e.data.resolutionDueAt, reopenCount: d.reopenCount + 1,
          ...(e.data.escalations
            ? { escalationSchedule: e.data.escalations, escalatedSteps: (d.escalatedSteps ?? []).filter((k) => !k.startsWith('resolution:')) }
            : {}),
        }));
      case 'ComplaintClosed':
        return update((d) => ({ ...d, status: 'closed', open: false, closedAt: e.data.closedAt }));
      case 'ComplaintOwnerChanged':
        return update((d) => ({ ...d, ownerId: e.data.ownerId }));
      case 'SlaBreached':
        return update((d) => ({ ...d, breached: true, breaches: [...d.breaches, { kind: e.data.kind, dueAt: e.data.dueAt }] }));
      case 'ComplaintAwaitingCustomer':
        return update((d) => ({ ...d, paused: true, pausedSince: e.data.pausedAt, clocksStopped: e.data.clocksStopped, pausedMinutes: d.pausedMinutes ?? 0, resumeRequest: null }));
      case 'ComplaintResumed':
        return update((d) => ({
          ...d, paused: false, pausedSince: null, clocksStopped: false, pausedMinutes: (d.pausedMinutes ?? 0) + e.data.pausedMinutes,
          resumeRequest: null, firstResponseDueAt: e.data.sla.firstResponseDueAt, resolutionDueAt: e.data.sla.resolutionDueAt,
          ...(e.data.escalations.length > 0 || d.escalationSchedule ? { escalationSchedule: e.data.escalations, escalatedSteps: d.escalatedSteps ?? [] } : {}),
        }));
      case 'ComplaintPriorityChanged':
        return update((d) => ({
          ...d, priority: e.data.priority, filingPriority: d.filingPriority ?? e.data.previousPriority, priorityChanges: (d.priorityChanges ?? 0) + 1,
          firstResponseDueAt: e.data.sla.firstResponseDueAt, resolutionDueAt: e.data.sla.resolutionDueAt,
          ...(e.data.escalations.length > 0 || d.escalationSchedule ? { escalationSchedule: e.data.escalations, escalatedSteps: d.escalatedSteps ?? [] } : {}),
        }));
      case 'ComplaintEscalated': {
        const { step, kind, atPercent, notify, dueAt, escalatedAt, priority } = e.data;
        return update((d) => ({
          ...d, escalated: true, escalatedSteps: [...(d.escalatedSteps ?? []), `${kind}:${step}`],
          escalations: [...(d.escalations ?? []), { step, kind, atPercent, notify, dueAt, escalatedAt, priority }],
        }));
      }
      case 'ContactLogged': {
        const { complaintId: linked, direction, contactId, occurredAt } = e.data;
        if (!linked || direction !== 'inbound') return [];
        // Only a contact at or after the start of the wait resumes it (the decider checks again against the stream).
        return [{
          collection: COMPLAINTS,
          id: linked,
          evolve: (doc: Doc | null) => {
            if (!doc) return null;
            const d = doc as ComplaintDoc;
            if (d.paused !== true || !d.pausedSince || occurredAt < d.pausedSince || d.resumeRequest) return d;
            return withNextDeadline({ ...d, resumeRequest: { contactId, occurredAt } });
          },
        }];
      }
      default:
        return [];
    }
  },
};

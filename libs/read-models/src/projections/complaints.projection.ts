import { COMPLAINT_EVENT_TYPES, ERASED } from '@crm/domain';
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
  nextDueAt: string | null;
}

export type ComplaintDoc = Doc & ComplaintFields;
type ComplaintCore = Omit<ComplaintFields, 'nextDeadline' | 'nextDueAt'>;

function withNextDeadline(doc: ComplaintCore): DocBody {
  const breachedKinds = new Set(doc.breaches.map((b) => `${b.kind}@${b.dueAt}`));
  let next: ComplaintDoc['nextDeadline'] = null;
  if (doc.open) {
    if (!doc.firstResponseMetAt && !breachedKinds.has(`first-response@${doc.firstResponseDueAt}`)) {
      next = { kind: 'first-response', dueAt: doc.firstResponseDueAt };
    } else if (!breachedKinds.has(`resolution@${doc.resolutionDueAt}`)) {
      next = { kind: 'resolution', dueAt: doc.resolutionDueAt };
    }
  }
  return { ...doc, nextDeadline: next, nextDueAt: next?.dueAt ?? null };
}

/** The complaint board: status, owner and SLA clocks of every complaint. */
export const complaintsProjection: Projection = {
  name: 'complaints',
  version: 1,
  eventTypes: [...COMPLAINT_EVENT_TYPES, 'CustomerErased'],
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
        }));
      case 'ComplaintClosed':
        return update((d) => ({ ...d, status: 'closed', open: false, closedAt: e.data.closedAt }));
      case 'ComplaintOwnerChanged':
        return update((d) => ({ ...d, ownerId: e.data.ownerId }));
      case 'SlaBreached':
        return update((d) => ({ ...d, breached: true, breaches: [...d.breaches, { kind: e.data.kind, dueAt: e.data.dueAt }] }));
      default:
        return [];
    }
  },
};

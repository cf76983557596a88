import type { DocBody, DocumentChange, ProjectedEvent, Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { asCrmEvent } from './crm-event';

export const SLA_BREACHES = 'sla_breaches';

/** One breached deadline of a complaint, as `GET /sla-breaches` lists it. */
export interface BreachFields {
  complaintId: string;
  customerId: string;
  ownerId: string | null;
  priority: string;
  kind: string;
  dueAt: string;
  breachedAt: string;
  /** When the log recorded the breach (the watcher's detection). */
  detectedAt: string;
  /** When the late response or resolution came; null while still missing. */
  metAt: string | null;
}

export type BreachDoc = Doc & BreachFields;

const breachId = (complaintId: string, kind: string, dueAt: string): string => `${complaintId}:${kind}:${dueAt}`;

/** Sets `metAt` on a breach document if there is one and it is not met yet; absent documents stay absent. */
const meet = (id: string, at: string): DocumentChange => ({
  collection: SLA_BREACHES,
  id,
  evolve: (doc) => (doc === null ? null : (doc as BreachDoc).metAt ? doc : { ...doc, metAt: at }),
});

/**
 * One document per breached deadline. `metAt` is when the late response or resolution finally came (null while still
 * missing), so minutes late are exact once met and grow with the clock until then. Responses and resolutions restate
 * the deadlines in force, which names the breach document they end.
 */
export const slaBreachesProjection: Projection = {
  name: 'sla_breaches',
  version: 1,
  eventTypes: ['SlaBreached', 'ComplaintResponded', 'ComplaintResolved'],
  opens: {},
  collections: [
    {
      name: SLA_BREACHES,
      indexes: [{ fields: [['dueAt', 1]] }, { fields: [['ownerId', 1], ['dueAt', 1]] }, { fields: [['complaintId', 1]] }],
    },
  ],
  changes(event: ProjectedEvent): DocumentChange[] {
    const e = asCrmEvent(event);
    switch (e.type) {
      case 'SlaBreached':
        return [{
          collection: SLA_BREACHES,
          id: breachId(e.data.complaintId, e.data.kind, e.data.dueAt),
          evolve: (): DocBody => ({
            complaintId: e.data.complaintId,
            customerId: e.data.customerId,
            ownerId: e.data.ownerId,
            priority: e.data.priority,
            kind: e.data.kind,
            dueAt: e.data.dueAt,
            breachedAt: e.data.breachedAt,
            detectedAt: event.recordedAt,
            metAt: null,
          } satisfies BreachFields),
        }];
      case 'ComplaintResponded':
        return [meet(breachId(e.data.complaintId, 'first-response', e.data.sla.firstResponseDueAt), e.data.respondedAt)];
      case 'ComplaintResolved':
        // A resolution also answers the customer: it ends a first-response breach that is still open.
        return [
          meet(breachId(e.data.complaintId, 'first-response', e.data.sla.firstResponseDueAt), e.data.resolvedAt),
          meet(breachId(e.data.complaintId, 'resolution', e.data.sla.resolutionDueAt), e.data.resolvedAt),
        ];
      default:
        return [];
    }
  },
};

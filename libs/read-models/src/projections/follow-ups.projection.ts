import { ERASED } from '@crm/domain';
import type { Doc } from '../store/read-model-store.port';
import type { Change, ProjectedEvent, Projection } from '../projection/projection';
import { asCrmEvent } from './crm-event';

export const FOLLOW_UPS = 'follow_ups';

/** One follow-up, as `GET /follow-ups` lists it. */
export interface FollowUpFields {
  followUpId: string;
  customerId: string;
  ownerId: string;
  dueAt: string;
  reason: string;
  complaintId: string | null;
  status: 'open' | 'completed' | 'cancelled';
  scheduledAt: string;
  closedAt: string | null;
  /** The completion note or the cancellation reason. */
  note: string | null;
}

export type FollowUpDoc = Doc & FollowUpFields;

/** Every follow-up with its status and owner: the work list behind `GET /follow-ups`. */
export const followUpsProjection: Projection = {
  name: 'follow_ups',
  version: 1,
  eventTypes: ['FollowUpScheduled', 'FollowUpCompleted', 'FollowUpCancelled', 'FollowUpReassigned', 'CustomerErased'],
  opens: { FollowUpScheduled: ['reason'], FollowUpCompleted: ['note'], FollowUpCancelled: ['reason'] },
  collections: [{ name: FOLLOW_UPS, indexes: [{ fields: [['status', 1], ['dueAt', 1]] }, { fields: [['ownerId', 1], ['status', 1], ['dueAt', 1]] }, { fields: [['customerId', 1]] }] }],
  changes(event: ProjectedEvent): Change[] {
    const e = asCrmEvent(event);
    switch (e.type) {
      case 'CustomerErased':
        return [{ collection: FOLLOW_UPS, where: { customerId: e.data.customerId }, evolve: (d: Doc) => ({ ...d, reason: ERASED, note: (d as FollowUpDoc).note === null ? null : ERASED }) }];
      case 'FollowUpScheduled':
        return [{
          collection: FOLLOW_UPS,
          id: e.data.followUpId,
          evolve: () => ({
            followUpId: e.data.followUpId,
            customerId: e.data.customerId,
            ownerId: e.data.ownerId,
            dueAt: e.data.dueAt,
            reason: e.data.reason,
            complaintId: e.data.complaintId ?? null,
            status: 'open',
            scheduledAt: event.recordedAt,
            closedAt: null,
            note: null,
          } satisfies FollowUpFields),
        }];
      case 'FollowUpCompleted':
        return [{ collection: FOLLOW_UPS, id: e.data.followUpId, evolve: (d: Doc | null) => (d ? { ...d, status: 'completed', closedAt: e.data.completedAt, note: e.data.note ?? null } : null) }];
      case 'FollowUpCancelled':
        return [{ collection: FOLLOW_UPS, id: e.data.followUpId, evolve: (d: Doc | null) => (d ? { ...d, status: 'cancelled', closedAt: e.data.cancelledAt, note: e.data.reason ?? null } : null) }];
      case 'FollowUpReassigned':
        return [{ collection: FOLLOW_UPS, id: e.data.followUpId, evolve: (d: Doc | null) => (d ? { ...d, ownerId: e.data.ownerId } : null) }];
      default:
        return [];
    }
  },
};

import type { FileComplaint } from '../src/complaint/complaint-commands';
import type { ComplaintEvent, ComplaintFiled } from '../src/complaint/complaint-events';

export const COMPLAINT_ID = 'compl-1';
export const CUSTOMER_ID = 'cust-1';

/** Filed at 09:00 UTC as P2: first response due 13:00, resolution due 09:00 the next day. */
export const FILED_AT = '2026-03-02T09:00:00.000Z';
export const P2_FIRST_RESPONSE_DUE = '2026-03-02T13:00:00.000Z';
export const P2_RESOLUTION_DUE = '2026-03-03T09:00:00.000Z';

export function fileComplaint(overrides: Partial<FileComplaint['data']> = {}): FileComplaint {
  return {
    type: 'FileComplaint',
    data: {
      complaintId: COMPLAINT_ID,
      customerId: CUSTOMER_ID,
      channel: 'phone',
      category: 'delivery',
      priority: 'P2',
      description: 'parcel arrived damaged',
      ownerId: 'agent-ana',
      occurredAt: FILED_AT,
      resolvedAtFirstContact: false,
      ...overrides,
    },
  };
}

export function complaintFiled(overrides: Partial<ComplaintFiled['data']> = {}): ComplaintFiled {
  return {
    type: 'ComplaintFiled',
    data: {
      complaintId: COMPLAINT_ID,
      customerId: CUSTOMER_ID,
      channel: 'phone',
      category: 'delivery',
      priority: 'P2',
      description: 'parcel arrived damaged',
      ownerId: 'agent-ana',
      filedAt: FILED_AT,
      sla: { policyVersion: 'sla-2026-01', firstResponseDueAt: P2_FIRST_RESPONSE_DUE, resolutionDueAt: P2_RESOLUTION_DUE },
      ...overrides,
    },
  };
}

/** The deadlines in force for the P2 complaint filed at FILED_AT (responses and resolutions restate them). */
export const P2_SLA = { policyVersion: 'sla-2026-01', firstResponseDueAt: P2_FIRST_RESPONSE_DUE, resolutionDueAt: P2_RESOLUTION_DUE };

export const responded = (respondedAt: string, message = 'sorry, a replacement is on its way', sla = P2_SLA): ComplaintEvent => ({
  type: 'ComplaintResponded',
  data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, respondedAt, message, responderId: 'agent-ana', sla },
});

export const resolved = (resolvedAt: string, atFirstContact = false, sla = P2_SLA): ComplaintEvent => ({
  type: 'ComplaintResolved',
  data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, resolvedAt, resolution: 'replacement delivered', atFirstContact, sla },
});

export const reopened = (reopenedAt: string, resolutionDueAt: string): ComplaintEvent => ({
  type: 'ComplaintReopened',
  data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, reopenedAt, reason: 'replacement damaged too', resolutionDueAt },
});

export const closed = (closedAt: string): ComplaintEvent => ({
  type: 'ComplaintClosed',
  data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, closedAt },
});

export const ownerChanged = (ownerId: string, previousOwnerId: string | null): ComplaintEvent => ({
  type: 'ComplaintOwnerChanged',
  data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, ownerId, previousOwnerId, reason: 'escalation' },
});

import { describe, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import { closed, complaintFiled, COMPLAINT_ID, CUSTOMER_ID, FILED_AT, ownerChanged, resolved } from '../../test-support/complaint-fixtures';
import type { HandOverComplaint } from './hand-over-complaint';
import { complaintHandOverDecider } from './hand-over-complaint';

const spec = DeciderSpecification.for(complaintHandOverDecider);
const REASON = 'owner hand-over: ana moves to key accounts';

function handOver(ownerId: string, reassignedSince = false): HandOverComplaint {
  return { type: 'HandOverComplaint', data: { complaintId: COMPLAINT_ID, ownerId, reason: REASON, reassignedSince } };
}

describe('HandOverComplaint (one open complaint moved to the customer\'s new owner)', () => {
  it("moves an open complaint to the new owner with the hand-over's reason", () => {
    spec.given([complaintFiled({ ownerId: 'agent-ana' })]).when(handOver('agent-bob')).then([
      { type: 'ComplaintOwnerChanged', data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: REASON } },
    ]);
  });

  it('moves a resolved (not yet closed) complaint: it may still be reopened, and its owner answers for it', () => {
    spec.given([complaintFiled({ ownerId: 'agent-ana' }), resolved(FILED_AT)]).when(handOver('agent-bob')).then([
      { type: 'ComplaintOwnerChanged', data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: REASON } },
    ]);
  });

  it('moves a complaint filed while the customer had no owner', () => {
    spec.given([complaintFiled({ ownerId: null })]).when(handOver('agent-bob')).then([
      { type: 'ComplaintOwnerChanged', data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, ownerId: 'agent-bob', previousOwnerId: null, reason: REASON } },
    ]);
  });

  it('does nothing when the complaint is already with the new owner (a second run, or a resume after a crash)', () => {
    spec.given([complaintFiled({ ownerId: 'agent-ana' }), ownerChanged('agent-bob', 'agent-ana')]).when(handOver('agent-bob')).thenNothing();
  });

  it('leaves a closed complaint alone', () => {
    spec.given([complaintFiled({ ownerId: 'agent-ana' }), resolved(FILED_AT), closed(FILED_AT)]).when(handOver('agent-bob')).thenNothing();
  });

  it('leaves a complaint someone reassigned by hand after the owner change', () => {
    spec.given([complaintFiled({ ownerId: 'agent-ana' }), ownerChanged('agent-specialist', 'agent-ana')]).when(handOver('agent-bob', true)).thenNothing();
  });

  it('does nothing for a complaint that does not exist', () => {
    spec.given([]).when(handOver('agent-bob')).thenNothing();
  });
});

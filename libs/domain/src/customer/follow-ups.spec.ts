import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import {
  COMPLAINT_ID,
  CUSTOMER_ID,
  OTHER_CUSTOMER_ID,
  followUpScheduled,
  registered,
} from '../../test-support/customer-fixtures';
import { DEFAULT_CONTACT_CAP_POLICY } from './contact-cap-policy';
import type { ScheduleFollowUp } from './customer-commands';
import { makeCustomerDecider } from './customer-decider';

const decider = makeCustomerDecider({ contactPolicy: DEFAULT_CONTACT_CAP_POLICY });
const spec = DeciderSpecification.for(decider);
const NOW = new Date('2026-03-04T15:30:00.000Z');

function schedule(overrides: Partial<ScheduleFollowUp['data']> = {}): ScheduleFollowUp {
  return {
    type: 'ScheduleFollowUp',
    data: {
      customerId: CUSTOMER_ID,
      followUpId: 'fu-1',
      dueAt: '2026-03-05T09:00:00Z',
      reason: 'call back about the quote',
      actorId: 'agent-bob',
      ...overrides,
    },
  };
}

describe('ScheduleFollowUp', () => {
  it("is owned by the customer's owner", () => {
    spec.given([registered({ ownerId: 'agent-ana' })]).when(schedule()).then([followUpScheduled('fu-1', { ownerId: 'agent-ana' })]);
  });

  it('is owned by whoever scheduled it when the customer has no owner', () => {
    spec.given([registered()]).when(schedule()).then([followUpScheduled('fu-1', { ownerId: 'agent-bob' })]);
  });

  it("follows the customer's current owner", () => {
    spec
      .given([
        registered({ ownerId: 'agent-ana' }),
        { type: 'CustomerOwnerAssigned', data: { customerId: CUSTOMER_ID, ownerId: 'agent-cy', previousOwnerId: 'agent-ana', reason: 'x' } },
      ])
      .when(schedule())
      .then([followUpScheduled('fu-1', { ownerId: 'agent-cy' })]);
  });

  it("links a complaint of this customer, open or closed", () => {
    spec
      .given([registered({ ownerId: 'agent-ana' })])
      .when(schedule({ complaintId: COMPLAINT_ID, linkedComplaint: { customerId: CUSTOMER_ID, open: false } }))
      .then([followUpScheduled('fu-1', { ownerId: 'agent-ana', complaintId: COMPLAINT_ID })]);
  });

  it('refuses a complaint that does not exist', () => {
    spec.given([registered()]).when(schedule({ complaintId: COMPLAINT_ID })).thenThrows('complaint-not-found', { complaintId: COMPLAINT_ID });
  });

  it("refuses another customer's complaint", () => {
    spec
      .given([registered()])
      .when(schedule({ complaintId: COMPLAINT_ID, linkedComplaint: { customerId: OTHER_CUSTOMER_ID, open: true } }))
      .thenThrows('complaint-not-of-customer');
  });

  it('treats a reused follow-up id as a bug, not a business refusal', () => {
    expect(() => decider.decide(schedule(), decider.evolve(decider.evolve(decider.initialState(), registered()), followUpScheduled('fu-1')), NOW)).toThrow(
      'follow-up fu-1 is already scheduled',
    );
  });
});

describe('CompleteFollowUp', () => {
  it('completes an open follow-up at the current time', () => {
    spec
      .given([registered(), followUpScheduled('fu-1')])
      .when({ type: 'CompleteFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1', note: 'customer accepted' } }, NOW)
      .then([
        {
          type: 'FollowUpCompleted',
          data: { customerId: CUSTOMER_ID, followUpId: 'fu-1', completedAt: '2026-03-04T15:30:00.000Z', note: 'customer accepted' },
        },
      ]);
  });

  it('leaves out a note that was not given', () => {
    spec
      .given([registered(), followUpScheduled('fu-1')])
      .when({ type: 'CompleteFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1' } }, NOW)
      .then([{ type: 'FollowUpCompleted', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1', completedAt: '2026-03-04T15:30:00.000Z' } }]);
  });

  it('refuses an unknown follow-up', () => {
    spec
      .given([registered(), followUpScheduled('fu-1')])
      .when({ type: 'CompleteFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-9' } })
      .thenThrows('follow-up-not-found', { followUpId: 'fu-9' });
  });

  it('refuses a completed follow-up', () => {
    spec
      .given([
        registered(),
        followUpScheduled('fu-1'),
        { type: 'FollowUpCompleted', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1', completedAt: '2026-03-04T10:00:00.000Z' } },
      ])
      .when({ type: 'CompleteFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1' } })
      .thenThrows('follow-up-closed', { followUpId: 'fu-1', status: 'completed' });
  });

  it('refuses a cancelled follow-up', () => {
    spec
      .given([
        registered(),
        followUpScheduled('fu-1'),
        { type: 'FollowUpCancelled', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1', cancelledAt: '2026-03-04T10:00:00.000Z' } },
      ])
      .when({ type: 'CompleteFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1' } })
      .thenThrows('follow-up-closed', { status: 'cancelled' });
  });

  it('closing one follow-up leaves the others open', () => {
    spec
      .given([
        registered(),
        followUpScheduled('fu-1'),
        followUpScheduled('fu-2'),
        { type: 'FollowUpCompleted', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1', completedAt: '2026-03-04T10:00:00.000Z' } },
      ])
      .when({ type: 'CompleteFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-2' } }, NOW)
      .then([{ type: 'FollowUpCompleted', data: { customerId: CUSTOMER_ID, followUpId: 'fu-2', completedAt: '2026-03-04T15:30:00.000Z' } }]);
  });
});

describe('CancelFollowUp', () => {
  it('cancels an open follow-up at the current time', () => {
    spec
      .given([registered(), followUpScheduled('fu-1')])
      .when({ type: 'CancelFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1', reason: 'customer bought elsewhere' } }, NOW)
      .then([
        {
          type: 'FollowUpCancelled',
          data: { customerId: CUSTOMER_ID, followUpId: 'fu-1', cancelledAt: '2026-03-04T15:30:00.000Z', reason: 'customer bought elsewhere' },
        },
      ]);
  });

  it('refuses an unknown follow-up', () => {
    spec
      .given([registered()])
      .when({ type: 'CancelFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1' } })
      .thenThrows('follow-up-not-found');
  });

  it('refuses a follow-up that is already closed', () => {
    spec
      .given([
        registered(),
        followUpScheduled('fu-1'),
        { type: 'FollowUpCancelled', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1', cancelledAt: '2026-03-04T10:00:00.000Z' } },
      ])
      .when({ type: 'CancelFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1' } })
      .thenThrows('follow-up-closed');
  });

  it('keeps the follow-up in state with its status', () => {
    spec
      .given([registered(), followUpScheduled('fu-1', { complaintId: COMPLAINT_ID })])
      .when({ type: 'CancelFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'fu-1' } }, NOW)
      .thenState((state) => {
        expect(state.exists && state.followUps['fu-1']).toEqual({
          followUpId: 'fu-1',
          status: 'cancelled',
          dueAt: '2026-03-05T09:00:00.000Z',
          ownerId: 'agent-ana',
          complaintId: COMPLAINT_ID,
        });
      });
  });
});

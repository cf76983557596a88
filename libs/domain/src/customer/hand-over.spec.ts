import { describe, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import { CUSTOMER_ID, followUpScheduled, registered } from '../../test-support/customer-fixtures';
import { DEFAULT_CONTACT_CAP_POLICY } from './contact-cap-policy';
import type { AssignCustomerOwner } from './customer-commands';
import type { CustomerEvent } from './customer-events';
import { makeCustomerDecider } from './customer-decider';

const spec = DeciderSpecification.for(makeCustomerDecider({ contactPolicy: DEFAULT_CONTACT_CAP_POLICY }));

function assign(ownerId: string, moveOpenWork?: boolean): AssignCustomerOwner {
  const command: AssignCustomerOwner = { type: 'AssignCustomerOwner', data: { customerId: CUSTOMER_ID, ownerId, reason: 'ana moves to key accounts' } };
  if (moveOpenWork !== undefined) command.data.moveOpenWork = moveOpenWork;
  return command;
}

const assigned = (ownerId: string, previousOwnerId: string | null, moveOpenWork: boolean): CustomerEvent => ({
  type: 'CustomerOwnerAssigned',
  data: { customerId: CUSTOMER_ID, ownerId, previousOwnerId, reason: 'ana moves to key accounts', moveOpenWork },
});

const reassigned = (followUpId: string, ownerId: string, previousOwnerId: string): CustomerEvent => ({
  type: 'FollowUpReassigned',
  data: { customerId: CUSTOMER_ID, followUpId, ownerId, previousOwnerId, reason: 'owner hand-over: ana moves to key accounts' },
});

const done = (followUpId: string): CustomerEvent => ({
  type: 'FollowUpCompleted', data: { customerId: CUSTOMER_ID, followUpId, completedAt: '2026-03-02T10:00:00.000Z' },
});

describe('AssignCustomerOwner with moveOpenWork (owner hand-over of follow-ups)', () => {
  it('moves every open follow-up to the new owner in the same append, each with the reason', () => {
    spec
      .given([registered({ ownerId: 'agent-ana' }), followUpScheduled('fu-1', { ownerId: 'agent-ana' }), followUpScheduled('fu-2', { ownerId: 'agent-ana' })])
      .when(assign('agent-bob', true))
      .then([assigned('agent-bob', 'agent-ana', true), reassigned('fu-1', 'agent-bob', 'agent-ana'), reassigned('fu-2', 'agent-bob', 'agent-ana')]);
  });

  it('leaves completed and cancelled follow-ups, and those the new owner has already', () => {
    spec
      .given([
        registered({ ownerId: 'agent-ana' }),
        followUpScheduled('fu-done', { ownerId: 'agent-ana' }), done('fu-done'),
        followUpScheduled('fu-gone', { ownerId: 'agent-ana' }),
        { type: 'FollowUpCancelled', data: { customerId: CUSTOMER_ID, followUpId: 'fu-gone', cancelledAt: '2026-03-02T10:00:00.000Z' } },
        followUpScheduled('fu-bob', { ownerId: 'agent-bob' }),
        followUpScheduled('fu-cy', { ownerId: 'agent-cy' }),
      ])
      .when(assign('agent-bob', true))
      .then([assigned('agent-bob', 'agent-ana', true), reassigned('fu-cy', 'agent-bob', 'agent-cy')]);
  });

  it('moves nothing when the request says so, and says so in the event', () => {
    spec
      .given([registered({ ownerId: 'agent-ana' }), followUpScheduled('fu-1', { ownerId: 'agent-ana' })])
      .when(assign('agent-bob', false))
      .then([assigned('agent-bob', 'agent-ana', false)]);
  });

  it('keeps the event as it always was when the command does not ask (importers, older callers)', () => {
    spec
      .given([registered({ ownerId: 'agent-ana' }), followUpScheduled('fu-1', { ownerId: 'agent-ana' })])
      .when(assign('agent-bob'))
      .then([{ type: 'CustomerOwnerAssigned', data: { customerId: CUSTOMER_ID, ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: 'ana moves to key accounts' } }]);
  });

  it('a moved follow-up is owned by the new owner: a second hand-over moves it from there', () => {
    spec
      .given([registered({ ownerId: 'agent-ana' }), followUpScheduled('fu-1', { ownerId: 'agent-ana' }),
        assigned('agent-bob', 'agent-ana', true), reassigned('fu-1', 'agent-bob', 'agent-ana')])
      .when(assign('agent-cy', true))
      .then([assigned('agent-cy', 'agent-bob', true), reassigned('fu-1', 'agent-cy', 'agent-bob')]);
  });
});

import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import { normalizeInstant } from '../shared/instant';
import { evaluateOutboundContact } from './contact-cap-policy';
import type { ContactCapPolicy } from './contact-cap-policy';
import type {
  AssignCustomerOwner,
  CancelFollowUp,
  ChangeCustomerProfile,
  CompleteFollowUp,
  CustomerCommand,
  LinkedComplaint,
  LogContact,
  RegisterCustomer,
  ScheduleFollowUp,
  SetContactPreferences,
} from './customer-commands';
import type {
  ContactLogged,
  CustomerEvent,
  CustomerOwnerAssigned,
  CustomerProfileChanged,
  CustomerRegistered,
  FollowUpCancelled,
  FollowUpCompleted,
  FollowUpScheduled,
} from './customer-events';
import { evolveCustomer, initialCustomerState } from './customer-state';
import { markMergedInto, markUnmergedFrom, mergeDuplicate, mergePartyOf, unmergeDuplicate } from './merge-rules';
import { followUpsHandedOver } from './hand-over';
import type { CustomerState, FollowUp, RegisteredCustomer } from './customer-state';

export type CustomerDecider = Decider<CustomerCommand, CustomerState, CustomerEvent>;

export function makeCustomerDecider(options: { contactPolicy: ContactCapPolicy }): CustomerDecider {
  const { contactPolicy } = options;

  function decide(command: CustomerCommand, state: CustomerState, now: Date): CustomerEvent[] {
    if (command.type === 'RegisterCustomer') return register(command, state);
    if (!state.exists) {
      throw new DomainError('customer-not-found', `customer ${command.data.customerId} does not exist`, {
        customerId: command.data.customerId,
      });
    }
    const self = mergePartyOf(state.customerId, state);
    switch (command.type) {
      // Before the erased and merged checks below: these name their own refusals (422 merge-customer-erased, etc.).
      case 'MergeDuplicate':
        return mergeDuplicate(command, self, now);
      case 'MarkMergedInto':
        return markMergedInto(command, self, now);
      case 'UnmergeDuplicate':
        return unmergeDuplicate(command, self, now);
      case 'MarkUnmergedFrom':
        return markUnmergedFrom(command, self, now);
      default:
        break;
    }
    if (state.erasedAt !== undefined) {
      throw new DomainError('customer-erased', `customer ${state.customerId} was erased on ${state.erasedAt}`, {
        customerId: state.customerId,
      });
    }
    // A merged duplicate takes no commands: its history goes on under the survivor. Erasure is the exception (it
    // erases the whole merged group, and a crash may leave one member to finish).
    if (state.mergedInto !== undefined && command.type !== 'EraseCustomer') {
      throw new DomainError('customer-merged', `customer ${state.customerId} was merged into ${state.mergedInto}`, {
        customerId: state.customerId,
        survivorId: state.mergedInto,
      });
    }
    switch (command.type) {
      case 'EraseCustomer':
        return [{
          type: 'CustomerErased',
          data: { customerId: state.customerId, erasedAt: now.toISOString(), reason: command.data.reason, fields: command.data.fields },
        }];
      case 'ChangeCustomerProfile':
        return changeProfile(command, state);
      case 'ConvertProspect':
        if (state.kind !== 'prospect') {
          throw new DomainError('already-a-customer', `customer ${state.customerId} is not a prospect`, {
            customerId: state.customerId,
          });
        }
        return [{ type: 'ProspectConverted', data: { customerId: state.customerId } }];
      case 'AssignCustomerOwner':
        return assignOwner(command, state);
      case 'SetContactPreferences':
        return setPreferences(command, state);
      case 'LogContact':
        return logContact(command, state);
      case 'ScheduleFollowUp':
        return scheduleFollowUp(command, state);
      case 'CompleteFollowUp':
        return completeFollowUp(command, state, now);
      case 'CancelFollowUp':
        return cancelFollowUp(command, state, now);
    }
  }

  function logContact(command: LogContact, state: RegisteredCustomer): CustomerEvent[] {
    const { linkedComplaint, ...data } = command.data;
    const occurredAt = normalizeInstant(data.occurredAt, 'occurredAt');
    if (data.complaintId !== undefined) checkLinkedComplaint(state, data.complaintId, linkedComplaint);

    const decision = evaluateOutboundContact(contactPolicy, state.preferences, state.outboundContacts, {
      direction: data.direction,
      channel: data.channel,
      purpose: data.purpose,
      occurredAt,
      linkedToOpenComplaint: data.complaintId !== undefined && linkedComplaint?.open === true,
    });
    if (!decision.allowed) {
      throw new DomainError('contact-cap-exceeded', `outbound contact refused (${decision.rule}): ${decision.message}`, {
        rule: decision.rule,
        customerId: state.customerId,
        ...decision.details,
      });
    }

    const event: ContactLogged = {
      type: 'ContactLogged',
      data: {
        customerId: state.customerId,
        contactId: data.contactId,
        channel: data.channel,
        direction: data.direction,
        purpose: data.purpose,
        summary: data.summary,
        outcome: data.outcome,
        occurredAt,
        agentId: data.agentId,
      },
    };
    if (data.complaintId !== undefined) event.data.complaintId = data.complaintId;
    return [event];
  }

  return {
    decide,
    evolve: evolveCustomer,
    initialState: initialCustomerState,
  };
}

function register(command: RegisterCustomer, state: CustomerState): CustomerEvent[] {
  const { customerId, kind, name, email, phone, ownerId, externalRef } = command.data;
  if (state.exists) {
    throw new DomainError('customer-already-exists', `customer ${customerId} already exists`, { customerId });
  }
  const event: CustomerRegistered = { type: 'CustomerRegistered', data: { customerId, kind, name } };
  if (email !== undefined) event.data.email = email;
  if (phone !== undefined) event.data.phone = phone;
  if (ownerId !== undefined) event.data.ownerId = ownerId;
  if (externalRef !== undefined) event.data.externalRef = externalRef;
  return [event];
}

function changeProfile(command: ChangeCustomerProfile, state: RegisteredCustomer): CustomerEvent[] {
  const { name, email, phone } = command.data;
  const changes: CustomerProfileChanged['data']['changes'] = {};
  if (name !== undefined && name !== state.name) changes.name = name;
  if (email !== undefined && email !== state.email) changes.email = email;
  if (phone !== undefined && phone !== state.phone) changes.phone = phone;
  if (Object.keys(changes).length === 0) {
    throw new DomainError('no-change', `the profile of customer ${state.customerId} already has these values`, {
      customerId: state.customerId,
    });
  }
  return [{ type: 'CustomerProfileChanged', data: { customerId: state.customerId, changes } }];
}

function assignOwner(command: AssignCustomerOwner, state: RegisteredCustomer): CustomerEvent[] {
  const { ownerId, reason, moveOpenWork } = command.data;
  if (ownerId === state.ownerId) {
    throw new DomainError('owner-unchanged', `customer ${state.customerId} is already owned by ${ownerId}`, {
      customerId: state.customerId,
      ownerId,
    });
  }
  const assigned: CustomerOwnerAssigned = {
    type: 'CustomerOwnerAssigned',
    data: { customerId: state.customerId, ownerId, previousOwnerId: state.ownerId, reason },
  };
  if (moveOpenWork === undefined) return [assigned];
  assigned.data.moveOpenWork = moveOpenWork;
  return moveOpenWork ? [assigned, ...followUpsHandedOver(state, ownerId, reason)] : [assigned];
}

/**
 * Always recorded, even when nothing changes: a customer restating their consent is itself a fact
 * worth keeping (when and by whom it was confirmed).
 */
function setPreferences(command: SetContactPreferences, state: RegisteredCustomer): CustomerEvent[] {
  const { maxContactsPer7Days, doNotContact, channels } = command.data;
  return [
    {
      type: 'ContactPreferencesSet',
      data: { customerId: state.customerId, maxContactsPer7Days, doNotContact, channels: [...new Set(channels)] },
    },
  ];
}

function checkLinkedComplaint(
  state: RegisteredCustomer,
  complaintId: string,
  linked: LinkedComplaint | undefined,
): void {
  if (linked === undefined) {
    throw new DomainError('complaint-not-found', `complaint ${complaintId} does not exist`, { complaintId });
  }
  if (linked.customerId !== state.customerId) {
    throw new DomainError(
      'complaint-not-of-customer',
      `complaint ${complaintId} belongs to another customer than ${state.customerId}`,
      { complaintId, customerId: state.customerId },
    );
  }
}

function scheduleFollowUp(command: ScheduleFollowUp, state: RegisteredCustomer): CustomerEvent[] {
  const { followUpId, reason, complaintId, linkedComplaint, actorId } = command.data;
  if (state.followUps[followUpId] !== undefined) {
    // Follow-up ids are generated by the application, so a clash is a bug, not a user's mistake.
    throw new Error(`follow-up ${followUpId} is already scheduled for customer ${state.customerId}`);
  }
  if (complaintId !== undefined) checkLinkedComplaint(state, complaintId, linkedComplaint);
  const event: FollowUpScheduled = {
    type: 'FollowUpScheduled',
    data: {
      customerId: state.customerId,
      followUpId,
      dueAt: normalizeInstant(command.data.dueAt, 'dueAt'),
      reason,
      // Owner rule: the customer's owner, or whoever scheduled it when the customer has none.
      ownerId: state.ownerId ?? actorId,
    },
  };
  if (complaintId !== undefined) event.data.complaintId = complaintId;
  return [event];
}

function openFollowUp(state: RegisteredCustomer, followUpId: string): FollowUp {
  const followUp = state.followUps[followUpId];
  if (followUp === undefined) {
    throw new DomainError('follow-up-not-found', `follow-up ${followUpId} does not exist`, {
      customerId: state.customerId,
      followUpId,
    });
  }
  if (followUp.status !== 'open') {
    throw new DomainError('follow-up-closed', `follow-up ${followUpId} is already ${followUp.status}`, {
      customerId: state.customerId,
      followUpId,
      status: followUp.status,
    });
  }
  return followUp;
}

function completeFollowUp(command: CompleteFollowUp, state: RegisteredCustomer, now: Date): CustomerEvent[] {
  const { followUpId, note } = command.data;
  openFollowUp(state, followUpId);
  const event: FollowUpCompleted = {
    type: 'FollowUpCompleted',
    data: { customerId: state.customerId, followUpId, completedAt: now.toISOString() },
  };
  if (note !== undefined) event.data.note = note;
  return [event];
}

function cancelFollowUp(command: CancelFollowUp, state: RegisteredCustomer, now: Date): CustomerEvent[] {
  const { followUpId, reason } = command.data;
  openFollowUp(state, followUpId);
  const event: FollowUpCancelled = {
    type: 'FollowUpCancelled',
    data: { customerId: state.customerId, followUpId, cancelledAt: now.toISOString() },
  };
  if (reason !== undefined) event.data.reason = reason;
  return [event];
}

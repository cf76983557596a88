import type { LogContact } from '../src/customer/customer-commands';
import type {
  ContactLogged,
  ContactPreferencesSet,
  CustomerRegistered,
  FollowUpScheduled,
} from '../src/customer/customer-events';

export const CUSTOMER_ID = 'cust-1';
export const OTHER_CUSTOMER_ID = 'cust-2';
export const COMPLAINT_ID = 'compl-1';

export function registered(overrides: Partial<CustomerRegistered['data']> = {}): CustomerRegistered {
  return { type: 'CustomerRegistered', data: { customerId: CUSTOMER_ID, kind: 'customer', name: 'Ada Lovelace', ...overrides } };
}

export function preferencesSet(overrides: Partial<ContactPreferencesSet['data']> = {}): ContactPreferencesSet {
  return {
    type: 'ContactPreferencesSet',
    data: { customerId: CUSTOMER_ID, maxContactsPer7Days: null, doNotContact: false, channels: [], ...overrides },
  };
}

let contactSequence = 0;

/** An outbound sales phone contact already in the stream. */
export function contactLogged(occurredAt: string, overrides: Partial<ContactLogged['data']> = {}): ContactLogged {
  contactSequence += 1;
  return {
    type: 'ContactLogged',
    data: {
      customerId: CUSTOMER_ID,
      contactId: `earlier-${contactSequence}`,
      channel: 'phone',
      direction: 'outbound',
      purpose: 'sales',
      summary: 'called',
      outcome: 'spoke',
      occurredAt,
      agentId: 'agent-ana',
      ...overrides,
    },
  };
}

/** A new outbound sales phone contact. */
export function logContact(occurredAt: string, overrides: Partial<LogContact['data']> = {}): LogContact {
  return {
    type: 'LogContact',
    data: {
      customerId: CUSTOMER_ID,
      contactId: 'contact-new',
      channel: 'phone',
      direction: 'outbound',
      purpose: 'sales',
      summary: 'offer',
      outcome: 'interested',
      occurredAt,
      agentId: 'agent-ana',
      ...overrides,
    },
  };
}

/** The ContactLogged that `logContact(occurredAt, overrides)` decides, without the application-only fields. */
export function expectedContact(occurredAt: string, overrides: Partial<ContactLogged['data']> = {}): ContactLogged {
  return {
    type: 'ContactLogged',
    data: {
      customerId: CUSTOMER_ID,
      contactId: 'contact-new',
      channel: 'phone',
      direction: 'outbound',
      purpose: 'sales',
      summary: 'offer',
      outcome: 'interested',
      occurredAt,
      agentId: 'agent-ana',
      ...overrides,
    },
  };
}

export function followUpScheduled(followUpId: string, overrides: Partial<FollowUpScheduled['data']> = {}): FollowUpScheduled {
  return {
    type: 'FollowUpScheduled',
    data: {
      customerId: CUSTOMER_ID,
      followUpId,
      dueAt: '2026-03-05T09:00:00.000Z',
      reason: 'call back about the quote',
      ownerId: 'agent-ana',
      ...overrides,
    },
  };
}

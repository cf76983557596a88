import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import { CUSTOMER_ID, contactLogged, preferencesSet, registered } from '../../test-support/customer-fixtures';
import { fold } from '../shared/decider';
import { DEFAULT_CONTACT_CAP_POLICY } from './contact-cap-policy';
import type { CustomerCommand } from './customer-commands';
import { makeCustomerDecider } from './customer-decider';

const decider = makeCustomerDecider({ contactPolicy: DEFAULT_CONTACT_CAP_POLICY });
const spec = DeciderSpecification.for(decider);

describe('RegisterCustomer', () => {
  it('registers with only the optional fields that were given', () => {
    spec
      .given([])
      .when({ type: 'RegisterCustomer', data: { customerId: CUSTOMER_ID, kind: 'prospect', name: 'Ada', email: 'ada@example.com' } })
      .then([{ type: 'CustomerRegistered', data: { customerId: CUSTOMER_ID, kind: 'prospect', name: 'Ada', email: 'ada@example.com' } }]);
  });

  it('keeps owner and external reference', () => {
    spec
      .given([])
      .when({
        type: 'RegisterCustomer',
        data: { customerId: CUSTOMER_ID, kind: 'customer', name: 'Ada', phone: '+44 20 7946 0000', ownerId: 'agent-ana', externalRef: 'online-retail:14646' },
      })
      .then([
        {
          type: 'CustomerRegistered',
          data: { customerId: CUSTOMER_ID, kind: 'customer', name: 'Ada', phone: '+44 20 7946 0000', ownerId: 'agent-ana', externalRef: 'online-retail:14646' },
        },
      ]);
  });

  it('refuses an id that is already registered', () => {
    spec
      .given([registered()])
      .when({ type: 'RegisterCustomer', data: { customerId: CUSTOMER_ID, kind: 'customer', name: 'Ada' } })
      .thenThrows('customer-already-exists', { customerId: CUSTOMER_ID });
  });
});

describe('any other command on an unregistered customer', () => {
  const commands: CustomerCommand[] = [
    { type: 'ChangeCustomerProfile', data: { customerId: CUSTOMER_ID, name: 'Ada' } },
    { type: 'ConvertProspect', data: { customerId: CUSTOMER_ID } },
    { type: 'AssignCustomerOwner', data: { customerId: CUSTOMER_ID, ownerId: 'agent-ana', reason: 'territory' } },
    { type: 'SetContactPreferences', data: { customerId: CUSTOMER_ID, maxContactsPer7Days: null, doNotContact: true, channels: [] } },
    {
      type: 'LogContact',
      data: {
        customerId: CUSTOMER_ID,
        contactId: 'k1',
        channel: 'phone',
        direction: 'inbound',
        purpose: 'support',
        summary: 's',
        outcome: 'o',
        occurredAt: '2026-03-02T09:00:00.000Z',
        agentId: 'agent-ana',
      },
    },
    { type: 'ScheduleFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'f1', dueAt: '2026-03-03T09:00:00.000Z', reason: 'r', actorId: 'agent-ana' } },
    { type: 'CompleteFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'f1' } },
    { type: 'CancelFollowUp', data: { customerId: CUSTOMER_ID, followUpId: 'f1' } },
  ];

  it.each(commands.map((command) => [command.type, command] as const))('%s is refused as customer-not-found', (_type, command) => {
    spec.given([]).when(command).thenThrows('customer-not-found', { customerId: CUSTOMER_ID });
  });
});

describe('ChangeCustomerProfile', () => {
  const withContactDetails = registered({ email: 'ada@example.com', phone: '+44 1' });

  it('records only the fields that actually change', () => {
    spec
      .given([withContactDetails])
      .when({ type: 'ChangeCustomerProfile', data: { customerId: CUSTOMER_ID, name: 'Ada Lovelace', email: 'ada@analytical.org', phone: '+44 1' } })
      .then([{ type: 'CustomerProfileChanged', data: { customerId: CUSTOMER_ID, changes: { email: 'ada@analytical.org' } } }]);
  });

  it('clears e-mail and phone with null', () => {
    spec
      .given([withContactDetails])
      .when({ type: 'ChangeCustomerProfile', data: { customerId: CUSTOMER_ID, email: null, phone: null } })
      .then([{ type: 'CustomerProfileChanged', data: { customerId: CUSTOMER_ID, changes: { email: null, phone: null } } }]);
  });

  it('sets an e-mail the customer did not have', () => {
    spec
      .given([registered()])
      .when({ type: 'ChangeCustomerProfile', data: { customerId: CUSTOMER_ID, email: 'ada@example.com' } })
      .then([{ type: 'CustomerProfileChanged', data: { customerId: CUSTOMER_ID, changes: { email: 'ada@example.com' } } }]);
  });

  it('refuses a change that changes nothing', () => {
    spec
      .given([withContactDetails])
      .when({ type: 'ChangeCustomerProfile', data: { customerId: CUSTOMER_ID, name: 'Ada Lovelace', email: 'ada@example.com' } })
      .thenThrows('no-change');
  });

  it('refuses clearing an e-mail that is not there', () => {
    spec.given([registered()]).when({ type: 'ChangeCustomerProfile', data: { customerId: CUSTOMER_ID, email: null } }).thenThrows('no-change');
  });

  it('refuses an empty change', () => {
    spec.given([registered()]).when({ type: 'ChangeCustomerProfile', data: { customerId: CUSTOMER_ID } }).thenThrows('no-change');
  });

  it('compares with the latest profile', () => {
    spec
      .given([withContactDetails, { type: 'CustomerProfileChanged', data: { customerId: CUSTOMER_ID, changes: { email: null } } }])
      .when({ type: 'ChangeCustomerProfile', data: { customerId: CUSTOMER_ID, email: null } })
      .thenThrows('no-change');
  });
});

describe('ConvertProspect', () => {
  it('converts a prospect', () => {
    spec
      .given([registered({ kind: 'prospect' })])
      .when({ type: 'ConvertProspect', data: { customerId: CUSTOMER_ID } })
      .then([{ type: 'ProspectConverted', data: { customerId: CUSTOMER_ID } }]);
  });

  it('refuses a customer', () => {
    spec
      .given([registered({ kind: 'customer' })])
      .when({ type: 'ConvertProspect', data: { customerId: CUSTOMER_ID } })
      .thenThrows('already-a-customer', { customerId: CUSTOMER_ID });
  });

  it('refuses a prospect that was already converted', () => {
    spec
      .given([registered({ kind: 'prospect' }), { type: 'ProspectConverted', data: { customerId: CUSTOMER_ID } }])
      .when({ type: 'ConvertProspect', data: { customerId: CUSTOMER_ID } })
      .thenThrows('already-a-customer');
  });
});

describe('AssignCustomerOwner (a customer has at most one owner)', () => {
  it('assigns a first owner', () => {
    spec
      .given([registered()])
      .when({ type: 'AssignCustomerOwner', data: { customerId: CUSTOMER_ID, ownerId: 'agent-ana', reason: 'new account' } })
      .then([
        { type: 'CustomerOwnerAssigned', data: { customerId: CUSTOMER_ID, ownerId: 'agent-ana', previousOwnerId: null, reason: 'new account' } },
      ]);
  });

  it('replaces the owner and says who it was', () => {
    spec
      .given([registered({ ownerId: 'agent-ana' })])
      .when({ type: 'AssignCustomerOwner', data: { customerId: CUSTOMER_ID, ownerId: 'agent-bob', reason: 'ana on leave' } })
      .then([
        {
          type: 'CustomerOwnerAssigned',
          data: { customerId: CUSTOMER_ID, ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: 'ana on leave' },
        },
      ]);
  });

  it('refuses the owner it already has', () => {
    spec
      .given([
        registered({ ownerId: 'agent-ana' }),
        { type: 'CustomerOwnerAssigned', data: { customerId: CUSTOMER_ID, ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: 'x' } },
      ])
      .when({ type: 'AssignCustomerOwner', data: { customerId: CUSTOMER_ID, ownerId: 'agent-bob', reason: 'again' } })
      .thenThrows('owner-unchanged', { ownerId: 'agent-bob' });
  });
});

describe('SetContactPreferences', () => {
  it('records the preferences, each channel once', () => {
    spec
      .given([registered()])
      .when({ type: 'SetContactPreferences', data: { customerId: CUSTOMER_ID, maxContactsPer7Days: 1, doNotContact: true, channels: ['email', 'letter', 'email'] } })
      .then([preferencesSet({ maxContactsPer7Days: 1, doNotContact: true, channels: ['email', 'letter'] })]);
  });

  it('records a restatement of the same preferences (consent confirmed again)', () => {
    spec
      .given([registered(), preferencesSet({ doNotContact: true })])
      .when({ type: 'SetContactPreferences', data: { customerId: CUSTOMER_ID, maxContactsPer7Days: null, doNotContact: true, channels: [] } })
      .then([preferencesSet({ doNotContact: true })]);
  });
});

describe('customer state', () => {
  it('folds the stream into what the rules need', () => {
    const state = fold(decider, [
      registered({ kind: 'prospect', email: 'ada@example.com' }),
      { type: 'ProspectConverted', data: { customerId: CUSTOMER_ID } },
      { type: 'CustomerOwnerAssigned', data: { customerId: CUSTOMER_ID, ownerId: 'agent-ana', previousOwnerId: null, reason: 'x' } },
      preferencesSet({ channels: ['email'] }),
      contactLogged('2026-03-01T09:00:00.000Z', { purpose: 'marketing' }),
      contactLogged('2026-03-01T10:00:00.000Z', { direction: 'inbound' }),
    ]);
    expect(state).toMatchObject({
      exists: true,
      kind: 'customer',
      email: 'ada@example.com',
      ownerId: 'agent-ana',
      preferences: { maxContactsPer7Days: null, doNotContact: false, channels: ['email'] },
      outboundContacts: [{ occurredAt: '2026-03-01T09:00:00.000Z', purpose: 'marketing' }],
    });
  });

  it('starts unregistered', () => {
    expect(decider.initialState()).toEqual({ exists: false });
  });
});

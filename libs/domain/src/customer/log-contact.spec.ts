import { describe, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import {
  COMPLAINT_ID,
  CUSTOMER_ID,
  OTHER_CUSTOMER_ID,
  contactLogged,
  expectedContact,
  logContact,
  preferencesSet,
  registered,
} from '../../test-support/customer-fixtures';
import { DEFAULT_CONTACT_CAP_POLICY } from './contact-cap-policy';
import { makeCustomerDecider } from './customer-decider';

const spec = DeciderSpecification.for(makeCustomerDecider({ contactPolicy: DEFAULT_CONTACT_CAP_POLICY }));

// The contact being logged happens at NOW; earlier ones are counted in (NOW - 7 days, NOW].
const NOW = '2026-03-10T12:00:00.000Z';
const ONE_DAY_AGO = '2026-03-09T12:00:00.000Z';
const TWO_DAYS_AGO = '2026-03-08T12:00:00.000Z';
const THREE_DAYS_AGO = '2026-03-07T12:00:00.000Z';
const EXACTLY_SEVEN_DAYS_AGO = '2026-03-03T12:00:00.000Z';
const JUST_UNDER_SEVEN_DAYS_AGO = '2026-03-03T12:00:00.001Z';

/** Three outbound sales contacts this week: the default rolling cap (3) is reached. */
const capReached = [contactLogged(THREE_DAYS_AGO), contactLogged(TWO_DAYS_AGO), contactLogged(ONE_DAY_AGO)];

describe('LogContact', () => {
  it('logs an outbound contact under the cap, with its time in canonical UTC', () => {
    spec
      .given([registered(), contactLogged(ONE_DAY_AGO)])
      .when(logContact('2026-03-10T13:00:00+01:00'))
      .then([expectedContact(NOW)]);
  });

  it('uses the business time of a contact logged late, not the clock', () => {
    spec
      .given([registered(), ...capReached])
      .when(logContact('2026-02-01T09:00:00.000Z'), new Date(NOW))
      .then([expectedContact('2026-02-01T09:00:00.000Z')]);
  });

  describe('inbound contacts are never refused (the customer called us)', () => {
    it('even over the cap, with do-not-contact and another channel', () => {
      spec
        .given([registered(), preferencesSet({ doNotContact: true, channels: ['email'], maxContactsPer7Days: 0 }), ...capReached])
        .when(logContact(NOW, { direction: 'inbound', purpose: 'sales' }))
        .then([expectedContact(NOW, { direction: 'inbound', purpose: 'sales' })]);
    });

    it('and are not counted against the cap', () => {
      spec
        .given([
          registered(),
          contactLogged(THREE_DAYS_AGO, { direction: 'inbound' }),
          contactLogged(TWO_DAYS_AGO),
          contactLogged(ONE_DAY_AGO),
        ])
        .when(logContact(NOW))
        .then([expectedContact(NOW)]);
    });
  });

  describe('rule 1: a contact linked to an open complaint of this customer is never refused', () => {
    it('bypasses the rolling cap', () => {
      spec
        .given([registered(), ...capReached])
        .when(logContact(NOW, { purpose: 'complaint', complaintId: COMPLAINT_ID, linkedComplaint: { customerId: CUSTOMER_ID, open: true } }))
        .then([expectedContact(NOW, { purpose: 'complaint', complaintId: COMPLAINT_ID })]);
    });

    it('bypasses do-not-contact and the channel list', () => {
      spec
        .given([registered(), preferencesSet({ doNotContact: true, channels: ['letter'] })])
        .when(logContact(NOW, { purpose: 'sales', complaintId: COMPLAINT_ID, linkedComplaint: { customerId: CUSTOMER_ID, open: true } }))
        .then([expectedContact(NOW, { purpose: 'sales', complaintId: COMPLAINT_ID })]);
    });

    it('a link to a closed complaint does not bypass the cap', () => {
      spec
        .given([registered(), ...capReached])
        .when(logContact(NOW, { purpose: 'support', complaintId: COMPLAINT_ID, linkedComplaint: { customerId: CUSTOMER_ID, open: false } }))
        .thenThrows('contact-cap-exceeded', { rule: 'rolling-7-day-cap' });
    });

    it('a link to a closed complaint does not bypass do-not-contact', () => {
      spec
        .given([registered(), preferencesSet({ doNotContact: true })])
        .when(logContact(NOW, { purpose: 'sales', complaintId: COMPLAINT_ID, linkedComplaint: { customerId: CUSTOMER_ID, open: false } }))
        .thenThrows('contact-cap-exceeded', { rule: 'do-not-contact' });
    });

    it('exempt contacts still count towards the cap (the customer was contacted all the same)', () => {
      spec
        .given([
          registered(),
          contactLogged(THREE_DAYS_AGO, { purpose: 'complaint', complaintId: COMPLAINT_ID }),
          contactLogged(TWO_DAYS_AGO),
          contactLogged(ONE_DAY_AGO),
        ])
        .when(logContact(NOW))
        .thenThrows('contact-cap-exceeded', { rule: 'rolling-7-day-cap', count: 3 });
    });

    it('refuses a complaint that does not exist', () => {
      spec
        .given([registered()])
        .when(logContact(NOW, { complaintId: COMPLAINT_ID }))
        .thenThrows('complaint-not-found', { complaintId: COMPLAINT_ID });
    });

    it("refuses another customer's complaint, inbound too", () => {
      spec
        .given([registered()])
        .when(logContact(NOW, { direction: 'inbound', complaintId: COMPLAINT_ID, linkedComplaint: { customerId: OTHER_CUSTOMER_ID, open: true } }))
        .thenThrows('complaint-not-of-customer', { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID });
    });
  });

  describe('rule 2: do-not-contact refuses outbound sales and marketing', () => {
    it.each(['sales', 'marketing'] as const)('refuses %s', (purpose) => {
      spec
        .given([registered(), preferencesSet({ doNotContact: true })])
        .when(logContact(NOW, { purpose }))
        .thenThrows('contact-cap-exceeded', { rule: 'do-not-contact', purpose, policyVersion: 'contact-cap-2026-01' });
    });

    it.each(['support', 'follow-up', 'complaint'] as const)('allows %s', (purpose) => {
      spec
        .given([registered(), preferencesSet({ doNotContact: true })])
        .when(logContact(NOW, { purpose }))
        .then([expectedContact(NOW, { purpose })]);
    });

    it('wins over the channel rule', () => {
      spec
        .given([registered(), preferencesSet({ doNotContact: true, channels: ['email'] })])
        .when(logContact(NOW, { purpose: 'sales', channel: 'phone' }))
        .thenThrows('contact-cap-exceeded', { rule: 'do-not-contact' });
    });
  });

  describe('rule 3: a channel list refuses outbound sales, marketing and follow-up on other channels', () => {
    it.each(['sales', 'marketing', 'follow-up'] as const)('refuses %s by phone when only e-mail is permitted', (purpose) => {
      spec
        .given([registered(), preferencesSet({ channels: ['email', 'letter'] })])
        .when(logContact(NOW, { purpose, channel: 'phone' }))
        .thenThrows('contact-cap-exceeded', { rule: 'channel-not-permitted', channel: 'phone', permittedChannels: ['email', 'letter'] });
    });

    it('allows a permitted channel', () => {
      spec
        .given([registered(), preferencesSet({ channels: ['email'] })])
        .when(logContact(NOW, { channel: 'email' }))
        .then([expectedContact(NOW, { channel: 'email' })]);
    });

    it.each(['support', 'complaint'] as const)('allows %s on any channel', (purpose) => {
      spec
        .given([registered(), preferencesSet({ channels: ['email'] })])
        .when(logContact(NOW, { purpose, channel: 'phone' }))
        .then([expectedContact(NOW, { purpose, channel: 'phone' })]);
    });

    it('an empty list permits every channel', () => {
      spec
        .given([registered(), preferencesSet({ channels: [] })])
        .when(logContact(NOW, { channel: 'social' }))
        .then([expectedContact(NOW, { channel: 'social' })]);
    });

    it('wins over the caps', () => {
      spec
        .given([registered(), preferencesSet({ channels: ['email'] }), ...capReached])
        .when(logContact(NOW, { channel: 'phone' }))
        .thenThrows('contact-cap-exceeded', { rule: 'channel-not-permitted' });
    });
  });

  describe('rule 4: purpose cap (default policy: 2 marketing contacts per 7 days)', () => {
    const twoMarketing = [contactLogged(TWO_DAYS_AGO, { purpose: 'marketing' }), contactLogged(ONE_DAY_AGO, { purpose: 'marketing' })];

    it('refuses a third marketing contact, saying which limit', () => {
      spec
        .given([registered(), ...twoMarketing])
        .when(logContact(NOW, { purpose: 'marketing' }))
        .thenThrows('contact-cap-exceeded', {
          rule: 'purpose-cap',
          purpose: 'marketing',
          limit: 2,
          count: 2,
          windowDays: 7,
          policyVersion: 'contact-cap-2026-01',
        });
    });

    it('still allows another purpose under the overall cap', () => {
      spec
        .given([registered(), ...twoMarketing])
        .when(logContact(NOW, { purpose: 'sales' }))
        .then([expectedContact(NOW, { purpose: 'sales' })]);
    });

    it('is checked before the rolling cap', () => {
      spec
        .given([registered(), ...twoMarketing, contactLogged(THREE_DAYS_AGO)])
        .when(logContact(NOW, { purpose: 'marketing' }))
        .thenThrows('contact-cap-exceeded', { rule: 'purpose-cap' });
    });

    it('counts only the window', () => {
      spec
        .given([registered(), contactLogged(EXACTLY_SEVEN_DAYS_AGO, { purpose: 'marketing' }), contactLogged(ONE_DAY_AGO, { purpose: 'marketing' })])
        .when(logContact(NOW, { purpose: 'marketing' }))
        .then([expectedContact(NOW, { purpose: 'marketing' })]);
    });
  });

  describe('rule 5: rolling 7-day cap (default 3 outbound contacts of any purpose)', () => {
    it('refuses a fourth contact, saying which limit', () => {
      spec
        .given([registered(), ...capReached])
        .when(logContact(NOW, { purpose: 'support' }))
        .thenThrows('contact-cap-exceeded', {
          rule: 'rolling-7-day-cap',
          limit: 3,
          limitSource: 'policy-default',
          count: 3,
          windowDays: 7,
          windowStart: EXACTLY_SEVEN_DAYS_AGO,
          policyVersion: 'contact-cap-2026-01',
        });
    });

    it('does not count a contact exactly 7 days earlier (the window is open at its start)', () => {
      spec
        .given([registered(), contactLogged(EXACTLY_SEVEN_DAYS_AGO), contactLogged(TWO_DAYS_AGO), contactLogged(ONE_DAY_AGO)])
        .when(logContact(NOW))
        .then([expectedContact(NOW)]);
    });

    it('counts a contact a millisecond less than 7 days earlier', () => {
      spec
        .given([registered(), contactLogged(JUST_UNDER_SEVEN_DAYS_AGO), contactLogged(TWO_DAYS_AGO), contactLogged(ONE_DAY_AGO)])
        .when(logContact(NOW))
        .thenThrows('contact-cap-exceeded', { rule: 'rolling-7-day-cap', count: 3 });
    });

    it('counts a contact at the very same instant (the window is closed at its end)', () => {
      spec
        .given([registered(), contactLogged(NOW), contactLogged(TWO_DAYS_AGO), contactLogged(ONE_DAY_AGO)])
        .when(logContact(NOW))
        .thenThrows('contact-cap-exceeded', { rule: 'rolling-7-day-cap', count: 3 });
    });

    it('does not count contacts after the one being logged (the window ends at its occurredAt)', () => {
      spec
        .given([registered(), ...capReached])
        .when(logContact('2026-03-06T12:00:00.000Z'), new Date(NOW))
        .then([expectedContact('2026-03-06T12:00:00.000Z')]);
    });

    it("the customer's preference raises the default", () => {
      spec
        .given([registered(), preferencesSet({ maxContactsPer7Days: 5 }), ...capReached])
        .when(logContact(NOW))
        .then([expectedContact(NOW)]);
    });

    it("the customer's preference lowers the default", () => {
      spec
        .given([registered(), preferencesSet({ maxContactsPer7Days: 1 }), contactLogged(ONE_DAY_AGO)])
        .when(logContact(NOW))
        .thenThrows('contact-cap-exceeded', { rule: 'rolling-7-day-cap', limit: 1, limitSource: 'customer-preference', count: 1 });
    });

    it('a preference of 0 refuses every outbound contact not linked to an open complaint', () => {
      spec
        .given([registered(), preferencesSet({ maxContactsPer7Days: 0 })])
        .when(logContact(NOW, { purpose: 'support' }))
        .thenThrows('contact-cap-exceeded', { rule: 'rolling-7-day-cap', limit: 0, count: 0 });
    });

    it('a preference reset to null brings the default back', () => {
      spec
        .given([registered(), preferencesSet({ maxContactsPer7Days: 5 }), preferencesSet({ maxContactsPer7Days: null }), ...capReached])
        .when(logContact(NOW))
        .thenThrows('contact-cap-exceeded', { rule: 'rolling-7-day-cap', limit: 3, limitSource: 'policy-default' });
    });
  });

  it('applies a configured policy instead of the default', () => {
    DeciderSpecification.for(
      makeCustomerDecider({ contactPolicy: { version: 'strict-1', windowDays: 30, defaultMaxOutbound: 1, purposeLimits: {} } }),
    )
      .given([registered(), contactLogged('2026-02-20T12:00:00.000Z')])
      .when(logContact(NOW))
      .thenThrows('contact-cap-exceeded', { rule: 'rolling-7-day-cap', limit: 1, windowDays: 30, policyVersion: 'strict-1' });
  });
});

import { describe, expect, it } from '@jest/globals';
import {
  COMPLAINT_ID,
  CUSTOMER_ID,
  FILED_AT,
  P2_SLA,
  complaintClosed,
  complaintFiled,
  complaintOwnerChanged,
  complaintReopened,
  complaintResolved,
  complaintResponded,
  contactLogged,
  customerRegistered,
  followUpCancelled,
  followUpCompleted,
  followUpScheduled,
  history,
  ownerAssigned,
  preferencesSet,
  profileChanged,
  project,
  prospectConverted,
  slaBreached,
  type Fact,
} from '../../test-support/project';
import { normalizeForSearch } from './crm-event';
import { CUSTOMER_PROFILES, customerProfilesProjection, type ComplaintSummary } from './customer-profiles.projection';

const REGISTERED_AT = '2026-03-01T09:00:00.000Z';

/** The profile right after `customerRegistered(REGISTERED_AT)` with the fixture's defaults. */
const ADA = {
  _id: CUSTOMER_ID,
  _position: 1,
  streamRevision: 0,
  customerId: CUSTOMER_ID,
  name: 'Ada Lovelace',
  email: null,
  phone: null,
  kind: 'customer',
  ownerId: null,
  externalRef: null,
  registeredAt: REGISTERED_AT,
  preferences: { maxContactsPer7Days: null, doNotContact: false, channels: [] },
  searchText: 'ada lovelace',
  complaints: [],
  openComplaintCount: 0,
  lastContact: null,
  recentContacts: [],
  openFollowUps: [],
};

const profileAfter = (...facts: Fact[]) =>
  project(customerProfilesProjection, history(...facts)).get(CUSTOMER_PROFILES, CUSTOMER_ID);

describe('customer profiles projection', () => {
  describe('registration and profile changes', () => {
    it('registers a prospect with every optional field and a diacritic-free, lower-case search text', () => {
      const profile = profileAfter(
        customerRegistered(REGISTERED_AT, {
          kind: 'prospect', name: 'Zoë  Ångström', email: 'Zoe.Angstrom@Example.COM', phone: '+44 (0)20 7946 0958',
          ownerId: 'agent-bob', externalRef: 'LEGACY-42',
        }),
      );

      expect(profile).toEqual({
        ...ADA,
        name: 'Zoë  Ångström',
        email: 'Zoe.Angstrom@Example.COM',
        phone: '+44 (0)20 7946 0958',
        kind: 'prospect',
        ownerId: 'agent-bob',
        externalRef: 'LEGACY-42',
        searchText: 'zoe angstrom | zoe.angstrom@example.com | 4402079460958',
      });
    });

    it('normalises decomposed diacritics the same way as precomposed ones', () => {
      const decomposed = 'Zoe\u0308 A\u030Angstro\u0308m';
      expect(normalizeForSearch(decomposed)).toBe('zoe angstrom');
      expect(profileAfter(customerRegistered(REGISTERED_AT, { name: decomposed }))?.['searchText']).toBe('zoe angstrom');
    });

    it('takes registeredAt from the recorded time when an event carries no business time', () => {
      const profile = profileAfter(customerRegistered(REGISTERED_AT, {}, { recordedAt: '2026-03-01T09:00:05.000Z', metadata: {} }));
      expect(profile).toEqual({ ...ADA, registeredAt: '2026-03-01T09:00:05.000Z' });
    });

    it('applies only the changed fields, clears the e-mail with null and rebuilds the search text', () => {
      const profile = profileAfter(
        customerRegistered(REGISTERED_AT, { name: 'Zoë Ångström', email: 'zoe@example.com', phone: '020 7946 0958' }),
        profileChanged('2026-03-02T09:00:00.000Z', { name: 'Zoë Ångström-Bell', email: null }),
      );

      expect(profile).toEqual({
        ...ADA,
        _position: 2,
        streamRevision: 1,
        name: 'Zoë Ångström-Bell',
        email: null,
        phone: '020 7946 0958',
        searchText: 'zoe angstrom-bell | 02079460958',
      });
      expect(profile?.['searchText']).toContain('zoe angstrom');
    });

    it('keeps name and e-mail when only the phone changes, and clears the phone with null', () => {
      const changed = profileAfter(
        customerRegistered(REGISTERED_AT, { email: 'ada@example.com', phone: '0123' }),
        profileChanged('2026-03-02T09:00:00.000Z', { phone: '+44 7700 900123' }),
      );
      expect(changed).toEqual({
        ...ADA, _position: 2, streamRevision: 1, email: 'ada@example.com', phone: '+44 7700 900123',
        searchText: 'ada lovelace | ada@example.com | 447700900123',
      });

      const cleared = profileAfter(
        customerRegistered(REGISTERED_AT, { email: 'ada@example.com', phone: '0123' }),
        profileChanged('2026-03-02T09:00:00.000Z', { phone: null }),
      );
      expect(cleared).toEqual({ ...ADA, _position: 2, streamRevision: 1, email: 'ada@example.com', phone: null, searchText: 'ada lovelace | ada@example.com' });
    });

    it('converts a prospect into a customer', () => {
      expect(profileAfter(customerRegistered(REGISTERED_AT, { kind: 'prospect' }), prospectConverted('2026-03-02T09:00:00.000Z')))
        .toEqual({ ...ADA, _position: 2, streamRevision: 1, kind: 'customer' });
    });

    it('takes the owner of the latest assignment', () => {
      expect(profileAfter(
        customerRegistered(REGISTERED_AT),
        ownerAssigned('2026-03-02T09:00:00.000Z', { ownerId: 'agent-bob', previousOwnerId: null }),
        ownerAssigned('2026-03-03T09:00:00.000Z', { ownerId: 'agent-cy', previousOwnerId: 'agent-bob', reason: 'rebalancing' }),
      )).toEqual({ ...ADA, _position: 3, streamRevision: 2, ownerId: 'agent-cy' });
    });

    it('replaces the contact preferences as a whole', () => {
      expect(profileAfter(
        customerRegistered(REGISTERED_AT),
        preferencesSet('2026-03-02T09:00:00.000Z', { maxContactsPer7Days: 2, doNotContact: true, channels: ['email', 'letter'] }),
        preferencesSet('2026-03-03T09:00:00.000Z', { maxContactsPer7Days: null, doNotContact: false, channels: ['phone'] }),
      )).toEqual({ ...ADA, _position: 3, streamRevision: 2, preferences: { maxContactsPer7Days: null, doNotContact: false, channels: ['phone'] } });
    });

    it('ignores events of a customer that was never registered', () => {
      const documents = project(customerProfilesProjection, history(
        profileChanged('2026-03-02T09:00:00.000Z', { name: 'Nobody' }, 'cust-ghost'),
        complaintFiled(FILED_AT, { customerId: 'cust-ghost' }),
      ));
      expect(documents.all(CUSTOMER_PROFILES)).toEqual([]);
    });
  });

  describe('contacts', () => {
    const MAR_10 = '2026-03-10T10:00:00.000Z';
    const MAR_12 = '2026-03-12T10:00:00.000Z';
    const MAR_05 = '2026-03-05T10:00:00.000Z';
    /** Exactly 30 days before MAR_12: just outside the window, which is open at its start. */
    const FEB_10 = '2026-02-10T10:00:00.000Z';

    it('keeps the newest contact by business time, even when an older one is logged later', () => {
      const profile = profileAfter(
        customerRegistered(REGISTERED_AT),
        contactLogged(MAR_10, { contactId: 'c-1' }),
        contactLogged(MAR_12, { contactId: 'c-2', channel: 'email', direction: 'inbound', purpose: 'support', outcome: 'answered' }),
        contactLogged(MAR_05, { contactId: 'c-3', channel: 'visit', purpose: 'follow-up', outcome: 'no answer' }),
      );

      expect(profile).toEqual({
        ...ADA,
        _position: 4,
        streamRevision: 3,
        lastContact: { contactId: 'c-2', channel: 'email', direction: 'inbound', purpose: 'support', outcome: 'answered', occurredAt: MAR_12 },
        recentContacts: [
          { occurredAt: MAR_05, direction: 'outbound' },
          { occurredAt: MAR_10, direction: 'outbound' },
          { occurredAt: MAR_12, direction: 'inbound' },
        ],
      });
    });

    it('keeps only the contacts of the 30 days before the newest one, sliding as newer contacts arrive', () => {
      const events = history(
        customerRegistered(REGISTERED_AT),
        contactLogged(MAR_12, { contactId: 'c-1' }),
        contactLogged(FEB_10, { contactId: 'c-old' }),
        contactLogged('2026-02-10T10:00:00.001Z', { contactId: 'c-edge', direction: 'inbound' }),
        contactLogged('2026-04-20T10:00:00.000Z', { contactId: 'c-new', channel: 'chat' }),
      );

      const beforeTheNewOne = project(customerProfilesProjection, events.slice(0, 4)).get(CUSTOMER_PROFILES, CUSTOMER_ID);
      expect(beforeTheNewOne?.['recentContacts']).toEqual([
        { occurredAt: '2026-02-10T10:00:00.001Z', direction: 'inbound' },
        { occurredAt: MAR_12, direction: 'outbound' },
      ]);

      expect(project(customerProfilesProjection, events).get(CUSTOMER_PROFILES, CUSTOMER_ID)).toEqual({
        ...ADA,
        _position: 5,
        streamRevision: 4,
        lastContact: { contactId: 'c-new', channel: 'chat', direction: 'outbound', purpose: 'sales', outcome: 'spoke', occurredAt: '2026-04-20T10:00:00.000Z' },
        recentContacts: [{ occurredAt: '2026-04-20T10:00:00.000Z', direction: 'outbound' }],
      });
    });
  });

  describe('follow-ups', () => {
    it('lists open follow-ups by due date and drops completed and cancelled ones', () => {
      const events = history(
        customerRegistered(REGISTERED_AT),
        followUpScheduled('2026-03-02T09:00:00.000Z', { followUpId: 'fu-late', dueAt: '2026-03-20T09:00:00.000Z', reason: 'renewal' }),
        followUpScheduled('2026-03-02T10:00:00.000Z', { followUpId: 'fu-soon', dueAt: '2026-03-15T09:00:00.000Z', complaintId: COMPLAINT_ID, ownerId: 'agent-cy' }),
        followUpCompleted('2026-03-15T09:30:00.000Z', { followUpId: 'fu-soon', note: 'sorted' }),
        followUpCancelled('2026-03-16T09:00:00.000Z', { followUpId: 'fu-late' }),
      );

      expect(project(customerProfilesProjection, events.slice(0, 3)).get(CUSTOMER_PROFILES, CUSTOMER_ID)).toEqual({
        ...ADA,
        _position: 3,
        streamRevision: 2,
        openFollowUps: [
          { followUpId: 'fu-soon', dueAt: '2026-03-15T09:00:00.000Z', reason: 'call back', ownerId: 'agent-cy', complaintId: COMPLAINT_ID },
          { followUpId: 'fu-late', dueAt: '2026-03-20T09:00:00.000Z', reason: 'renewal', ownerId: 'agent-bob', complaintId: null },
        ],
      });
      expect(project(customerProfilesProjection, events.slice(0, 4)).get(CUSTOMER_PROFILES, CUSTOMER_ID)?.['openFollowUps']).toEqual([
        { followUpId: 'fu-late', dueAt: '2026-03-20T09:00:00.000Z', reason: 'renewal', ownerId: 'agent-bob', complaintId: null },
      ]);
      expect(project(customerProfilesProjection, events).get(CUSTOMER_PROFILES, CUSTOMER_ID)).toEqual({
        ...ADA, _position: 5, streamRevision: 4, openFollowUps: [],
      });
    });
  });

  describe('complaint summaries', () => {
    const FILED: ComplaintSummary = {
      complaintId: COMPLAINT_ID, priority: 'P2', status: 'filed', ownerId: 'agent-bob', filedAt: FILED_AT,
      firstResponseDueAt: P2_SLA.firstResponseDueAt, resolutionDueAt: P2_SLA.resolutionDueAt, breached: false, respondedAt: null,
    };
    const RESPONDED_AT = '2026-03-02T14:00:00.000Z';
    const REOPEN_DUE = '2026-03-05T08:00:00.000Z';
    const events = history(
      customerRegistered(REGISTERED_AT),                                           // 1, customer revision 0
      complaintFiled(FILED_AT),                                                    // 2
      slaBreached('2026-03-02T13:00:00.000Z', 'first-response', P2_SLA.firstResponseDueAt), // 3
      complaintResponded(RESPONDED_AT),                                            // 4
      complaintResponded('2026-03-02T16:00:00.000Z'),                              // 5
      complaintOwnerChanged('2026-03-02T17:00:00.000Z', { ownerId: 'agent-cy' }),  // 6
      complaintResolved('2026-03-03T08:00:00.000Z'),                               // 7
      complaintReopened('2026-03-04T08:00:00.000Z', REOPEN_DUE),                   // 8
      complaintResolved('2026-03-04T12:00:00.000Z'),                               // 9
      complaintClosed('2026-03-05T12:00:00.000Z'),                                 // 10
    );
    const after = (count: number) => project(customerProfilesProjection, events.slice(0, count)).get(CUSTOMER_PROFILES, CUSTOMER_ID);

    it('adds a filed complaint as open', () => {
      expect(after(2)).toEqual({ ...ADA, _position: 2, complaints: [FILED], openComplaintCount: 1 });
    });

    it('flags a breach and records the first response only', () => {
      expect(after(3)?.['complaints']).toEqual([{ ...FILED, breached: true }]);
      expect(after(5)).toEqual({
        ...ADA, _position: 5, complaints: [{ ...FILED, breached: true, status: 'responded', respondedAt: RESPONDED_AT }], openComplaintCount: 1,
      });
    });

    it('follows the owner, then counts a resolved complaint as no longer open', () => {
      expect(after(6)?.['complaints']).toEqual([{ ...FILED, breached: true, status: 'responded', respondedAt: RESPONDED_AT, ownerId: 'agent-cy' }]);
      expect(after(7)).toEqual({
        ...ADA, _position: 7,
        complaints: [{ ...FILED, breached: true, status: 'resolved', respondedAt: RESPONDED_AT, ownerId: 'agent-cy' }],
        openComplaintCount: 0,
      });
    });

    it('reopens as responded with the new resolution deadline, then resolves and closes', () => {
      const reopened: ComplaintSummary = {
        ...FILED, breached: true, status: 'responded', respondedAt: RESPONDED_AT, ownerId: 'agent-cy', resolutionDueAt: REOPEN_DUE,
      };
      expect(after(8)).toEqual({ ...ADA, _position: 8, complaints: [reopened], openComplaintCount: 1 });
      expect(after(9)).toEqual({ ...ADA, _position: 9, complaints: [{ ...reopened, status: 'resolved' }], openComplaintCount: 0 });
      expect(after(10)).toEqual({ ...ADA, _position: 10, complaints: [{ ...reopened, status: 'closed' }], openComplaintCount: 0 });
    });

    it('reopens a complaint resolved without any response as filed', () => {
      const profile = profileAfter(
        customerRegistered(REGISTERED_AT),
        complaintFiled(FILED_AT),
        complaintResolved(FILED_AT, { atFirstContact: true }),
        complaintReopened('2026-03-04T08:00:00.000Z', REOPEN_DUE),
      );
      expect(profile).toEqual({ ...ADA, _position: 4, complaints: [{ ...FILED, resolutionDueAt: REOPEN_DUE }], openComplaintCount: 1 });
    });

    it('keeps several complaints apart and counts the open ones', () => {
      const profile = profileAfter(
        customerRegistered(REGISTERED_AT),
        complaintFiled(FILED_AT),
        complaintFiled('2026-03-02T10:00:00.000Z', { complaintId: 'compl-2', priority: 'P1', ownerId: null, sla: { ...P2_SLA, firstResponseDueAt: '2026-03-02T11:00:00.000Z' } }),
        complaintResolved('2026-03-02T12:00:00.000Z'),
      );
      expect(profile).toEqual({
        ...ADA,
        _position: 4,
        complaints: [
          { ...FILED, status: 'resolved' },
          { ...FILED, complaintId: 'compl-2', priority: 'P1', ownerId: null, filedAt: '2026-03-02T10:00:00.000Z', firstResponseDueAt: '2026-03-02T11:00:00.000Z' },
        ],
        openComplaintCount: 1,
      });
    });
  });

  describe('streamRevision', () => {
    it('is the customer stream revision: complaint events move _position but never streamRevision', () => {
      const profile = profileAfter(
        customerRegistered(REGISTERED_AT, { kind: 'prospect' }),  // customer revision 0
        prospectConverted('2026-03-01T10:00:00.000Z'),              // customer revision 1
        complaintFiled(FILED_AT),                                   // complaint revision 0
        complaintResponded('2026-03-02T11:00:00.000Z'),             // complaint revision 1
        contactLogged('2026-03-02T12:00:00.000Z', { contactId: 'c-1' }), // customer revision 2
        complaintResolved('2026-03-02T13:00:00.000Z'),              // complaint revision 2 … 
        complaintReopened('2026-03-02T14:00:00.000Z', '2026-03-03T14:00:00.000Z'), // … 3
      );
      expect(profile?.['_position']).toBe(7);
      expect(profile?.['streamRevision']).toBe(2);
    });
  });
});

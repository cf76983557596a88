import { describe, expect, it } from '@jest/globals';
import {
  COMPLAINT_ID,
  CUSTOMER_ID,
  DEFAULT_ACTOR,
  FILED_AT,
  ORDER_ID,
  P2_SLA,
  complaintClosed,
  complaintFiled,
  complaintOwnerChanged,
  complaintReopened,
  complaintResolved,
  complaintResponded,
  contactLogged,
  customerRegistered,
  eventIdOf,
  followUpCancelled,
  followUpCompleted,
  followUpScheduled,
  history,
  money,
  ownerAssigned,
  preferencesSet,
  profileChanged,
  project,
  prospectConverted,
  purchaseRecorded,
  returnRecorded,
  slaBreached,
} from '../../test-support/project';
import { customerTimelineProjection, TIMELINE_ENTRIES, timelineSortKey, timelineSummary } from './customer-timeline.projection';

const WATCHER = { id: 'sla-watcher', role: 'system' };

describe('customer timeline projection', () => {
  it('writes one entry per event of every type, with the customer and the actor; a readable summary is made from its data', () => {
    const events = history(
      customerRegistered('2026-03-01T09:00:00.000Z', { kind: 'prospect' }),
      profileChanged('2026-03-01T09:10:00.000Z', { email: null, phone: '0123' }),
      prospectConverted('2026-03-01T09:20:00.000Z'),
      ownerAssigned('2026-03-01T09:30:00.000Z', { ownerId: 'agent-bob', previousOwnerId: null, reason: 'new account' }),
      preferencesSet('2026-03-01T09:40:00.000Z', { doNotContact: true }),
      preferencesSet('2026-03-01T09:41:00.000Z', { doNotContact: false }),
      contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1', direction: 'inbound', channel: 'email', purpose: 'support', outcome: 'answered' }),
      followUpScheduled('2026-03-01T11:00:00.000Z', { dueAt: '2026-03-10T09:00:00.000Z', reason: 'call back' }),
      followUpCompleted('2026-03-01T12:00:00.000Z'),
      followUpCancelled('2026-03-01T13:00:00.000Z', { followUpId: 'fu-2' }),
      complaintFiled(FILED_AT),
      slaBreached('2026-03-02T13:00:00.000Z', 'first-response', P2_SLA.firstResponseDueAt),
      complaintResponded('2026-03-02T14:00:00.000Z'),
      complaintOwnerChanged('2026-03-02T15:00:00.000Z', { ownerId: 'agent-cy', previousOwnerId: 'agent-bob', reason: 'holiday' }),
      complaintResolved('2026-03-02T16:00:00.000Z'),
      complaintReopened('2026-03-03T09:00:00.000Z', '2026-03-04T09:00:00.000Z'),
      complaintResolved('2026-03-03T10:00:00.000Z', { atFirstContact: true }),
      complaintClosed('2026-03-03T11:00:00.000Z'),
      purchaseRecorded('2026-03-04T09:00:00.000Z', money(2551, 3)),
      returnRecorded('2026-03-05T09:00:00.000Z', money(255, 2)),
    );

    const entries = project(customerTimelineProjection, events).all(TIMELINE_ENTRIES);

    expect(entries.map((e) => [e._id, e['customerId'], e['type'], timelineSummary(String(e['type']), e['data'])])).toEqual([
      [eventIdOf(1), CUSTOMER_ID, 'CustomerRegistered', 'Registered as prospect'],
      [eventIdOf(2), CUSTOMER_ID, 'CustomerProfileChanged', 'Profile changed: email, phone'],
      [eventIdOf(3), CUSTOMER_ID, 'ProspectConverted', 'Converted from prospect to customer'],
      [eventIdOf(4), CUSTOMER_ID, 'CustomerOwnerAssigned', 'Owner none → agent-bob: new account'],
      [eventIdOf(5), CUSTOMER_ID, 'ContactPreferencesSet', 'Contact preferences set (do not contact)'],
      [eventIdOf(6), CUSTOMER_ID, 'ContactPreferencesSet', 'Contact preferences set'],
      [eventIdOf(7), CUSTOMER_ID, 'ContactLogged', 'inbound email contact (support): answered'],
      [eventIdOf(8), CUSTOMER_ID, 'FollowUpScheduled', 'Follow-up due 2026-03-10T09:00:00.000Z: call back'],
      [eventIdOf(9), CUSTOMER_ID, 'FollowUpCompleted', 'Follow-up completed'],
      [eventIdOf(10), CUSTOMER_ID, 'FollowUpCancelled', 'Follow-up cancelled'],
      [eventIdOf(11), CUSTOMER_ID, 'ComplaintFiled', 'Complaint filed (P2, billing)'],
      [eventIdOf(12), CUSTOMER_ID, 'SlaBreached', 'SLA first-response deadline 2026-03-02T13:00:00.000Z missed'],
      [eventIdOf(13), CUSTOMER_ID, 'ComplaintResponded', 'Complaint responded to'],
      [eventIdOf(14), CUSTOMER_ID, 'ComplaintOwnerChanged', 'Complaint owner agent-bob → agent-cy: holiday'],
      [eventIdOf(15), CUSTOMER_ID, 'ComplaintResolved', 'Complaint resolved'],
      [eventIdOf(16), CUSTOMER_ID, 'ComplaintReopened', 'Complaint reopened: refund never arrived'],
      [eventIdOf(17), CUSTOMER_ID, 'ComplaintResolved', 'Complaint resolved at first contact'],
      [eventIdOf(18), CUSTOMER_ID, 'ComplaintClosed', 'Complaint closed'],
      [eventIdOf(19), CUSTOMER_ID, 'PurchaseRecorded', 'Purchase order-1: 2.551 GBP'],
      [eventIdOf(20), CUSTOMER_ID, 'ReturnRecorded', 'Return on order-1: 2.55 GBP'],
    ]);
  });

  it('keeps the whole event in a customer-stream entry', () => {
    const events = history(
      customerRegistered('2026-03-01T09:00:00.000Z'),
      contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1' }, { recordedAt: '2026-03-01T10:00:02.000Z' }),
    );

    expect(project(customerTimelineProjection, events).get(TIMELINE_ENTRIES, eventIdOf(2))).toEqual({
      _id: eventIdOf(2),
      _position: 2,
      customerId: CUSTOMER_ID,
      type: 'ContactLogged',
      streamId: `customer-${CUSTOMER_ID}`,
      revision: 1,
      position: 2,
      occurredAt: '2026-03-01T10:00:00.000Z',
      recordedAt: '2026-03-01T10:00:02.000Z',
      actor: DEFAULT_ACTOR,
      data: {
        customerId: CUSTOMER_ID, contactId: 'c-1', channel: 'phone', direction: 'outbound', purpose: 'sales',
        summary: 'called about the offer', outcome: 'spoke', occurredAt: '2026-03-01T10:00:00.000Z', agentId: 'agent-ana',
      },
      sortKey: '2026-03-01T10:00:00.000Z|0000000000000002',
    });
  });

  it('files complaint and order entries under the customer named in their data', () => {
    const events = history(
      complaintFiled(FILED_AT, { customerId: 'cust-7' }),
      slaBreached('2026-03-02T13:00:00.000Z', 'first-response', P2_SLA.firstResponseDueAt, { customerId: 'cust-7' }),
      purchaseRecorded('2026-03-04T09:00:00.000Z', money(1999, 2, 'EUR'), { customerId: 'cust-8' }),
    );
    const timeline = project(customerTimelineProjection, events);

    expect(timeline.get(TIMELINE_ENTRIES, eventIdOf(2))).toEqual({
      _id: eventIdOf(2),
      _position: 2,
      customerId: 'cust-7',
      type: 'SlaBreached',
      streamId: `complaint-${COMPLAINT_ID}`,
      revision: 1,
      position: 2,
      occurredAt: '2026-03-02T13:00:00.000Z',
      recordedAt: '2026-03-02T13:00:00.000Z',
      actor: WATCHER,
      data: {
        complaintId: COMPLAINT_ID, customerId: 'cust-7', kind: 'first-response', dueAt: P2_SLA.firstResponseDueAt,
        breachedAt: P2_SLA.firstResponseDueAt, ownerId: 'agent-bob', priority: 'P2',
      },
      sortKey: '2026-03-02T13:00:00.000Z|0000000000000002',
    });
    expect(timeline.get(TIMELINE_ENTRIES, eventIdOf(3))).toEqual({
      _id: eventIdOf(3),
      _position: 3,
      customerId: 'cust-8',
      type: 'PurchaseRecorded',
      streamId: `order-${ORDER_ID}`,
      revision: 0,
      position: 3,
      occurredAt: '2026-03-04T09:00:00.000Z',
      recordedAt: '2026-03-04T09:00:00.000Z',
      actor: DEFAULT_ACTOR,
      data: {
        orderId: ORDER_ID, customerId: 'cust-8', occurredAt: '2026-03-04T09:00:00.000Z', currency: 'EUR',
        lines: [{ sku: 'SKU-1', description: 'widget', quantity: 1, unitPrice: money(1999, 2, 'EUR'), lineTotal: money(1999, 2, 'EUR') }],
        total: money(1999, 2, 'EUR'),
      },
      sortKey: '2026-03-04T09:00:00.000Z|0000000000000003',
    });
  });

  it('sorts by business time, so history imported late sorts before what happened after it', () => {
    const events = history(
      customerRegistered('2026-03-01T09:00:00.000Z'),
      contactLogged('2026-03-05T10:00:00.000Z', { contactId: 'recent' }),
      contactLogged('2026-02-01T10:00:00.000Z', { contactId: 'imported' }, { recordedAt: '2026-03-06T08:00:00.000Z' }),
      contactLogged('2026-03-05T10:00:00.000Z', { contactId: 'same-instant' }),
    );
    const entries = project(customerTimelineProjection, events).all(TIMELINE_ENTRIES);

    const newestFirst = [...entries].sort((a, b) => (String(a['sortKey']) < String(b['sortKey']) ? 1 : -1));
    expect(newestFirst.map((e) => [e._id, e['sortKey']])).toEqual([
      [eventIdOf(4), '2026-03-05T10:00:00.000Z|0000000000000004'],
      [eventIdOf(2), '2026-03-05T10:00:00.000Z|0000000000000002'],
      [eventIdOf(1), '2026-03-01T09:00:00.000Z|0000000000000001'],
      [eventIdOf(3), '2026-02-01T10:00:00.000Z|0000000000000003'],
    ]);
    expect(timelineSortKey('2026-02-01T10:00:00.000Z', 12345)).toBe('2026-02-01T10:00:00.000Z|0000000000012345');
  });

  it('falls back to the recorded time and no actor for an event written without them', () => {
    const events = history(customerRegistered('2026-03-01T09:00:00.000Z', {}, { recordedAt: '2026-03-01T09:00:03.000Z', metadata: {} }));

    expect(project(customerTimelineProjection, events).get(TIMELINE_ENTRIES, eventIdOf(1))).toEqual({
      _id: eventIdOf(1),
      _position: 1,
      customerId: CUSTOMER_ID,
      type: 'CustomerRegistered',
      streamId: `customer-${CUSTOMER_ID}`,
      revision: 0,
      position: 1,
      occurredAt: '2026-03-01T09:00:03.000Z',
      recordedAt: '2026-03-01T09:00:03.000Z',
      actor: null,
      data: { customerId: CUSTOMER_ID, kind: 'customer', name: 'Ada Lovelace' },
      sortKey: '2026-03-01T09:00:03.000Z|0000000000000001',
    });
  });

  it('keeps personal fields as the log has them (sealed) and stores no summary made from them', () => {
    expect(customerTimelineProjection.sealed).toBe(true);
    const sealed = 'enc:v1:c2VhbGVkLWJ5LXRoZS1sb2ctNzMxOQ==';
    const events = history(contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1', summary: sealed, outcome: sealed }));

    const entry = project(customerTimelineProjection, events).get(TIMELINE_ENTRIES, eventIdOf(1));
    expect(entry?.['data']).toMatchObject({ summary: sealed, outcome: sealed });
    expect(entry).not.toHaveProperty('summary');
  });

  it("rewrites the personal fields of a customer's entries as erased on CustomerErased, also those stored in clear", () => {
    const events = history(
      customerRegistered('2026-03-01T09:00:00.000Z'),
      contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1', summary: 'enc:v1:AAAA', outcome: 'spoke in clear 5521' }),
      {
        streamId: `customer-${CUSTOMER_ID}`, type: 'CustomerErased', occurredAt: '2026-03-02T09:00:00.000Z', options: {},
        data: { customerId: CUSTOMER_ID, erasedAt: '2026-03-02T09:00:00.000Z', reason: 'request 77', fields: {} },
      },
    );
    const timeline = project(customerTimelineProjection, events);

    expect(timeline.get(TIMELINE_ENTRIES, eventIdOf(1))?.['data']).toMatchObject({ name: '[erased]' });
    expect(timeline.get(TIMELINE_ENTRIES, eventIdOf(2))?.['data']).toMatchObject({ summary: '[erased]', outcome: '[erased]', channel: 'phone' });
  });

  it("hands the store the entry as JSON with the log's own text of the data, which parses to the entry", () => {
    const events = history(
      customerRegistered('2026-03-01T09:00:00.000Z'),
      contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1', summary: 'enc:v1:AAAA', outcome: 'quote " and \\ and \u2028 ü' }),
      purchaseRecorded('2026-03-02T10:00:00.000Z', money(1, 3)),
    );
    for (const event of events) {
      // Other bytes than JSON.stringify would write (indented): the store must get these, not a re-serialisation.
      const dataJson = JSON.stringify(event.data, null, 1);
      const [change] = customerTimelineProjection.changes({ ...event, dataJson });
      if (!change || !('id' in change) || !change.json) throw new Error(`no JSON for ${event.type}`);
      const body = change.evolve(null)!;
      const json = change.json(body);
      expect(json).toContain(dataJson);
      expect(JSON.parse(json)).toEqual(body);
      // Without the log's text (an upcast or opened event) the store serialises the entry itself.
      const [plain] = customerTimelineProjection.changes(event);
      expect(plain && 'id' in plain ? plain.json : 'not a document change').toBeUndefined();
    }
  });
});

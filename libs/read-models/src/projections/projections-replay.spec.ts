import { describe, expect, it } from '@jest/globals';
import {
  FILED_AT,
  P2_SLA,
  complaintClosed,
  complaintFiled,
  complaintOwnerChanged,
  complaintReopened,
  complaintResolved,
  complaintResponded,
  contactLogged,
  customerMerge,
  customerRegistered,
  followUpCancelled,
  followUpCompleted,
  followUpReassigned,
  followUpScheduled,
  history,
  money,
  ownerAssigned,
  preferencesSet,
  profileChanged,
  project,
  prospectConverted,
  loyaltyPolicyPublished,
  purchaseRecorded,
  returnRecorded,
  slaBreached,
} from '../../test-support/project';
import { DEFAULT_LOYALTY_POLICY, mapPersonalData, PERSONAL_FIELDS } from '@crm/domain';
import type { PersonalFieldSelection } from '@crm/event-store';
import { ALL_PROJECTIONS } from './index';

const REOPEN_DUE = '2026-03-05T08:00:00.000Z';

/** Every event type at least once, for two customers, so each projection has documents to replay onto. */
const EVENTS = history(
  customerRegistered('2026-03-01T09:00:00.000Z', { kind: 'prospect', name: 'Zoë Ångström', email: 'zoe@example.com' }),
  customerRegistered('2026-03-01T09:05:00.000Z', { customerId: 'cust-2', name: 'Bo Diddley' }),
  profileChanged('2026-03-01T09:10:00.000Z', { email: null }),
  prospectConverted('2026-03-01T09:20:00.000Z'),
  ownerAssigned('2026-03-01T09:30:00.000Z'),
  preferencesSet('2026-03-01T09:40:00.000Z', { maxContactsPer7Days: 2, channels: ['email'] }),
  contactLogged('2026-03-01T10:00:00.000Z', { contactId: 'c-1' }),
  contactLogged('2026-02-25T10:00:00.000Z', { contactId: 'c-0', direction: 'inbound' }),
  followUpScheduled('2026-03-01T11:00:00.000Z'),
  followUpScheduled('2026-03-01T11:05:00.000Z', { followUpId: 'fu-2', customerId: 'cust-2' }),
  followUpReassigned('2026-03-01T11:30:00.000Z'),
  followUpCompleted('2026-03-01T12:00:00.000Z', { note: 'done' }),
  followUpCancelled('2026-03-01T12:05:00.000Z', { followUpId: 'fu-2', customerId: 'cust-2' }),
  complaintFiled(FILED_AT),
  slaBreached(P2_SLA.firstResponseDueAt, 'first-response', P2_SLA.firstResponseDueAt),
  complaintResponded('2026-03-02T14:00:00.000Z'),
  complaintOwnerChanged('2026-03-02T15:00:00.000Z'),
  complaintResolved('2026-03-02T16:00:00.000Z'),
  complaintReopened('2026-03-04T08:00:00.000Z', REOPEN_DUE),
  slaBreached(REOPEN_DUE, 'resolution', REOPEN_DUE),
  complaintResolved('2026-03-05T10:00:00.000Z', { sla: { ...P2_SLA, resolutionDueAt: REOPEN_DUE } }),
  complaintClosed('2026-03-06T10:00:00.000Z'),
  purchaseRecorded('2026-03-07T10:00:00.000Z', money(1, 3), { orderId: 'o-1' }),
  purchaseRecorded('2026-03-06T10:00:00.000Z', money(255, 2), { orderId: 'o-2', customerId: 'cust-2' }),
  returnRecorded('2026-03-08T10:00:00.000Z', money(1, 3), { orderId: 'o-1' }),
  customerRegistered('2026-03-09T09:00:00.000Z', { customerId: 'cust-3', name: 'Bo D.' }),
  ...customerMerge('2026-03-09T10:00:00.000Z', 'cust-2', 'cust-3'),
  loyaltyPolicyPublished('2026-03-09T10:00:00.000Z', { ...DEFAULT_LOYALTY_POLICY, version: 'loyalty-eur', rates: [{ currency: 'EUR', rate: '0.85', from: '2026-01-01' }] }),
  purchaseRecorded('2026-03-09T11:00:00.000Z', money(90000, 2, 'EUR'), { orderId: 'o-3' }),
);

describe.each(ALL_PROJECTIONS.map((p) => [p.name, p] as const))('replaying the log into %s', (_name, projection) => {
  const once = project(projection, EVENTS);

  it('has documents to replay onto', () => {
    const counts = Object.values(once.snapshot()).map((docs) => docs.length);
    expect(counts.length).toBe(projection.collections.length);
    expect(counts.every((n) => n > 0)).toBe(true);
  });

  it('yields identical documents when every event is applied a second time', () => {
    expect(once.apply(EVENTS).snapshot()).toEqual(once.snapshot());
  });

  it('yields identical documents when a crash replays a stretch of events some documents already have', () => {
    // As after a crash between document writes and the checkpoint: the first 15 are written, the runner resumes at 9.
    const resumed = project(projection, EVENTS.slice(0, 15)).apply(EVENTS.slice(8));
    expect(resumed.snapshot()).toEqual(once.snapshot());
  });
});

/** EVENTS as a runner gives them to `projection`: the personal fields it does not list in `opens` still sealed. */
function sealedBeyond(opens: PersonalFieldSelection, events: readonly (typeof EVENTS)[number][]): typeof EVENTS {
  return events.map((e) => {
    const unlisted = (PERSONAL_FIELDS[e.type] ?? []).filter((path) => !(opens[e.type] ?? []).includes(path));
    return unlisted.length === 0 ? e : { ...e, data: mapPersonalData(e.type, e.data, () => 'enc:v1:not-opened', unlisted) };
  });
}

describe.each(ALL_PROJECTIONS.filter((p) => p.opens).map((p) => [p.name, p] as const))('%s with only the personal fields it lists opened', (_name, projection) => {
  it('builds the same documents as with every field opened (it reads no personal field it does not list)', () => {
    const sealed = sealedBeyond(projection.opens!, EVENTS);
    const ofItsTypes = (events: typeof EVENTS): typeof EVENTS => events.filter((e) => projection.eventTypes.includes(e.type));
    // The check means something: some event of its types carries a value in a field left sealed.
    expect(ofItsTypes(sealed).some((e, i) => e !== ofItsTypes(EVENTS)[i])).toBe(true);
    expect(project(projection, sealed).snapshot()).toEqual(project(projection, EVENTS).snapshot());
  });
});

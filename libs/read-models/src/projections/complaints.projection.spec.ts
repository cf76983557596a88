import { evolveComplaint, initialComplaintState, type ComplaintEvent, type ComplaintState } from '@crm/domain';
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
  customerRegistered,
  history,
  project,
  slaBreached,
  type Fact,
} from '../../test-support/project';
import type { ProjectedEvent } from '../projection/projection';
import { COMPLAINTS, complaintsProjection } from './complaints.projection';

const FIRST_RESPONSE_DUE = P2_SLA.firstResponseDueAt; // 2026-03-02T13:00Z
const RESOLUTION_DUE = P2_SLA.resolutionDueAt;        // 2026-03-03T09:00Z
const RESPONDED_AT = '2026-03-02T11:00:00.000Z';
const RESOLVED_AT = '2026-03-02T15:00:00.000Z';
const REOPENED_AT = '2026-03-04T08:00:00.000Z';
const REOPEN_DUE = '2026-03-05T08:00:00.000Z';

/** The board entry right after `complaintFiled(FILED_AT)`. */
const FILED = {
  _id: COMPLAINT_ID,
  _position: 1,
  complaintId: COMPLAINT_ID,
  customerId: CUSTOMER_ID,
  ownerId: 'agent-bob',
  status: 'filed',
  open: true,
  priority: 'P2',
  channel: 'phone',
  category: 'billing',
  description: 'charged twice',
  filedAt: FILED_AT,
  slaPolicyVersion: 'sla-2026-01',
  firstResponseDueAt: FIRST_RESPONSE_DUE,
  resolutionDueAt: RESOLUTION_DUE,
  firstRespondedAt: null,
  firstResponseMetAt: null,
  resolvedAt: null,
  closedAt: null,
  resolvedAtFirstContact: false,
  reopenCount: 0,
  breached: false,
  breaches: [],
  nextDeadline: { kind: 'first-response', dueAt: FIRST_RESPONSE_DUE },
  nextDueAt: FIRST_RESPONSE_DUE,
};

/** The complaint's document after each prefix of `facts`: `steps[i]` is the document after the first i + 1 events. */
function steps(...facts: Fact[]) {
  const events = history(...facts);
  return events.map((_, i) => project(complaintsProjection, events.slice(0, i + 1)).get(COMPLAINTS, COMPLAINT_ID));
}

const noClock = { nextDeadline: null, nextDueAt: null };
const resolutionClock = (dueAt: string) => ({ nextDeadline: { kind: 'resolution', dueAt }, nextDueAt: dueAt });

describe('complaints projection', () => {
  it('puts a filed complaint on the open board with its first-response deadline next', () => {
    expect(project(complaintsProjection, history(complaintFiled(FILED_AT))).all(COMPLAINTS)).toEqual([FILED]);
  });

  it('moves the clock from first response to resolution on a response, stops it on resolve, restarts it with the new deadline on reopen', () => {
    const [, responded, resolved, reopened, resolvedAgain] = steps(
      complaintFiled(FILED_AT),
      complaintResponded(RESPONDED_AT),
      complaintResolved(RESOLVED_AT),
      complaintReopened(REOPENED_AT, REOPEN_DUE),
      complaintResolved('2026-03-04T09:00:00.000Z', { sla: { ...P2_SLA, resolutionDueAt: REOPEN_DUE } }),
    );
    const respondedDoc = { ...FILED, status: 'responded', firstRespondedAt: RESPONDED_AT, firstResponseMetAt: RESPONDED_AT };

    expect(responded).toEqual({ ...respondedDoc, _position: 2, ...resolutionClock(RESOLUTION_DUE) });
    expect(resolved).toEqual({ ...respondedDoc, _position: 3, status: 'resolved', open: false, resolvedAt: RESOLVED_AT, ...noClock });
    expect(reopened).toEqual({
      ...respondedDoc, _position: 4, status: 'responded', open: true, resolvedAt: null, resolutionDueAt: REOPEN_DUE, reopenCount: 1,
      ...resolutionClock(REOPEN_DUE),
    });
    expect(resolvedAgain).toEqual({
      ...respondedDoc, _position: 5, status: 'resolved', open: false, resolvedAt: '2026-03-04T09:00:00.000Z',
      resolutionDueAt: REOPEN_DUE, reopenCount: 1, ...noClock,
    });
  });

  it('keeps the first response when more responses follow', () => {
    const [, , second] = steps(complaintFiled(FILED_AT), complaintResponded(RESPONDED_AT), complaintResponded('2026-03-02T12:00:00.000Z'));
    expect(second).toEqual({
      ...FILED, _position: 3, status: 'responded', firstRespondedAt: RESPONDED_AT, firstResponseMetAt: RESPONDED_AT,
      ...resolutionClock(RESOLUTION_DUE),
    });
  });

  it('stops the first-response clock when a resolution comes without any response, and reopens onto the resolution clock', () => {
    const [, resolved, reopened] = steps(
      complaintFiled(FILED_AT),
      complaintResolved('2026-03-02T10:00:00.000Z'),
      complaintReopened(REOPENED_AT, REOPEN_DUE),
    );

    expect(resolved).toEqual({
      ...FILED, _position: 2, status: 'resolved', open: false, resolvedAt: '2026-03-02T10:00:00.000Z',
      firstResponseMetAt: '2026-03-02T10:00:00.000Z', ...noClock,
    });
    expect(reopened).toEqual({
      ...FILED, _position: 3, status: 'filed', open: true, resolvedAt: null, firstResponseMetAt: '2026-03-02T10:00:00.000Z',
      resolutionDueAt: REOPEN_DUE, reopenCount: 1, ...resolutionClock(REOPEN_DUE),
    });
  });

  it('runs no clock for a complaint resolved at first contact (both events of one append)', () => {
    const [, resolved] = steps(complaintFiled(FILED_AT), complaintResolved(FILED_AT, { atFirstContact: true, resolution: 'Resolved at first contact' }));
    expect(resolved).toEqual({
      ...FILED, _position: 2, status: 'resolved', open: false, resolvedAt: FILED_AT, resolvedAtFirstContact: true,
      firstResponseMetAt: FILED_AT, ...noClock,
    });
  });

  it('moves on to the resolution deadline after a first-response breach, and to none after the resolution breach', () => {
    const [, firstBreach, lateResponse, resolutionBreach, resolved] = steps(
      complaintFiled(FILED_AT),
      slaBreached(FIRST_RESPONSE_DUE, 'first-response', FIRST_RESPONSE_DUE),
      complaintResponded('2026-03-02T14:00:00.000Z'),
      slaBreached(RESOLUTION_DUE, 'resolution', RESOLUTION_DUE),
      complaintResolved('2026-03-03T10:00:00.000Z'),
    );
    const firstBreachDoc = { ...FILED, breached: true, breaches: [{ kind: 'first-response', dueAt: FIRST_RESPONSE_DUE }] };

    expect(firstBreach).toEqual({ ...firstBreachDoc, _position: 2, ...resolutionClock(RESOLUTION_DUE) });
    expect(lateResponse).toEqual({
      ...firstBreachDoc, _position: 3, status: 'responded', firstRespondedAt: '2026-03-02T14:00:00.000Z',
      firstResponseMetAt: '2026-03-02T14:00:00.000Z', ...resolutionClock(RESOLUTION_DUE),
    });
    const bothBreaches = [{ kind: 'first-response', dueAt: FIRST_RESPONSE_DUE }, { kind: 'resolution', dueAt: RESOLUTION_DUE }];
    expect(resolutionBreach).toEqual({
      ...firstBreachDoc, _position: 4, status: 'responded', firstRespondedAt: '2026-03-02T14:00:00.000Z',
      firstResponseMetAt: '2026-03-02T14:00:00.000Z', breaches: bothBreaches, ...noClock,
    });
    expect(resolved).toEqual({
      ...firstBreachDoc, _position: 5, status: 'resolved', open: false, resolvedAt: '2026-03-03T10:00:00.000Z',
      firstRespondedAt: '2026-03-02T14:00:00.000Z', firstResponseMetAt: '2026-03-02T14:00:00.000Z', breaches: bothBreaches, ...noClock,
    });
  });

  it('gives a reopened complaint whose old resolution deadline was breached the new deadline, and none once that is breached too', () => {
    const documents = steps(
      complaintFiled(FILED_AT),
      complaintResponded(RESPONDED_AT),
      slaBreached(RESOLUTION_DUE, 'resolution', RESOLUTION_DUE),
      complaintResolved('2026-03-03T10:00:00.000Z'),
      complaintReopened(REOPENED_AT, REOPEN_DUE),
      slaBreached(REOPEN_DUE, 'resolution', REOPEN_DUE),
    );
    const reopened = documents[4];
    const breachedAgain = documents[5];

    expect(reopened?.['nextDeadline']).toEqual({ kind: 'resolution', dueAt: REOPEN_DUE });
    expect(reopened?.['nextDueAt']).toBe(REOPEN_DUE);
    expect(breachedAgain).toEqual({
      ...FILED, _position: 6, status: 'responded', open: true, firstRespondedAt: RESPONDED_AT, firstResponseMetAt: RESPONDED_AT,
      resolutionDueAt: REOPEN_DUE, reopenCount: 1, breached: true,
      breaches: [{ kind: 'resolution', dueAt: RESOLUTION_DUE }, { kind: 'resolution', dueAt: REOPEN_DUE }],
      ...noClock,
    });
  });

  it('keeps a resolved complaint resolved when a response comes after the resolution', () => {
    const [, , lateResponse] = steps(complaintFiled(FILED_AT), complaintResolved(RESOLVED_AT), complaintResponded('2026-03-02T16:00:00.000Z'));
    expect(lateResponse).toEqual({
      ...FILED, _position: 3, status: 'resolved', open: false, resolvedAt: RESOLVED_AT, firstRespondedAt: '2026-03-02T16:00:00.000Z',
      firstResponseMetAt: RESOLVED_AT, ...noClock,
    });
  });

  it('changes the owner and closes a resolved complaint', () => {
    const [, owned, , closed] = steps(
      complaintFiled(FILED_AT, { ownerId: null }),
      complaintOwnerChanged('2026-03-02T09:30:00.000Z', { ownerId: 'agent-cy', previousOwnerId: null }),
      complaintResolved(RESOLVED_AT),
      complaintClosed('2026-03-06T09:00:00.000Z'),
    );
    expect(owned).toEqual({ ...FILED, _position: 2, ownerId: 'agent-cy' });
    expect(closed).toEqual({
      ...FILED, _position: 4, ownerId: 'agent-cy', status: 'closed', open: false, resolvedAt: RESOLVED_AT, firstResponseMetAt: RESOLVED_AT,
      closedAt: '2026-03-06T09:00:00.000Z', ...noClock,
    });
  });

  it('ignores events of a complaint that was never filed, and customer events', () => {
    const documents = project(complaintsProjection, history(
      customerRegistered(FILED_AT),
      complaintResponded(RESPONDED_AT, { complaintId: 'compl-ghost' }),
      slaBreached(FIRST_RESPONSE_DUE, 'first-response', FIRST_RESPONSE_DUE, { complaintId: 'compl-ghost' }),
    ));
    expect(documents.all(COMPLAINTS)).toEqual([]);
  });

  it('agrees with the domain on status, first response and reopen count along a whole lifecycle', () => {
    const events = history(
      complaintFiled(FILED_AT),
      slaBreached(FIRST_RESPONSE_DUE, 'first-response', FIRST_RESPONSE_DUE),
      complaintResponded('2026-03-02T14:00:00.000Z'),
      complaintResolved(RESOLVED_AT),
      complaintReopened(REOPENED_AT, REOPEN_DUE),
      complaintResolved('2026-03-04T10:00:00.000Z'),
      complaintClosed('2026-03-05T10:00:00.000Z'),
    );
    const domainStatus: Record<string, string> = { open: 'filed', responded: 'responded', resolved: 'resolved', closed: 'closed' };
    let state: ComplaintState = initialComplaintState();
    for (const [i, event] of events.entries()) {
      state = evolveComplaint(state, asDomainEvent(event));
      const doc = project(complaintsProjection, events.slice(0, i + 1)).get(COMPLAINTS, COMPLAINT_ID);
      if (!state.exists) throw new Error('the complaint was filed');
      expect([doc?.['status'], doc?.['firstRespondedAt'], doc?.['firstResponseMetAt'], doc?.['resolvedAt'], doc?.['reopenCount'], doc?.['resolutionDueAt']])
        .toEqual([domainStatus[state.status], state.firstRespondedAt, state.firstResponseMetAt, state.resolvedAt, state.reopenCount, state.sla.resolutionDueAt]);
    }
  });

  // Surprising (reported): the domain keeps `resolvedAtFirstContact` once true (evolveComplaint ORs it), the board takes
  // the latest resolution's flag. Pinned as the board behaves today, so a decision either way shows up here.
  it('shows resolvedAtFirstContact of the latest resolution only (the domain state keeps it true)', () => {
    const events = history(
      complaintFiled(FILED_AT),
      complaintResolved(FILED_AT, { atFirstContact: true }),
      complaintReopened(REOPENED_AT, REOPEN_DUE),
      complaintResolved('2026-03-04T10:00:00.000Z'),
    );
    const board = project(complaintsProjection, events);
    const domain = events.reduce<ComplaintState>((s, e) => evolveComplaint(s, asDomainEvent(e)), initialComplaintState());

    expect(project(complaintsProjection, events.slice(0, 3)).get(COMPLAINTS, COMPLAINT_ID)?.['resolvedAtFirstContact']).toBe(true);
    expect(board.get(COMPLAINTS, COMPLAINT_ID)?.['resolvedAtFirstContact']).toBe(false);
    expect(domain.exists && domain.resolvedAtFirstContact).toBe(true);
  });
});

function asDomainEvent(event: ProjectedEvent): ComplaintEvent {
  return { type: event.type, data: event.data } as ComplaintEvent;
}

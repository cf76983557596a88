import { describe, expect, it } from '@jest/globals';
import {
  COMPLAINT_ID,
  CUSTOMER_ID,
  FOLLOW_UP_ID,
  contactLogged,
  customerRegistered,
  followUpCancelled,
  followUpCompleted,
  followUpReassigned,
  followUpScheduled,
  history,
  project,
} from '../../test-support/project';
import { FOLLOW_UPS, followUpsProjection } from './follow-ups.projection';

const SCHEDULED_AT = '2026-03-02T09:00:00.000Z';
const RECORDED_AT = '2026-03-02T09:00:01.000Z';
const DUE_AT = '2026-03-10T09:00:00.000Z';

const OPEN = {
  _id: FOLLOW_UP_ID,
  _position: 1,
  followUpId: FOLLOW_UP_ID,
  customerId: CUSTOMER_ID,
  ownerId: 'agent-bob',
  dueAt: DUE_AT,
  reason: 'call back',
  complaintId: null,
  status: 'open',
  // Store time, not the business time of the scheduling (see the report).
  scheduledAt: RECORDED_AT,
  closedAt: null,
  note: null,
};

const scheduled = followUpScheduled(SCHEDULED_AT, { dueAt: DUE_AT }, { recordedAt: RECORDED_AT });

describe('follow-ups projection', () => {
  it('lists a scheduled follow-up as open, stamped with the time its event was recorded', () => {
    expect(project(followUpsProjection, history(scheduled)).all(FOLLOW_UPS)).toEqual([OPEN]);
  });

  it('links a follow-up to its complaint', () => {
    const followUps = project(followUpsProjection, history(
      followUpScheduled(SCHEDULED_AT, { dueAt: DUE_AT, complaintId: COMPLAINT_ID }, { recordedAt: RECORDED_AT }),
    ));
    expect(followUps.all(FOLLOW_UPS)).toEqual([{ ...OPEN, complaintId: COMPLAINT_ID }]);
  });

  it('completes a follow-up with its note, or with none', () => {
    const withNote = project(followUpsProjection, history(scheduled, followUpCompleted('2026-03-09T10:00:00.000Z', { note: 'renewed for a year' })));
    expect(withNote.all(FOLLOW_UPS)).toEqual([
      { ...OPEN, _position: 2, status: 'completed', closedAt: '2026-03-09T10:00:00.000Z', note: 'renewed for a year' },
    ]);

    const withoutNote = project(followUpsProjection, history(scheduled, followUpCompleted('2026-03-09T10:00:00.000Z')));
    expect(withoutNote.all(FOLLOW_UPS)).toEqual([{ ...OPEN, _position: 2, status: 'completed', closedAt: '2026-03-09T10:00:00.000Z', note: null }]);
  });

  it("moves a follow-up to the new owner of an owner hand-over, so it shows in that owner's list", () => {
    const followUps = project(followUpsProjection, history(scheduled, followUpReassigned('2026-03-03T10:00:00.000Z', { ownerId: 'agent-cy' })));
    expect(followUps.all(FOLLOW_UPS)).toEqual([{ ...OPEN, _position: 2, ownerId: 'agent-cy' }]);
  });

  it('cancels a follow-up, keeping the reason as its note', () => {
    const withReason = project(followUpsProjection, history(scheduled, followUpCancelled('2026-03-05T10:00:00.000Z', { reason: 'customer moved away' })));
    expect(withReason.all(FOLLOW_UPS)).toEqual([
      { ...OPEN, _position: 2, status: 'cancelled', closedAt: '2026-03-05T10:00:00.000Z', note: 'customer moved away' },
    ]);

    const withoutReason = project(followUpsProjection, history(scheduled, followUpCancelled('2026-03-05T10:00:00.000Z')));
    expect(withoutReason.all(FOLLOW_UPS)).toEqual([{ ...OPEN, _position: 2, status: 'cancelled', closedAt: '2026-03-05T10:00:00.000Z', note: null }]);
  });

  it('keeps follow-ups apart, ignores other customer events and closing a follow-up it never saw scheduled', () => {
    const followUps = project(followUpsProjection, history(
      customerRegistered('2026-03-01T09:00:00.000Z'),
      scheduled,
      contactLogged('2026-03-02T10:00:00.000Z', { contactId: 'c-1' }),
      followUpScheduled('2026-03-02T11:00:00.000Z', { followUpId: 'fu-2', dueAt: '2026-03-03T09:00:00.000Z', ownerId: 'agent-cy', reason: 'send quote' }),
      followUpCompleted('2026-03-03T08:00:00.000Z', { followUpId: 'fu-2' }),
      followUpCancelled('2026-03-03T09:00:00.000Z', { followUpId: 'fu-unknown' }),
    ));

    expect(followUps.all(FOLLOW_UPS)).toEqual([
      { ...OPEN, _position: 2 },
      {
        ...OPEN, _id: 'fu-2', _position: 5, followUpId: 'fu-2', ownerId: 'agent-cy', dueAt: '2026-03-03T09:00:00.000Z', reason: 'send quote',
        scheduledAt: '2026-03-02T11:00:00.000Z', status: 'completed', closedAt: '2026-03-03T08:00:00.000Z',
      },
    ]);
  });
});

import { describe, expect, it } from '@jest/globals';
import {
  COMPLAINT_ID,
  CUSTOMER_ID,
  FILED_AT,
  P2_SLA,
  complaintFiled,
  complaintReopened,
  complaintResolved,
  complaintResponded,
  history,
  project,
  slaBreached,
} from '../../test-support/project';
import { SLA_BREACHES, slaBreachesProjection } from './sla-breaches.projection';

const FIRST_RESPONSE_DUE = P2_SLA.firstResponseDueAt; // 2026-03-02T13:00Z
const RESOLUTION_DUE = P2_SLA.resolutionDueAt;        // 2026-03-03T09:00Z
const FIRST_RESPONSE_ID = `${COMPLAINT_ID}:first-response:${FIRST_RESPONSE_DUE}`;
const RESOLUTION_ID = `${COMPLAINT_ID}:resolution:${RESOLUTION_DUE}`;
/** The watcher notices a little after the deadline; the event is recorded then. */
const DETECTED_AT = '2026-03-02T13:00:30.000Z';

const FIRST_RESPONSE_BREACH = {
  _id: FIRST_RESPONSE_ID,
  _position: 2,
  complaintId: COMPLAINT_ID,
  customerId: CUSTOMER_ID,
  ownerId: 'agent-bob',
  priority: 'P2',
  kind: 'first-response',
  dueAt: FIRST_RESPONSE_DUE,
  breachedAt: FIRST_RESPONSE_DUE,
  detectedAt: DETECTED_AT,
  metAt: null,
};

describe('sla breaches projection', () => {
  it('records a breached deadline, detected at the time the breach was recorded, not yet met', () => {
    const breaches = project(slaBreachesProjection, history(
      complaintFiled(FILED_AT),
      slaBreached(FIRST_RESPONSE_DUE, 'first-response', FIRST_RESPONSE_DUE, {}, { recordedAt: DETECTED_AT }),
    ));
    expect(breaches.all(SLA_BREACHES)).toEqual([FIRST_RESPONSE_BREACH]);
  });

  it('meets a first-response breach with the late response, and keeps that time when more responses follow', () => {
    const events = history(
      complaintFiled(FILED_AT),
      slaBreached(FIRST_RESPONSE_DUE, 'first-response', FIRST_RESPONSE_DUE, {}, { recordedAt: DETECTED_AT }),
      complaintResponded('2026-03-02T14:00:00.000Z'),
      complaintResponded('2026-03-02T16:00:00.000Z'),
    );

    expect(project(slaBreachesProjection, events.slice(0, 3)).all(SLA_BREACHES)).toEqual([
      { ...FIRST_RESPONSE_BREACH, _position: 3, metAt: '2026-03-02T14:00:00.000Z' },
    ]);
    // The later response leaves metAt alone; the document still records that it has seen the event.
    expect(project(slaBreachesProjection, events).all(SLA_BREACHES)).toEqual([
      { ...FIRST_RESPONSE_BREACH, _position: 4, metAt: '2026-03-02T14:00:00.000Z' },
    ]);
  });

  it('creates no document for a response or a resolution of a complaint with no breach', () => {
    const breaches = project(slaBreachesProjection, history(
      complaintFiled(FILED_AT),
      complaintResponded('2026-03-02T10:00:00.000Z'),
      complaintResolved('2026-03-02T11:00:00.000Z'),
    ));
    expect(breaches.all(SLA_BREACHES)).toEqual([]);
  });

  it('meets both a first-response and a resolution breach with a resolution that never had a response', () => {
    const breaches = project(slaBreachesProjection, history(
      complaintFiled(FILED_AT),
      slaBreached(FIRST_RESPONSE_DUE, 'first-response', FIRST_RESPONSE_DUE, {}, { recordedAt: DETECTED_AT }),
      slaBreached(RESOLUTION_DUE, 'resolution', RESOLUTION_DUE, { ownerId: null }, { recordedAt: '2026-03-03T09:01:00.000Z' }),
      complaintResolved('2026-03-03T12:00:00.000Z'),
    ));

    expect(breaches.all(SLA_BREACHES)).toEqual([
      { ...FIRST_RESPONSE_BREACH, _position: 4, metAt: '2026-03-03T12:00:00.000Z' },
      {
        ...FIRST_RESPONSE_BREACH, _id: RESOLUTION_ID, _position: 4, kind: 'resolution', ownerId: null, dueAt: RESOLUTION_DUE,
        breachedAt: RESOLUTION_DUE, detectedAt: '2026-03-03T09:01:00.000Z', metAt: '2026-03-03T12:00:00.000Z',
      },
    ]);
  });

  it('does not let a resolution move the metAt of a first-response breach already met by a response', () => {
    const breaches = project(slaBreachesProjection, history(
      complaintFiled(FILED_AT),
      slaBreached(FIRST_RESPONSE_DUE, 'first-response', FIRST_RESPONSE_DUE, {}, { recordedAt: DETECTED_AT }),
      complaintResponded('2026-03-02T14:00:00.000Z'),
      complaintResolved('2026-03-02T18:00:00.000Z'),
    ));
    expect(breaches.all(SLA_BREACHES)).toEqual([{ ...FIRST_RESPONSE_BREACH, _position: 4, metAt: '2026-03-02T14:00:00.000Z' }]);
  });

  it('keeps each resolution deadline of a reopened complaint as its own breach, met by the resolution in force', () => {
    const REOPEN_DUE = '2026-03-05T08:00:00.000Z';
    const reopenedSla = { ...P2_SLA, resolutionDueAt: REOPEN_DUE };
    const breaches = project(slaBreachesProjection, history(
      complaintFiled(FILED_AT),
      complaintResponded('2026-03-02T10:00:00.000Z'),
      slaBreached(RESOLUTION_DUE, 'resolution', RESOLUTION_DUE, {}, { recordedAt: '2026-03-03T09:01:00.000Z' }),
      complaintResolved('2026-03-03T12:00:00.000Z'),
      complaintReopened('2026-03-04T08:00:00.000Z', REOPEN_DUE),
      slaBreached(REOPEN_DUE, 'resolution', REOPEN_DUE, {}, { recordedAt: '2026-03-05T08:01:00.000Z' }),
      complaintResponded('2026-03-05T10:00:00.000Z', { sla: reopenedSla }),
      complaintResolved('2026-03-05T12:00:00.000Z', { sla: reopenedSla }),
    ));

    const resolutionBreach = {
      ...FIRST_RESPONSE_BREACH, kind: 'resolution', _id: RESOLUTION_ID, dueAt: RESOLUTION_DUE, breachedAt: RESOLUTION_DUE,
      detectedAt: '2026-03-03T09:01:00.000Z',
    };
    expect(breaches.all(SLA_BREACHES)).toEqual([
      { ...resolutionBreach, _position: 4, metAt: '2026-03-03T12:00:00.000Z' },
      {
        ...resolutionBreach, _id: `${COMPLAINT_ID}:resolution:${REOPEN_DUE}`, _position: 8, dueAt: REOPEN_DUE, breachedAt: REOPEN_DUE,
        detectedAt: '2026-03-05T08:01:00.000Z', metAt: '2026-03-05T12:00:00.000Z',
      },
    ]);
  });

  it('keeps breaches of different complaints apart', () => {
    const breaches = project(slaBreachesProjection, history(
      slaBreached(FIRST_RESPONSE_DUE, 'first-response', FIRST_RESPONSE_DUE, {}, { recordedAt: DETECTED_AT }),
      slaBreached(FIRST_RESPONSE_DUE, 'first-response', FIRST_RESPONSE_DUE, { complaintId: 'compl-2', priority: 'P1' }, { recordedAt: DETECTED_AT }),
      complaintResponded('2026-03-02T14:00:00.000Z', { complaintId: 'compl-2' }),
    ));
    expect(breaches.all(SLA_BREACHES)).toEqual([
      { ...FIRST_RESPONSE_BREACH, _position: 1 },
      { ...FIRST_RESPONSE_BREACH, _id: `compl-2:first-response:${FIRST_RESPONSE_DUE}`, _position: 3, complaintId: 'compl-2', priority: 'P1', metAt: '2026-03-02T14:00:00.000Z' },
    ]);
  });
});

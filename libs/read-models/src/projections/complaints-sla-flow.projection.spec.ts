import type {
  ComplaintAwaitingCustomer, ComplaintEscalated, ComplaintPriorityChanged, ComplaintResumed, SlaDeadlines, SlaEscalationDue,
} from '@crm/domain';
import { describe, expect, it } from '@jest/globals';
import { COMPLAINT_ID, CUSTOMER_ID, FILED_AT, P2_SLA, complaintFiled, complaintResponded, contactLogged, history, project, type Fact } from '../../test-support/project';
import { COMPLAINTS, complaintsProjection } from './complaints.projection';

/** The complaints board for issue 16: waits, resume requests from inbound contacts, priority changes, escalations. */
const STREAM = `complaint-${COMPLAINT_ID}`;
const at = (hhmm: string, day = '2026-03-02'): string => `${day}T${hhmm}:00.000Z`;
const sla = (firstResponseDueAt: string, resolutionDueAt: string): SlaDeadlines => ({ policyVersion: 'sla-2026-01', firstResponseDueAt, resolutionDueAt });

const awaiting = (pausedAt: string, clocksStopped = true): Fact => {
  const data: ComplaintAwaitingCustomer['data'] = { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, pausedAt, reason: 'asked for a photo', clocksStopped };
  return { streamId: STREAM, type: 'ComplaintAwaitingCustomer', data, occurredAt: pausedAt, options: {} };
};
const resumed = (pausedSince: string, resumedAt: string, pausedMinutes: number, deadlines: SlaDeadlines, escalations: SlaEscalationDue[] = []): Fact => {
  const data: ComplaintResumed['data'] = {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, resumedAt, pausedSince, pausedMinutes, reason: null, trigger: 'agent', contactId: null,
    sla: deadlines, escalations,
  };
  return { streamId: STREAM, type: 'ComplaintResumed', data, occurredAt: resumedAt, options: {} };
};
const priorityChanged = (changedAt: string, deadlines: SlaDeadlines): Fact => {
  const data: ComplaintPriorityChanged['data'] = {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, priority: 'P1', previousPriority: 'P2', reason: 'hospital', changedAt, sla: deadlines, escalations: [],
  };
  return { streamId: STREAM, type: 'ComplaintPriorityChanged', data, occurredAt: changedAt, options: {} };
};
const escalated = (due: SlaEscalationDue): Fact => {
  const data: ComplaintEscalated['data'] = {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, step: due.step, kind: due.kind, atPercent: due.atPercent, notify: due.notify,
    dueAt: due.dueAt, escalatedAt: due.dueAt, ownerId: 'agent-bob', priority: 'P2',
  };
  return { streamId: STREAM, type: 'ComplaintEscalated', data, occurredAt: due.dueAt, options: {} };
};
const board = (...facts: Fact[]) => project(complaintsProjection, history(...facts)).get(COMPLAINTS, COMPLAINT_ID);

describe('complaints projection: waiting for the customer', () => {
  it('has nothing due while the clocks stand still, and the moved deadlines after the resume', () => {
    expect(board(complaintFiled(FILED_AT), awaiting(at('10:00')))).toMatchObject({
      paused: true, pausedSince: at('10:00'), clocksStopped: true, pausedMinutes: 0, nextDeadline: null, nextDueAt: null,
    });
    expect(board(complaintFiled(FILED_AT), awaiting(at('10:00')), resumed(at('10:00'), at('11:30'), 90, sla(at('14:30'), at('10:30', '2026-03-03'))))).toMatchObject({
      paused: false, pausedSince: null, pausedMinutes: 90, firstResponseDueAt: at('14:30'), resolutionDueAt: at('10:30', '2026-03-03'),
      nextDeadline: { kind: 'first-response', dueAt: at('14:30') }, nextDueAt: at('14:30'),
    });
  });

  it('keeps the deadlines due while waiting under a policy that does not stop the clocks', () => {
    expect(board(complaintFiled(FILED_AT), awaiting(at('10:00'), false))).toMatchObject({ paused: true, nextDueAt: P2_SLA.firstResponseDueAt });
  });

  it('asks the watcher to resume on an inbound contact linked to the waiting complaint, at the contact time', () => {
    const inbound = contactLogged(at('10:20'), { contactId: 'ct-in', direction: 'inbound', purpose: 'complaint', complaintId: COMPLAINT_ID });
    expect(board(complaintFiled(FILED_AT), awaiting(at('10:00')), inbound)).toMatchObject({
      resumeRequest: { contactId: 'ct-in', occurredAt: at('10:20') }, nextDueAt: at('10:20'),
    });
    expect(board(complaintFiled(FILED_AT), awaiting(at('10:00')), inbound, resumed(at('10:00'), at('10:20'), 20, sla(at('13:20'), at('09:20', '2026-03-03'))))).toMatchObject({
      resumeRequest: null, nextDueAt: at('13:20'),
    });
  });

  it('ignores outbound contacts, contacts from before the wait, and contacts when it does not wait', () => {
    const outbound = contactLogged(at('10:20'), { contactId: 'ct-out', direction: 'outbound', purpose: 'complaint', complaintId: COMPLAINT_ID });
    const early = contactLogged(at('09:50'), { contactId: 'ct-early', direction: 'inbound', purpose: 'complaint', complaintId: COMPLAINT_ID });
    expect(board(complaintFiled(FILED_AT), awaiting(at('10:00')), outbound, early)).toMatchObject({ nextDueAt: null });
    expect(board(complaintFiled(FILED_AT), awaiting(at('10:00')), outbound, early)?.['resumeRequest']).toBeNull();
    const notWaiting = contactLogged(at('10:20'), { contactId: 'ct-in', direction: 'inbound', purpose: 'complaint', complaintId: COMPLAINT_ID });
    expect(board(complaintFiled(FILED_AT), notWaiting)?.['resumeRequest']).toBeUndefined();
  });
});

describe('complaints projection: priority and escalation', () => {
  it('shows the current priority and the one it was filed with, and the new deadlines', () => {
    expect(board(complaintFiled(FILED_AT), priorityChanged(at('09:30'), sla(at('10:00'), at('13:00'))))).toMatchObject({
      priority: 'P1', filingPriority: 'P2', priorityChanges: 1, firstResponseDueAt: at('10:00'), resolutionDueAt: at('13:00'), nextDueAt: at('10:00'),
    });
  });

  it('puts the next escalation step among what is due, and lists the steps recorded', () => {
    const warn: SlaEscalationDue = { step: 'fr-50', kind: 'first-response', atPercent: 50, notify: 'owner', dueAt: at('11:00') };
    const late: SlaEscalationDue = { step: 'res-75', kind: 'resolution', atPercent: 75, notify: 'supervisor', dueAt: at('03:00', '2026-03-03') };
    const filed = complaintFiled(FILED_AT, { escalations: [warn, late] });
    expect(board(filed)).toMatchObject({ nextEscalationDueAt: at('11:00'), nextDueAt: at('11:00') });
    expect(board(filed, escalated(warn))).toMatchObject({
      escalated: true, escalations: [{ step: 'fr-50', notify: 'owner', escalatedAt: at('11:00'), priority: 'P2' }],
      nextEscalationDueAt: late.dueAt, nextDueAt: P2_SLA.firstResponseDueAt,
    });
    // Answered: the first-response step no longer applies.
    expect(board(filed, complaintResponded(at('10:00')))).toMatchObject({ nextEscalationDueAt: late.dueAt });
    expect(board(filed, awaiting(at('10:00')))).toMatchObject({ nextEscalationDueAt: null, nextDueAt: null });
  });
});

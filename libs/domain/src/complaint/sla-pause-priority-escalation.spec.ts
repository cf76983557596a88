import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import {
  COMPLAINT_ID,
  CUSTOMER_ID,
  P2_FIRST_RESPONSE_DUE,
  P2_RESOLUTION_DUE,
  P2_SLA,
  closed,
  complaintFiled,
  fileComplaint,
  responded,
  resolved,
} from '../../test-support/complaint-fixtures';
import type { ComplaintCommand } from './complaint-commands';
import type {
  ComplaintAwaitingCustomer,
  ComplaintEscalated,
  ComplaintEvent,
  ComplaintPriorityChanged,
  ComplaintResumed,
  SlaBreached,
  SlaDeadlines,
  SlaEscalationDue,
} from './complaint-events';
import { makeComplaintDecider } from './complaint-decider';
import type { FiledComplaintState } from './complaint-state';
import { DEFAULT_SLA_POLICY } from './sla-policy';
import type { SlaPolicy } from './sla-policy';

/**
 * Issue 16, items 2–4, on 24x7 targets (the default policy: P1 60/240, P2 240/1440, P4 1440/10080 minutes), so that
 * every expected instant is plain arithmetic. The default policy names no `pauseWhen`: waiting stops the clocks.
 */
const spec = DeciderSpecification.for(makeComplaintDecider({ slaPolicy: DEFAULT_SLA_POLICY }));
const at = (hhmm: string, day = '2026-03-02'): string => `${day}T${hhmm}:00.000Z`;
const now = (hhmm: string, day = '2026-03-02'): Date => new Date(at(hhmm, day));

const awaitCustomer = (occurredAt: string, reason = 'asked for the order number'): ComplaintCommand => ({
  type: 'AwaitCustomer', data: { complaintId: COMPLAINT_ID, reason, occurredAt },
});
const resume = (occurredAt: string, reason: string | null = 'customer called back'): ComplaintCommand => ({
  type: 'ResumeComplaint', data: { complaintId: COMPLAINT_ID, reason, occurredAt, trigger: 'agent' },
});
const resumeByContact = (occurredAt: string, contactId = 'contact-7'): ComplaintCommand => ({
  type: 'ResumeComplaint', data: { complaintId: COMPLAINT_ID, reason: null, occurredAt, trigger: 'inbound-contact', contactId },
});
const changePriority = (priority: 'P1' | 'P2' | 'P3' | 'P4', occurredAt: string): ComplaintCommand => ({
  type: 'ChangeComplaintPriority', data: { complaintId: COMPLAINT_ID, priority, reason: 'customer is a hospital', occurredAt },
});
const breach = (kind: 'first-response' | 'resolution'): ComplaintCommand => ({ type: 'RecordSlaBreach', data: { complaintId: COMPLAINT_ID, kind } });
const escalate: ComplaintCommand = { type: 'RecordSlaEscalations', data: { complaintId: COMPLAINT_ID } };

const awaiting = (pausedAt: string, clocksStopped = true): ComplaintAwaitingCustomer => ({
  type: 'ComplaintAwaitingCustomer',
  data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, pausedAt, reason: 'asked for the order number', clocksStopped },
});
const sla = (firstResponseDueAt: string, resolutionDueAt: string): SlaDeadlines => ({ policyVersion: 'sla-2026-01', firstResponseDueAt, resolutionDueAt });
const resumed = (pausedSince: string, resumedAt: string, pausedMinutes: number, deadlines: SlaDeadlines, overrides: Partial<ComplaintResumed['data']> = {}): ComplaintResumed => ({
  type: 'ComplaintResumed',
  data: {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, resumedAt, pausedSince, pausedMinutes, reason: 'customer called back',
    trigger: 'agent', contactId: null, sla: deadlines, escalations: [], ...overrides,
  },
});
const breached = (kind: 'first-response' | 'resolution', dueAt: string, priority: 'P1' | 'P2' | 'P4' = 'P2'): SlaBreached => ({
  type: 'SlaBreached',
  data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, kind, dueAt, breachedAt: dueAt, ownerId: 'agent-ana', priority },
});

const stateAfter = (events: ComplaintEvent[], command: ComplaintCommand, when: Date, check: (s: FiledComplaintState) => void): void =>
  spec.given(events).when(command, when).thenState((state) => {
    if (!state.exists) throw new Error('complaint expected');
    check(state);
  });

describe('await customer (pause)', () => {
  it('records the wait, and that the default policy stops the clocks for it', () => {
    spec.given([complaintFiled()]).when(awaitCustomer(at('10:00')), now('10:00')).then([awaiting(at('10:00'))]);
  });

  it('records that the clocks keep running under a policy whose pauseWhen is empty', () => {
    const running = DeciderSpecification.for(makeComplaintDecider({ slaPolicy: { ...DEFAULT_SLA_POLICY, pauseWhen: [] } }));
    running.given([complaintFiled()]).when(awaitCustomer(at('10:00'))).then([awaiting(at('10:00'), false)]);
  });

  it('refuses a second pause while waiting (409 complaint-already-paused)', () => {
    spec.given([complaintFiled(), awaiting(at('10:00'))]).when(awaitCustomer(at('10:30'))).thenThrows('complaint-already-paused', { pausedSince: at('10:00') });
  });

  it('refuses to pause a resolved or a closed complaint (complaint-not-pausable)', () => {
    spec.given([complaintFiled(), resolved(at('10:00'))]).when(awaitCustomer(at('10:30'))).thenThrows('complaint-not-pausable', { status: 'resolved' });
    spec.given([complaintFiled(), resolved(at('10:00')), closed(at('10:10'))]).when(awaitCustomer(at('10:30'))).thenThrows('complaint-not-pausable', { status: 'closed' });
  });

  it('folds into a paused state with its start', () => {
    stateAfter([complaintFiled()], awaitCustomer(at('10:00')), now('10:00'), (s) => {
      expect({ paused: s.paused, pausedSince: s.pausedSince, pauseStopsClocks: s.pauseStopsClocks }).toEqual({ paused: true, pausedSince: at('10:00'), pauseStopsClocks: true });
    });
  });
});

describe('resume', () => {
  it('moves both running deadlines out by the time waited (90 minutes)', () => {
    spec
      .given([complaintFiled(), awaiting(at('10:00'))])
      .when(resume(at('11:30')))
      .then([resumed(at('10:00'), at('11:30'), 90, sla(at('14:30'), at('10:30', '2026-03-03')))]);
  });

  it('adds up several waits, and folds them into the paused minutes', () => {
    const first = resumed(at('10:00'), at('11:00'), 60, sla(at('14:00'), at('10:00', '2026-03-03')));
    spec
      .given([complaintFiled(), awaiting(at('10:00')), first, awaiting(at('12:00'))])
      .when(resume(at('12:15')))
      .then([resumed(at('12:00'), at('12:15'), 15, sla(at('14:15'), at('10:15', '2026-03-03')))]);
    stateAfter([complaintFiled(), awaiting(at('10:00')), first, awaiting(at('12:00'))], resume(at('12:15')), now('12:15'), (s) => {
      expect({ paused: s.paused, pausedSince: s.pausedSince, pausedMinutes: s.pausedMinutes, pauses: s.pauses }).toEqual({
        paused: false, pausedSince: null, pausedMinutes: 75,
        pauses: [{ from: at('10:00'), to: at('11:00') }, { from: at('12:00'), to: at('12:15') }],
      });
    });
  });

  it('keeps a deadline that stopped: after the first response only the resolution deadline moves', () => {
    spec
      .given([complaintFiled(), responded(at('09:30')), awaiting(at('10:00'))])
      .when(resume(at('11:00')))
      .then([resumed(at('10:00'), at('11:00'), 60, sla(P2_FIRST_RESPONSE_DUE, at('10:00', '2026-03-03')))]);
  });

  it('moves nothing when the policy kept the clocks running during the wait', () => {
    spec
      .given([complaintFiled(), awaiting(at('10:00'), false)])
      .when(resume(at('11:30')))
      .then([resumed(at('10:00'), at('11:30'), 0, P2_SLA)]);
  });

  it('refuses to resume a complaint that does not wait (409 complaint-not-paused), closed ones included', () => {
    spec.given([complaintFiled()]).when(resume(at('10:00'))).thenThrows('complaint-not-paused');
    spec.given([complaintFiled(), resolved(at('10:00')), closed(at('10:10'))]).when(resume(at('10:30'))).thenThrows('complaint-not-paused');
  });

  it('is resumed by an inbound contact at the contact time, naming the contact', () => {
    spec
      .given([complaintFiled(), awaiting(at('10:00'))])
      .when(resumeByContact(at('10:45')))
      .then([resumed(at('10:00'), at('10:45'), 45, sla(at('13:45'), at('09:45', '2026-03-03')), { reason: null, trigger: 'inbound-contact', contactId: 'contact-7' })]);
  });

  it('decides nothing for an inbound contact when it no longer waits, or for a contact from before the wait', () => {
    spec.given([complaintFiled()]).when(resumeByContact(at('10:45'))).thenNothing();
    spec.given([complaintFiled(), awaiting(at('10:00')), resumed(at('10:00'), at('10:30'), 30, sla(at('13:30'), at('09:30', '2026-03-03')))]).when(resumeByContact(at('10:45'))).thenNothing();
    spec.given([complaintFiled(), awaiting(at('10:00'))]).when(resumeByContact(at('09:59'))).thenNothing();
    spec.given([complaintFiled(), resolved(at('10:00')), closed(at('10:10'))]).when(resumeByContact(at('10:45'))).thenNothing();
  });

  it('resolving a waiting complaint ends the wait first, and the resolution restates the moved deadlines', () => {
    const moved = sla(at('14:00'), at('10:00', '2026-03-03'));
    spec
      .given([complaintFiled(), awaiting(at('10:00'))])
      .when({ type: 'ResolveComplaint', data: { complaintId: COMPLAINT_ID, resolution: 'refunded', occurredAt: at('11:00') } })
      .then([
        resumed(at('10:00'), at('11:00'), 60, moved, { reason: null, trigger: 'resolution' }),
        { type: 'ComplaintResolved', data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, resolvedAt: at('11:00'), resolution: 'refunded', atFirstContact: false, sla: moved } },
      ]);
  });
});

describe('the SLA clocks while waiting', () => {
  it('records no breach while the complaint waits, even long past the deadline', () => {
    spec.given([complaintFiled(), awaiting(at('10:00'))]).when(breach('first-response'), now('20:00')).thenNothing();
    spec.given([complaintFiled(), awaiting(at('10:00'))]).when(breach('resolution'), now('12:00', '2026-03-04')).thenNothing();
  });

  it('breaches at the moved deadline after the resume, not at the old one', () => {
    const given = [complaintFiled(), awaiting(at('10:00')), resumed(at('10:00'), at('12:00'), 120, sla(at('15:00'), at('11:00', '2026-03-03')))];
    spec.given(given).when(breach('first-response'), now('14:59')).thenNothing();
    spec.given(given).when(breach('first-response'), now('15:00')).then([breached('first-response', at('15:00'))]);
  });

  it('still breaches under a policy that keeps the clocks running while waiting', () => {
    spec.given([complaintFiled(), awaiting(at('10:00'), false)]).when(breach('first-response'), now('13:00')).then([breached('first-response', P2_FIRST_RESPONSE_DUE)]);
  });
});

describe('priority change', () => {
  const changed = (priority: 'P1' | 'P2' | 'P3' | 'P4', previousPriority: 'P1' | 'P2' | 'P3' | 'P4', changedAt: string, deadlines: SlaDeadlines): ComplaintPriorityChanged => ({
    type: 'ComplaintPriorityChanged',
    data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, priority, previousPriority, reason: 'customer is a hospital', changedAt, sla: deadlines, escalations: [] },
  });

  it('measures the new priority from filing: P2 → P1 at 09:30 is due 10:00 / 13:00', () => {
    spec.given([complaintFiled()]).when(changePriority('P1', at('09:30'))).then([changed('P1', 'P2', at('09:30'), sla(at('10:00'), at('13:00')))]);
  });

  it('subtracts the time waited: after a 30-minute wait, P2 → P1 is due 10:30 / 13:30', () => {
    const given = [complaintFiled(), awaiting(at('09:10')), resumed(at('09:10'), at('09:40'), 30, sla(at('13:30'), at('09:30', '2026-03-03')))];
    spec.given(given).when(changePriority('P1', at('09:50'))).then([changed('P1', 'P2', at('09:50'), sla(at('10:30'), at('13:30')))]);
  });

  it('changed while waiting: the current wait moves the new deadlines on resume', () => {
    const given = [complaintFiled(), awaiting(at('09:10')), changed('P1', 'P2', at('09:20'), sla(at('10:00'), at('13:00')))];
    spec.given(given).when(resume(at('09:40'))).then([resumed(at('09:10'), at('09:40'), 30, sla(at('10:30'), at('13:30')))]);
  });

  it('keeps a recorded breach: P2 breached at 13:00, then P4, keeps the missed deadline and breaches no second time', () => {
    const given = [complaintFiled(), breached('first-response', P2_FIRST_RESPONSE_DUE)];
    spec.given(given).when(changePriority('P4', at('14:00'))).then([changed('P4', 'P2', at('14:00'), sla(P2_FIRST_RESPONSE_DUE, at('09:00', '2026-03-09')))]);
    stateAfter(given, changePriority('P4', at('14:00')), now('14:00'), (s) => {
      expect(s.breaches).toEqual([{ kind: 'first-response', dueAt: P2_FIRST_RESPONSE_DUE }]);
      expect(s.priority).toBe('P4');
      expect(s.filingPriority).toBe('P2');
    });
    spec.given([...given, changed('P4', 'P2', at('14:00'), sla(P2_FIRST_RESPONSE_DUE, at('09:00', '2026-03-09')))]).when(breach('first-response'), now('12:00', '2026-03-05')).thenNothing();
  });

  it('a deadline already passed under the new priority breaches at that deadline', () => {
    const given = [complaintFiled(), changed('P1', 'P2', at('10:30'), sla(at('10:00'), at('13:00')))];
    spec.given(given).when(breach('first-response'), now('10:31')).then([breached('first-response', at('10:00'), 'P1')]);
  });

  it('keeps the deadline of a clock that stopped (answered)', () => {
    spec.given([complaintFiled(), responded(at('09:30'))]).when(changePriority('P1', at('09:45'))).then([changed('P1', 'P2', at('09:45'), sla(P2_FIRST_RESPONSE_DUE, at('13:00')))]);
  });

  it('refuses the priority it has (422 priority-unchanged) and a closed complaint (complaint-closed)', () => {
    spec.given([complaintFiled()]).when(changePriority('P2', at('09:30'))).thenThrows('priority-unchanged', { priority: 'P2' });
    spec.given([complaintFiled(), resolved(at('10:00')), closed(at('10:10'))]).when(changePriority('P1', at('10:30'))).thenThrows('complaint-closed');
  });
});

describe('escalation', () => {
  const policy: SlaPolicy = {
    ...DEFAULT_SLA_POLICY,
    escalations: [
      { name: 'resolution-75', kind: 'resolution', atPercent: 75, notify: 'supervisor' },
      { name: 'resolution-breach', kind: 'resolution', atPercent: 100, notify: 'owner' },
      { name: 'first-response-50', kind: 'first-response', atPercent: 50, notify: 'owner' },
    ],
  };
  const escalating = DeciderSpecification.for(makeComplaintDecider({ slaPolicy: policy }));
  // P2 filed 09:00: first response 240 min (50 % = 11:00), resolution 1440 min (75 % = 03:00 next day, 100 % = 09:00).
  const schedule: SlaEscalationDue[] = [
    { step: 'resolution-75', kind: 'resolution', atPercent: 75, notify: 'supervisor', dueAt: at('03:00', '2026-03-03') },
    { step: 'resolution-breach', kind: 'resolution', atPercent: 100, notify: 'owner', dueAt: P2_RESOLUTION_DUE },
    { step: 'first-response-50', kind: 'first-response', atPercent: 50, notify: 'owner', dueAt: at('11:00') },
  ];
  const filed = complaintFiled({ escalations: schedule });
  const escalated = (due: SlaEscalationDue, priority: 'P1' | 'P2' = 'P2'): ComplaintEscalated => ({
    type: 'ComplaintEscalated',
    data: {
      complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, step: due.step, kind: due.kind, atPercent: due.atPercent, notify: due.notify,
      dueAt: due.dueAt, escalatedAt: due.dueAt, ownerId: 'agent-ana', priority,
    },
  });
  const [res75, resBreach, fr50] = schedule as [SlaEscalationDue, SlaEscalationDue, SlaEscalationDue];

  it('files the schedule with the complaint', () => {
    escalating.given([]).when(fileComplaint()).then([filed]);
  });

  it('records a step once its time has come, exactly once', () => {
    escalating.given([filed]).when(escalate, now('10:59')).thenNothing();
    escalating.given([filed]).when(escalate, now('11:00')).then([escalated(fr50)]);
    escalating.given([filed, escalated(fr50)]).when(escalate, now('12:00')).thenNothing();
  });

  it('records every step due, earliest first (a watcher that was down catches up)', () => {
    escalating.given([filed]).when(escalate, now('09:00', '2026-03-03')).then([escalated(fr50), escalated(res75), escalated(resBreach)]);
  });

  it('skips steps of a clock that stopped, and everything while waiting', () => {
    escalating.given([filed, responded(at('10:00'))]).when(escalate, now('12:00')).thenNothing();
    escalating.given([filed, awaiting(at('10:00'))]).when(escalate, now('12:00')).thenNothing();
    escalating.given([filed, resolved(at('10:00')), closed(at('10:30'))]).when(escalate, now('12:00', '2026-03-03')).thenNothing();
  });

  it('moves the schedule with a wait', () => {
    escalating
      .given([filed, awaiting(at('10:00'))])
      .when(resume(at('10:30')))
      .thenState((state) => {
        if (!state.exists) throw new Error('complaint expected');
        expect(state.escalations.map((e) => e.dueAt)).toEqual([at('03:30', '2026-03-03'), at('09:30', '2026-03-03'), at('11:30')]);
      });
  });

  it('moves the schedule with a priority change (P2 → P1: first response 50 % at 09:30)', () => {
    escalating
      .given([filed])
      .when(changePriority('P1', at('09:10')))
      .thenState((state) => {
        if (!state.exists) throw new Error('complaint expected');
        expect(state.escalations.map((e) => [e.step, e.dueAt])).toEqual([['resolution-75', at('12:00')], ['resolution-breach', at('13:00')], ['first-response-50', at('09:30')]]);
      });
  });

  it('a reopen starts the resolution steps anew', () => {
    const reopenedAt = at('10:00', '2026-03-03');
    escalating
      .given([filed, escalated(res75), responded(at('10:00')), resolved(at('04:00', '2026-03-03'))])
      .when({ type: 'ReopenComplaint', data: { complaintId: COMPLAINT_ID, reason: 'broken again', occurredAt: reopenedAt } })
      .thenState((state) => {
        if (!state.exists) throw new Error('complaint expected');
        expect(state.escalated).toEqual([]);
        expect(state.escalations.find((e) => e.step === 'resolution-75')?.dueAt).toBe(at('04:00', '2026-03-04'));
      });
  });
});

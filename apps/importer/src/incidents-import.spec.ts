import { describe, expect, it } from '@jest/globals';
import {
  assigneeOwnerId, callerCustomerId, INCIDENT_COLUMNS, incidentComplaintId, mapChannel, mapPriority, planIncident, stepCausationId,
  stepCommand, type IncidentPlan, type IncidentRow,
} from './incidents-import';

type Column = (typeof INCIDENT_COLUMNS)[number];

/** Rows of one incident: the columns every row repeats, and what changes from row to row. */
function incident(common: Partial<Record<Column, string>>, changes: Array<Partial<Record<Column, string>>>): IncidentRow[] {
  return changes.map((change, i) => {
    const values: Record<string, string> = {
      number: 'INC0000473', caller_id: 'Caller 3136', opened_at: '1/3/2016 01:49', contact_type: 'Phone', category: 'Category 37',
      subcategory: 'Subcategory 174', u_symptom: 'Symptom 491', priority: '3 - Moderate', assigned_to: '?', resolved_at: '?',
      closed_at: '?', made_sla: 'true', incident_state: 'New', sys_updated_at: '1/3/2016 02:03', ...common, ...change,
    };
    const fields = INCIDENT_COLUMNS.map((c) => values[c] ?? '');
    return { row: i + 1, fields, get: (c: Column) => values[c] ?? '' };
  });
}

describe('incident mapping', () => {
  it('maps ids, priorities and contact types', () => {
    expect(callerCustomerId('Caller 2403')).toBe('sn-caller-2403');
    expect(incidentComplaintId('INC0000045')).toBe('sn-INC0000045');
    expect(assigneeOwnerId('Resolver 74')).toBe('sn-resolver-74');
    expect(['1 - Critical', '2 - High', '3 - Moderate', '4 - Low', '5 - Planning'].map(mapPriority)).toEqual(['P1', 'P2', 'P3', 'P4', null]);
    expect(['Phone', 'Email', 'Self service', 'Direct opening', 'IVR', 'Fax'].map((c) => mapChannel(c).channel))
      .toEqual(['phone', 'email', 'self-service', 'visit', 'phone', 'phone']);
    expect(mapChannel('Fax').defaulted).toBe(true);
  });
});

describe('planIncident', () => {
  // INC0000473 of the sample, as it is in the file.
  const rows = incident(
    { resolved_at: '22/3/2016 15:14', closed_at: '27/3/2016 15:59', assigned_to: 'Resolver 74' },
    [
      { incident_state: 'New', sys_updated_at: '1/3/2016 02:03' },
      { incident_state: 'Active', sys_updated_at: '15/3/2016 12:44' },
      { incident_state: 'Resolved', sys_updated_at: '22/3/2016 15:14' },
      { incident_state: 'Closed', sys_updated_at: '27/3/2016 15:59', made_sla: 'false' },
    ],
  );

  it('files at opened_at with the first row priority, then owner, response, resolution and close in time order', () => {
    const plan = planIncident(rows);
    if ('skip' in plan) throw new Error(plan.skip);
    expect(plan).toMatchObject({
      complaintId: 'sn-INC0000473', caller: { sourceId: 'Caller 3136', customerId: 'sn-caller-3136' }, filedAt: '2016-03-01T01:49:00.000Z',
      priority: 'P3', channel: 'phone', category: 'Category 37', lastEventAt: '2016-03-27T15:59:00.000Z', madeSla: false, clamped: 0,
      description: 'ServiceNow incident INC0000473: Category 37 / Subcategory 174 / Symptom 491',
    });
    expect(plan.steps.map((s) => [s.kind, s.at, s.row.row])).toEqual([
      ['owner', '2016-03-01T01:49:00.000Z', 1],
      ['respond', '2016-03-15T12:44:00.000Z', 2],
      ['resolve', '2016-03-22T15:14:00.000Z', 3],
      ['close', '2016-03-27T15:59:00.000Z', 4],
    ]);
    expect(plan.steps[0]?.ownerId).toBe('sn-resolver-74');
  });

  it('takes the first row in a later state than New as the response, even when it is Resolved', () => {
    const plan = planIncident(incident({ opened_at: '29/2/2016 01:16', resolved_at: '29/2/2016 11:29' }, [
      { incident_state: 'New', sys_updated_at: '29/2/2016 01:23' },
      { incident_state: '-100', sys_updated_at: '29/2/2016 02:00' },
      { incident_state: 'Resolved', sys_updated_at: '29/2/2016 08:53' },
    ]));
    if ('skip' in plan) throw new Error(plan.skip);
    expect(plan.steps.map((s) => [s.kind, s.at])).toEqual([
      ['respond', '2016-02-29T08:53:00.000Z'],
      ['resolve', '2016-02-29T11:29:00.000Z'],
    ]);
  });

  it('moves a step that the log dates before the step it follows, and counts it', () => {
    const plan = planIncident(incident({ opened_at: '1/3/2016 10:00', resolved_at: '1/3/2016 09:00' }, [
      { incident_state: 'Active', sys_updated_at: '1/3/2016 09:30' },
    ]));
    if ('skip' in plan) throw new Error(plan.skip);
    expect(plan.steps.map((s) => [s.kind, s.at])).toEqual([
      ['respond', '2016-03-01T10:00:00.000Z'],
      ['resolve', '2016-03-01T10:00:00.000Z'],
    ]);
    expect(plan.clamped).toBe(2);
  });

  it('plans no close when the incident never reached Closed, and decides breaches at its last event', () => {
    const plan = planIncident(incident({ closed_at: '5/3/2016 12:00' }, [
      { incident_state: 'New', sys_updated_at: '1/3/2016 02:03' },
      { incident_state: 'Awaiting User Info', sys_updated_at: '2/3/2016 09:00' },
      { incident_state: 'Awaiting User Info', sys_updated_at: '4/3/2016 09:00' },
    ]));
    if ('skip' in plan) throw new Error(plan.skip);
    expect(plan.steps.map((s) => s.kind)).toEqual(['respond', 'pause']);
    expect(plan.lastEventAt).toBe('2016-03-04T09:00:00.000Z');
  });

  it.each([
    ['no caller', { caller_id: '?' }, 'no-caller'],
    ['no opening time', { opened_at: '?' }, 'no-opened-at'],
    ['an unknown priority', { priority: '?' }, 'unknown-priority'],
  ])('skips an incident with %s', (_what, common, reason) => {
    expect(planIncident(incident(common, [{}]))).toEqual({ skip: reason });
  });
});

/** Given the rows of one incident, when it is planned: its steps as `[kind, at, detail]`, detail the new value. */
function planned(common: Partial<Record<Column, string>>, changes: Array<Partial<Record<Column, string>>>): IncidentPlan {
  const plan = planIncident(incident(common, changes));
  if ('skip' in plan) throw new Error(plan.skip);
  return plan;
}
const steps = (plan: IncidentPlan): Array<[string, string, string?]> =>
  plan.steps.map((s) => {
    const detail = s.priority ?? s.ownerId ?? s.state;
    return detail === undefined ? [s.kind, s.at.slice(5, 16)] : [s.kind, s.at.slice(5, 16), detail];
  });

describe('planIncident: the steps of the log beyond filing', () => {
  it('files at the first row priority, then changes priority where a later row has another one', () => {
    const plan = planned({}, [
      { priority: '3 - Moderate', sys_updated_at: '1/3/2016 02:03' },
      { priority: '2 - High', sys_updated_at: '1/3/2016 05:00' },
      { priority: '2 - High', sys_updated_at: '1/3/2016 06:00' },
      { priority: '1 - Critical', sys_updated_at: '2/3/2016 07:30' },
    ]);
    expect(plan.priority).toBe('P3');
    expect(steps(plan)).toEqual([['priority', '03-01T05:00', 'P2'], ['priority', '03-02T07:30', 'P1']]);
  });

  it('reassigns where the assignee changes; an assignee going back to ? is counted, not imported', () => {
    const plan = planned({}, [
      { assigned_to: 'Resolver 74', sys_updated_at: '1/3/2016 02:03' },
      { assigned_to: '?', sys_updated_at: '1/3/2016 03:00' },
      { assigned_to: 'Resolver 74', sys_updated_at: '1/3/2016 04:00' },
      { assigned_to: 'Resolver 9', sys_updated_at: '1/3/2016 05:00' },
    ]);
    expect(steps(plan)).toEqual([['owner', '03-01T01:49', 'sn-resolver-74'], ['owner', '03-01T05:00', 'sn-resolver-9']]);
    expect(plan.unassignments).toBe(1);
    expect(plan.steps.map((s) => s.ordinal)).toEqual([1, 2]);
  });

  it('pauses on entering an Awaiting state and resumes on leaving it; one pause across Awaiting states in a row', () => {
    const plan = planned({ resolved_at: '6/3/2016 10:00', closed_at: '8/3/2016 10:00' }, [
      { incident_state: 'New', sys_updated_at: '1/3/2016 02:03' },
      { incident_state: 'Awaiting User Info', sys_updated_at: '2/3/2016 09:00' },
      { incident_state: 'Awaiting Vendor', sys_updated_at: '3/3/2016 09:00' },
      { incident_state: 'Active', sys_updated_at: '4/3/2016 09:00' },
      { incident_state: 'Awaiting User Info', sys_updated_at: '5/3/2016 09:00' },
      { incident_state: 'Resolved', sys_updated_at: '6/3/2016 09:55' },
      { incident_state: 'Closed', sys_updated_at: '8/3/2016 10:00' },
    ]);
    expect(steps(plan)).toEqual([
      ['respond', '03-02T09:00'],
      ['pause', '03-02T09:00', 'Awaiting User Info'],
      ['resume', '03-04T09:00'],
      ['pause', '03-05T09:00', 'Awaiting User Info'],
      ['resume', '03-06T09:55'],
      ['resolve', '03-06T10:00'],
      ['close', '03-08T10:00'],
    ]);
  });

  it('reopens when a Resolved run is followed by anything but Closed: resolved at the run start, reopened at the next row', () => {
    const plan = planned({ resolved_at: '17/3/2016 12:28', closed_at: '24/3/2016 18:59' }, [
      { incident_state: 'Active', sys_updated_at: '7/3/2016 23:06' },
      { incident_state: 'Resolved', sys_updated_at: '10/3/2016 16:43' },
      { incident_state: 'Resolved', sys_updated_at: '10/3/2016 16:50' },
      { incident_state: 'Active', sys_updated_at: '10/3/2016 17:25' },
      { incident_state: 'Resolved', sys_updated_at: '17/3/2016 11:09' },
      { incident_state: 'Closed', sys_updated_at: '24/3/2016 18:59' },
    ]);
    expect(steps(plan)).toEqual([
      ['respond', '03-07T23:06'],
      ['resolve', '03-10T16:43'],
      ['reopen', '03-10T17:25'],
      ['resolve', '03-17T12:28'],
      ['close', '03-24T18:59'],
    ]);
    expect(plan.steps.map((s) => stepCausationId(plan, s))).toEqual([
      'servicenow:INC0000473:respond', 'servicenow:INC0000473:resolve', 'servicenow:INC0000473:reopen',
      'servicenow:INC0000473:resolve:2', 'servicenow:INC0000473:close',
    ]);
  });

  it('does not invent a resolution for a Resolved state without resolved_at; the close is still planned (the domain refuses it)', () => {
    const plan = planned({ closed_at: '9/3/2016 10:00' }, [
      { incident_state: 'Active', sys_updated_at: '2/3/2016 09:00' },
      { incident_state: 'Resolved', sys_updated_at: '3/3/2016 09:00' },
      { incident_state: 'Closed', sys_updated_at: '9/3/2016 10:00' },
    ]);
    expect(steps(plan)).toEqual([['respond', '03-02T09:00'], ['close', '03-09T10:00']]);
    expect(plan.resolvedRowsWithoutResolvedAt).toBe(1);
  });

  it('keeps each chain in time: a resume the log dates before its pause moves to the pause, and is counted', () => {
    const plan = planned({}, [
      { incident_state: 'Awaiting User Info', sys_updated_at: '2/3/2016 09:00' },
      { incident_state: 'Active', sys_updated_at: '2/3/2016 08:00' },
    ]);
    expect(steps(plan)).toEqual([['respond', '03-02T09:00'], ['pause', '03-02T09:00', 'Awaiting User Info'], ['resume', '03-02T09:00']]);
    expect(plan.clamped).toBe(1);
  });

  it('sends every step as the API command: reassignment, reopen, priority change, wait for the customer and resume', () => {
    const plan = planned({ resolved_at: '5/3/2016 10:00' }, [
      { incident_state: 'Active', assigned_to: 'Resolver 1', sys_updated_at: '2/3/2016 09:00' },
      { incident_state: 'Resolved', assigned_to: 'Resolver 2', sys_updated_at: '3/3/2016 09:00' },
      { incident_state: 'Awaiting User Info', priority: '2 - High', sys_updated_at: '4/3/2016 09:00' },
      { incident_state: 'Active', priority: '2 - High', sys_updated_at: '4/3/2016 12:00' },
    ]);
    expect(plan.steps.map((s) => stepCommand(plan, s))).toEqual([
      { type: 'ChangeComplaintOwner', data: { complaintId: 'sn-INC0000473', ownerId: 'sn-resolver-1', reason: 'assignment in ServiceNow' } },
      { type: 'RespondToComplaint', data: { complaintId: 'sn-INC0000473', message: 'ServiceNow: Active', responderId: 'servicenow', occurredAt: '2016-03-02T09:00:00.000Z' } },
      { type: 'ChangeComplaintOwner', data: { complaintId: 'sn-INC0000473', ownerId: 'sn-resolver-2', reason: 'reassignment in ServiceNow' } },
      { type: 'ResolveComplaint', data: { complaintId: 'sn-INC0000473', resolution: 'Resolved in ServiceNow', occurredAt: '2016-03-03T09:00:00.000Z' } },
      { type: 'ChangeComplaintPriority', data: { complaintId: 'sn-INC0000473', priority: 'P2', reason: 'priority changed in ServiceNow', occurredAt: '2016-03-04T09:00:00.000Z' } },
      { type: 'ReopenComplaint', data: { complaintId: 'sn-INC0000473', reason: 'reopened in ServiceNow', occurredAt: '2016-03-04T09:00:00.000Z' } },
      { type: 'AwaitCustomer', data: { complaintId: 'sn-INC0000473', reason: 'ServiceNow: Awaiting User Info', occurredAt: '2016-03-04T09:00:00.000Z' } },
      { type: 'ResumeComplaint', data: { complaintId: 'sn-INC0000473', reason: 'ServiceNow: Active', occurredAt: '2016-03-04T12:00:00.000Z', trigger: 'agent' } },
      { type: 'ResolveComplaint', data: { complaintId: 'sn-INC0000473', resolution: 'Resolved in ServiceNow', occurredAt: '2016-03-05T10:00:00.000Z' } },
    ]);
  });
});

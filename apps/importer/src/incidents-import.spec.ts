import { describe, expect, it } from '@jest/globals';
import {
  assigneeOwnerId, callerCustomerId, INCIDENT_COLUMNS, incidentComplaintId, mapChannel, mapPriority, planIncident, type IncidentRow,
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
    expect(plan.steps.map((s) => s.kind)).toEqual(['respond']);
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

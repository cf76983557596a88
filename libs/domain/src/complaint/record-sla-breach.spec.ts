import { describe, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import {
  COMPLAINT_ID,
  CUSTOMER_ID,
  FILED_AT,
  P2_FIRST_RESPONSE_DUE,
  P2_RESOLUTION_DUE,
  closed,
  complaintFiled,
  ownerChanged,
  reopened,
  responded,
  resolved,
} from '../../test-support/complaint-fixtures';
import type { ComplaintCommand } from './complaint-commands';
import type { SlaBreached, SlaKind } from './complaint-events';
import { makeComplaintDecider } from './complaint-decider';
import { DEFAULT_SLA_POLICY } from './sla-policy';

const spec = DeciderSpecification.for(makeComplaintDecider({ slaPolicy: DEFAULT_SLA_POLICY }));

const breach = (kind: SlaKind): ComplaintCommand => ({ type: 'RecordSlaBreach', data: { complaintId: COMPLAINT_ID, kind } });
const breached = (kind: SlaKind, dueAt: string, overrides: Partial<SlaBreached['data']> = {}): SlaBreached => ({
  type: 'SlaBreached',
  data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, kind, dueAt, breachedAt: dueAt, ownerId: 'agent-ana', priority: 'P2', ...overrides },
});

const after = (iso: string, minutes: number): Date => new Date(new Date(iso).getTime() + minutes * 60_000);

describe('RecordSlaBreach: first response', () => {
  it('records the breach at the deadline once it has passed without a response', () => {
    spec.given([complaintFiled()]).when(breach('first-response'), after(P2_FIRST_RESPONSE_DUE, 5)).then([breached('first-response', P2_FIRST_RESPONSE_DUE)]);
  });

  it('counts the deadline as passed from its very instant', () => {
    spec.given([complaintFiled()]).when(breach('first-response'), new Date(P2_FIRST_RESPONSE_DUE)).then([breached('first-response', P2_FIRST_RESPONSE_DUE)]);
  });

  it('records nothing before the deadline', () => {
    spec.given([complaintFiled()]).when(breach('first-response'), after(P2_FIRST_RESPONSE_DUE, -1)).thenNothing();
  });

  it('records nothing when a response was given (the watcher raced it)', () => {
    spec.given([complaintFiled(), responded('2026-03-02T12:00:00.000Z')]).when(breach('first-response'), after(P2_FIRST_RESPONSE_DUE, 5)).thenNothing();
  });

  it('records nothing when it was already breached', () => {
    spec
      .given([complaintFiled(), breached('first-response', P2_FIRST_RESPONSE_DUE)])
      .when(breach('first-response'), after(P2_FIRST_RESPONSE_DUE, 60))
      .thenNothing();
  });

  it('records nothing when the complaint was resolved without a response', () => {
    spec.given([complaintFiled(), resolved('2026-03-02T12:00:00.000Z')]).when(breach('first-response'), after(P2_FIRST_RESPONSE_DUE, 5)).thenNothing();
  });

  it("names the complaint's current owner and priority", () => {
    spec
      .given([complaintFiled({ priority: 'P2' }), ownerChanged('agent-bob', 'agent-ana')])
      .when(breach('first-response'), after(P2_FIRST_RESPONSE_DUE, 5))
      .then([breached('first-response', P2_FIRST_RESPONSE_DUE, { ownerId: 'agent-bob' })]);
  });

  it('names no owner when the complaint has none', () => {
    spec
      .given([complaintFiled({ ownerId: null })])
      .when(breach('first-response'), after(P2_FIRST_RESPONSE_DUE, 5))
      .then([breached('first-response', P2_FIRST_RESPONSE_DUE, { ownerId: null })]);
  });
});

describe('RecordSlaBreach: resolution', () => {
  it('records the breach when the deadline passed unresolved, even after a response', () => {
    spec
      .given([complaintFiled(), responded('2026-03-02T10:00:00.000Z')])
      .when(breach('resolution'), after(P2_RESOLUTION_DUE, 1))
      .then([breached('resolution', P2_RESOLUTION_DUE)]);
  });

  it('records nothing before the deadline', () => {
    spec.given([complaintFiled()]).when(breach('resolution'), after(P2_RESOLUTION_DUE, -1)).thenNothing();
  });

  it('records nothing when resolved', () => {
    spec.given([complaintFiled(), resolved('2026-03-02T20:00:00.000Z')]).when(breach('resolution'), after(P2_RESOLUTION_DUE, 1)).thenNothing();
  });

  it('records nothing when closed', () => {
    spec
      .given([complaintFiled(), resolved('2026-03-02T20:00:00.000Z'), closed('2026-03-02T21:00:00.000Z')])
      .when(breach('resolution'), after(P2_RESOLUTION_DUE, 1))
      .thenNothing();
  });

  it('records nothing when it was already breached', () => {
    spec.given([complaintFiled(), breached('resolution', P2_RESOLUTION_DUE)]).when(breach('resolution'), after(P2_RESOLUTION_DUE, 90)).thenNothing();
  });

  describe('after a reopen', () => {
    const reopenedAt = '2026-03-04T08:00:00.000Z';
    const newDue = '2026-03-05T08:00:00.000Z';
    const history = [
      complaintFiled(),
      responded('2026-03-02T10:00:00.000Z'),
      breached('resolution', P2_RESOLUTION_DUE),
      resolved('2026-03-03T12:00:00.000Z'),
      reopened(reopenedAt, newDue),
    ];

    it('the new resolution deadline may breach again', () => {
      spec.given(history).when(breach('resolution'), after(newDue, 1)).then([breached('resolution', newDue)]);
    });

    it('but not before it has passed', () => {
      spec.given(history).when(breach('resolution'), after(newDue, -1)).thenNothing();
    });

    it('and not twice', () => {
      spec.given([...history, breached('resolution', newDue)]).when(breach('resolution'), after(newDue, 10)).thenNothing();
    });
  });
});

describe('a complaint resolved at first contact has no SLA clock running', () => {
  const resolvedAtFirstContact = [complaintFiled(), resolved(FILED_AT, true)];

  it.each(['first-response', 'resolution'] as const)('%s is never breached', (kind) => {
    spec.given(resolvedAtFirstContact).when(breach(kind), new Date('2026-04-01T00:00:00.000Z')).thenNothing();
  });
});

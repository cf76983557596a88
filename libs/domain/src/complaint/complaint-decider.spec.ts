import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import {
  COMPLAINT_ID,
  CUSTOMER_ID,
  FILED_AT,
  closed,
  complaintFiled,
  fileComplaint,
  ownerChanged,
  reopened,
  responded,
  resolved,
  P2_SLA,
} from '../../test-support/complaint-fixtures';
import type { Priority } from '../shared/types';
import type { ComplaintCommand } from './complaint-commands';
import type { ComplaintEvent } from './complaint-events';
import type { ComplaintStatus } from './complaint-state';
import { makeComplaintDecider } from './complaint-decider';
import { DEFAULT_SLA_POLICY } from './sla-policy';

const spec = DeciderSpecification.for(makeComplaintDecider({ slaPolicy: DEFAULT_SLA_POLICY }));
const LATER = '2026-03-02T11:00:00.000Z';
const EVEN_LATER = '2026-03-02T15:00:00.000Z';

const respond: ComplaintCommand = {
  type: 'RespondToComplaint',
  data: { complaintId: COMPLAINT_ID, message: 'we are on it', responderId: 'agent-bob', occurredAt: LATER },
};
const resolve: ComplaintCommand = {
  type: 'ResolveComplaint',
  data: { complaintId: COMPLAINT_ID, resolution: 'refund issued', occurredAt: EVEN_LATER },
};
const reopen: ComplaintCommand = {
  type: 'ReopenComplaint',
  data: { complaintId: COMPLAINT_ID, reason: 'refund never arrived', occurredAt: '2026-03-04T08:00:00.000Z' },
};
const close: ComplaintCommand = { type: 'CloseComplaint', data: { complaintId: COMPLAINT_ID, occurredAt: '2026-03-05T08:00:00.000Z' } };
const changeOwner: ComplaintCommand = {
  type: 'ChangeComplaintOwner',
  data: { complaintId: COMPLAINT_ID, ownerId: 'agent-bob', reason: 'escalated to team lead' },
};

describe('FileComplaint', () => {
  it('files with SLA deadlines from the policy, owned by the owner the application found', () => {
    spec.given([]).when(fileComplaint()).then([complaintFiled()]);
  });

  it.each([
    ['P1', '2026-03-02T10:00:00.000Z', '2026-03-02T13:00:00.000Z'],
    ['P2', '2026-03-02T13:00:00.000Z', '2026-03-03T09:00:00.000Z'],
    ['P3', '2026-03-02T17:00:00.000Z', '2026-03-05T09:00:00.000Z'],
    ['P4', '2026-03-03T09:00:00.000Z', '2026-03-09T09:00:00.000Z'],
  ] satisfies [Priority, string, string][])('%s gets its own targets', (priority, firstResponseDueAt, resolutionDueAt) => {
    spec
      .given([])
      .when(fileComplaint({ priority }))
      .then([complaintFiled({ priority, sla: { policyVersion: 'sla-2026-01', firstResponseDueAt, resolutionDueAt } })]);
  });

  it('computes deadlines from a past occurredAt, not from the clock (imported history)', () => {
    spec
      .given([])
      .when(fileComplaint({ priority: 'P1', occurredAt: '2025-11-20T14:15:00+01:00' }), new Date('2026-03-02T09:00:00.000Z'))
      .then([
        complaintFiled({
          priority: 'P1',
          filedAt: '2025-11-20T13:15:00.000Z',
          sla: { policyVersion: 'sla-2026-01', firstResponseDueAt: '2025-11-20T14:15:00.000Z', resolutionDueAt: '2025-11-20T17:15:00.000Z' },
        }),
      ]);
  });

  it('has no owner when the customer has none', () => {
    spec.given([]).when(fileComplaint({ ownerId: null })).then([complaintFiled({ ownerId: null })]);
  });

  it('stores the version of a configured policy', () => {
    const policy = { ...DEFAULT_SLA_POLICY, version: 'sla-2026-07', targets: { ...DEFAULT_SLA_POLICY.targets, P2: { firstResponseMinutes: 30, resolutionMinutes: 120 } } };
    DeciderSpecification.for(makeComplaintDecider({ slaPolicy: policy }))
      .given([])
      .when(fileComplaint())
      .then([
        complaintFiled({ sla: { policyVersion: 'sla-2026-07', firstResponseDueAt: '2026-03-02T09:30:00.000Z', resolutionDueAt: '2026-03-02T11:00:00.000Z' } }),
      ]);
  });

  it('resolved at first contact: filed and resolved in one decision', () => {
    spec
      .given([])
      .when(fileComplaint({ resolvedAtFirstContact: true }))
      .then([
        complaintFiled(),
        {
          type: 'ComplaintResolved',
          data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, resolvedAt: FILED_AT, resolution: 'Resolved at first contact', atFirstContact: true, sla: P2_SLA },
        },
      ]);
  });

  it('resolved at first contact keeps a resolution text when given', () => {
    spec
      .given([])
      .when(fileComplaint({ resolvedAtFirstContact: true, resolution: 'voucher given on the phone' }))
      .thenState((state, events) => {
        expect(events[1]).toMatchObject({ type: 'ComplaintResolved', data: { resolution: 'voucher given on the phone', atFirstContact: true } });
        expect(state).toMatchObject({ status: 'resolved', resolvedAtFirstContact: true, firstResponseMetAt: FILED_AT });
      });
  });

  it('refuses an id that is already filed', () => {
    spec.given([complaintFiled()]).when(fileComplaint()).thenThrows('complaint-already-exists', { complaintId: COMPLAINT_ID });
  });
});

describe('any other command on a complaint that was not filed', () => {
  const commands: ComplaintCommand[] = [
    respond,
    resolve,
    reopen,
    close,
    changeOwner,
    { type: 'RecordSlaBreach', data: { complaintId: COMPLAINT_ID, kind: 'first-response' } },
  ];
  it.each(commands.map((command) => [command.type, command] as const))('%s is refused as complaint-not-found', (_type, command) => {
    spec.given([]).when(command).thenThrows('complaint-not-found', { complaintId: COMPLAINT_ID });
  });
});

describe('RespondToComplaint', () => {
  it('records the response; the complaint is now responded', () => {
    spec
      .given([complaintFiled()])
      .when(respond)
      .thenState((state, events) => {
        expect(events).toEqual([
          {
            type: 'ComplaintResponded',
            data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, respondedAt: LATER, message: 'we are on it', responderId: 'agent-bob', sla: P2_SLA },
          },
        ]);
        expect(state).toMatchObject({ status: 'responded', firstRespondedAt: LATER, responseCount: 1 });
      });
  });

  it('allows more responses, keeping the first response time', () => {
    spec
      .given([complaintFiled(), responded('2026-03-02T10:00:00.000Z')])
      .when(respond)
      .thenState((state) => {
        expect(state).toMatchObject({ status: 'responded', firstRespondedAt: '2026-03-02T10:00:00.000Z', responseCount: 2 });
      });
  });

  it('allows a response to a resolved complaint, which stays resolved', () => {
    spec
      .given([complaintFiled(), resolved(LATER)])
      .when(respond)
      .thenState((state) => {
        expect(state).toMatchObject({ status: 'resolved' });
      });
  });
});

describe('ResolveComplaint', () => {
  it('resolves a responded complaint', () => {
    spec
      .given([complaintFiled(), responded(LATER)])
      .when(resolve)
      .then([
        {
          type: 'ComplaintResolved',
          data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, resolvedAt: EVEN_LATER, resolution: 'refund issued', atFirstContact: false, sla: P2_SLA },
        },
      ]);
  });

  it('resolves without a response first', () => {
    spec
      .given([complaintFiled()])
      .when(resolve)
      .thenState((state) => expect(state).toMatchObject({ status: 'resolved', resolvedAt: EVEN_LATER, firstResponseMetAt: EVEN_LATER }));
  });

  it('refuses a resolved complaint', () => {
    spec.given([complaintFiled(), resolved(LATER)]).when(resolve).thenThrows('complaint-already-resolved');
  });

  it('resolves a reopened complaint again', () => {
    spec
      .given([complaintFiled(), resolved(LATER), reopened('2026-03-03T08:00:00.000Z', '2026-03-04T08:00:00.000Z')])
      .when(resolve)
      .thenState((state) => expect(state).toMatchObject({ status: 'resolved' }));
  });
});

describe('ReopenComplaint', () => {
  it("sets a new resolution deadline: the priority's target from the reopen time", () => {
    spec
      .given([complaintFiled(), responded(LATER), resolved(EVEN_LATER)])
      .when(reopen)
      .then([
        {
          type: 'ComplaintReopened',
          data: {
            complaintId: COMPLAINT_ID,
            customerId: CUSTOMER_ID,
            reopenedAt: '2026-03-04T08:00:00.000Z',
            reason: 'refund never arrived',
            resolutionDueAt: '2026-03-05T08:00:00.000Z',
          },
        },
      ]);
  });

  it('is responded again after a reopen when it had a response, with the new deadline in state', () => {
    spec
      .given([complaintFiled(), responded(LATER), resolved(EVEN_LATER)])
      .when(reopen)
      .thenState((state) =>
        expect(state).toMatchObject({ status: 'responded', resolvedAt: null, reopenCount: 1, sla: { resolutionDueAt: '2026-03-05T08:00:00.000Z' } }),
      );
  });

  it('is open again after a reopen when it never had a response', () => {
    spec
      .given([complaintFiled(), resolved(FILED_AT, true)])
      .when(reopen)
      .thenState((state) => expect(state).toMatchObject({ status: 'open' }));
  });

  it.each([
    ['open', [complaintFiled()]],
    ['responded', [complaintFiled(), responded(LATER)]],
  ] satisfies [ComplaintStatus, ComplaintEvent[]][])('refuses a complaint that is %s', (status, given) => {
    spec.given(given).when(reopen).thenThrows('complaint-not-reopenable', { status });
  });
});

describe('CloseComplaint', () => {
  it('closes a resolved complaint', () => {
    spec
      .given([complaintFiled(), resolved(LATER)])
      .when(close)
      .then([{ type: 'ComplaintClosed', data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, closedAt: '2026-03-05T08:00:00.000Z' } }]);
  });

  it.each([
    ['open', [complaintFiled()]],
    ['responded', [complaintFiled(), responded(LATER)]],
    ['responded', [complaintFiled(), responded(LATER), resolved(EVEN_LATER), reopened('2026-03-03T08:00:00.000Z', '2026-03-04T08:00:00.000Z')]],
  ] satisfies [ComplaintStatus, ComplaintEvent[]][])('refuses a complaint that is %s', (status, given) => {
    spec.given(given).when(close).thenThrows('complaint-not-resolved', { status });
  });
});

describe('ChangeComplaintOwner', () => {
  it('changes the owner with a reason, saying who it was', () => {
    spec
      .given([complaintFiled()])
      .when(changeOwner)
      .then([
        {
          type: 'ComplaintOwnerChanged',
          data: { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, ownerId: 'agent-bob', previousOwnerId: 'agent-ana', reason: 'escalated to team lead' },
        },
      ]);
  });

  it('gives an owner to a complaint that had none', () => {
    spec
      .given([complaintFiled({ ownerId: null })])
      .when(changeOwner)
      .thenState((state, events) => {
        expect(events[0]).toMatchObject({ data: { previousOwnerId: null } });
        expect(state).toMatchObject({ ownerId: 'agent-bob' });
      });
  });

  it('refuses the owner it already has', () => {
    spec.given([complaintFiled(), ownerChanged('agent-bob', 'agent-ana')]).when(changeOwner).thenThrows('owner-unchanged', { ownerId: 'agent-bob' });
  });
});

describe('a closed complaint', () => {
  const closedComplaint = [complaintFiled(), responded(LATER), resolved(EVEN_LATER), closed('2026-03-03T08:00:00.000Z')];

  it('has status closed', () => {
    spec
      .given(closedComplaint)
      .when({ type: 'RecordSlaBreach', data: { complaintId: COMPLAINT_ID, kind: 'resolution' } })
      .thenState((state) => expect(state).toMatchObject({ status: 'closed', closedAt: '2026-03-03T08:00:00.000Z' }));
  });

  it.each([respond, resolve, reopen, close, changeOwner].map((command) => [command.type, command] as const))(
    'refuses %s',
    (_type, command) => {
      spec.given(closedComplaint).when(command).thenThrows('complaint-closed', { complaintId: COMPLAINT_ID });
    },
  );
});

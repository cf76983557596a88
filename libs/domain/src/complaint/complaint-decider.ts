import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import { parseInstant } from '../shared/instant';
import type {
  ChangeComplaintOwner,
  ComplaintCommand,
  FileComplaint,
  RecordSlaBreach,
  ReopenComplaint,
  ResolveComplaint,
  RespondToComplaint,
} from './complaint-commands';
import type { ComplaintEvent } from './complaint-events';
import { evolveComplaint, initialComplaintState } from './complaint-state';
import type { ComplaintState, FiledComplaintState } from './complaint-state';
import { computeReopenedResolutionDueAt, computeSlaDeadlines, fixedSlaPolicyBook } from './sla-policy';
import type { SlaPolicy, SlaPolicyBook } from './sla-policy';

export type ComplaintDecider = Decider<ComplaintCommand, ComplaintState, ComplaintEvent>;

/** Resolution text of a complaint resolved at first contact when the command gives none. */
export const RESOLVED_AT_FIRST_CONTACT = 'Resolved at first contact';

/** `slaPolicy`: one fixed policy; `slaPolicies`: the versioned policies (current for new complaints). */
export function makeComplaintDecider(options: { slaPolicy: SlaPolicy } | { slaPolicies: SlaPolicyBook }): ComplaintDecider {
  const policies = 'slaPolicies' in options ? options.slaPolicies : fixedSlaPolicyBook(options.slaPolicy);

  function decide(command: ComplaintCommand, state: ComplaintState, now: Date): ComplaintEvent[] {
    if (command.type === 'FileComplaint') return file(command, state);
    if (!state.exists) {
      throw new DomainError('complaint-not-found', `complaint ${command.data.complaintId} does not exist`, {
        complaintId: command.data.complaintId,
      });
    }
    // The watcher may race a close: a closed complaint simply has nothing left to breach.
    if (command.type === 'RecordSlaBreach') return recordSlaBreach(command, state, now);
    if (state.status === 'closed') {
      throw new DomainError('complaint-closed', `complaint ${state.complaintId} is closed`, {
        complaintId: state.complaintId,
      });
    }
    switch (command.type) {
      case 'RespondToComplaint':
        return respond(command, state);
      case 'ResolveComplaint':
        return resolve(command, state);
      case 'ReopenComplaint':
        return reopen(command, state);
      case 'CloseComplaint':
        if (state.status !== 'resolved') {
          throw new DomainError('complaint-not-resolved', `complaint ${state.complaintId} is ${state.status}, not resolved`, {
            complaintId: state.complaintId,
            status: state.status,
          });
        }
        return [
          {
            type: 'ComplaintClosed',
            data: {
              complaintId: state.complaintId,
              customerId: state.customerId,
              closedAt: parseInstant(command.data.occurredAt, 'occurredAt').toISOString(),
            },
          },
        ];
      case 'ChangeComplaintOwner':
        return changeOwner(command, state);
    }
  }

  function file(command: FileComplaint, state: ComplaintState): ComplaintEvent[] {
    const { data } = command;
    if (state.exists) {
      throw new DomainError('complaint-already-exists', `complaint ${data.complaintId} already exists`, {
        complaintId: data.complaintId,
      });
    }
    const filedAt = parseInstant(data.occurredAt, 'occurredAt');
    const sla = computeSlaDeadlines(policies.current(), data.priority, filedAt);
    const events: ComplaintEvent[] = [
      {
        type: 'ComplaintFiled',
        data: {
          complaintId: data.complaintId,
          customerId: data.customerId,
          channel: data.channel,
          category: data.category,
          priority: data.priority,
          description: data.description,
          ownerId: data.ownerId,
          filedAt: filedAt.toISOString(),
          sla,
        },
      },
    ];
    if (data.resolvedAtFirstContact) {
      events.push({
        type: 'ComplaintResolved',
        data: {
          complaintId: data.complaintId,
          customerId: data.customerId,
          resolvedAt: filedAt.toISOString(),
          resolution: data.resolution ?? RESOLVED_AT_FIRST_CONTACT,
          atFirstContact: true,
          sla,
        },
      });
    }
    return events;
  }

  function reopen(command: ReopenComplaint, state: FiledComplaintState): ComplaintEvent[] {
    if (state.status !== 'resolved') {
      throw new DomainError('complaint-not-reopenable', `complaint ${state.complaintId} is ${state.status}, not resolved`, {
        complaintId: state.complaintId,
        status: state.status,
      });
    }
    const reopenedAt = parseInstant(command.data.occurredAt, 'occurredAt');
    return [
      {
        type: 'ComplaintReopened',
        data: {
          complaintId: state.complaintId,
          customerId: state.customerId,
          reopenedAt: reopenedAt.toISOString(),
          reason: command.data.reason,
          // The policy in force at the reopen applies, not necessarily the one the complaint was filed under.
          resolutionDueAt: computeReopenedResolutionDueAt(policies.current(), state.priority, reopenedAt),
        },
      },
    ];
  }

  return { decide, evolve: evolveComplaint, initialState: initialComplaintState };
}

/** Responding to a resolved (not closed) complaint is allowed: it stays resolved. */
function respond(command: RespondToComplaint, state: FiledComplaintState): ComplaintEvent[] {
  const { message, responderId, occurredAt } = command.data;
  return [
    {
      type: 'ComplaintResponded',
      data: {
        complaintId: state.complaintId,
        customerId: state.customerId,
        respondedAt: parseInstant(occurredAt, 'occurredAt').toISOString(),
        message,
        responderId,
        sla: state.sla,
      },
    },
  ];
}

function resolve(command: ResolveComplaint, state: FiledComplaintState): ComplaintEvent[] {
  if (state.status === 'resolved') {
    throw new DomainError('complaint-already-resolved', `complaint ${state.complaintId} is already resolved`, {
      complaintId: state.complaintId,
    });
  }
  return [
    {
      type: 'ComplaintResolved',
      data: {
        complaintId: state.complaintId,
        customerId: state.customerId,
        resolvedAt: parseInstant(command.data.occurredAt, 'occurredAt').toISOString(),
        resolution: command.data.resolution,
        atFirstContact: false,
        sla: state.sla,
      },
    },
  ];
}

function changeOwner(command: ChangeComplaintOwner, state: FiledComplaintState): ComplaintEvent[] {
  const { ownerId, reason } = command.data;
  if (ownerId === state.ownerId) {
    throw new DomainError('owner-unchanged', `complaint ${state.complaintId} is already owned by ${ownerId}`, {
      complaintId: state.complaintId,
      ownerId,
    });
  }
  return [
    {
      type: 'ComplaintOwnerChanged',
      data: { complaintId: state.complaintId, customerId: state.customerId, ownerId, previousOwnerId: state.ownerId, reason },
    },
  ];
}

/**
 * The watcher may race a response, a resolution or another watcher, so a deadline that turns out
 * not to be breached yields no event instead of an error. A deadline counts as passed from its
 * very instant; each deadline breaches at most once, but a reopen's new resolution deadline may
 * breach again.
 */
function recordSlaBreach(command: RecordSlaBreach, state: FiledComplaintState, now: Date): ComplaintEvent[] {
  const { kind } = command.data;
  if (state.status === 'closed') return [];
  const dueAt = kind === 'first-response' ? state.sla.firstResponseDueAt : state.sla.resolutionDueAt;
  const stillRunning = kind === 'first-response' ? state.firstResponseMetAt === null : state.status !== 'resolved';
  const passed = now.getTime() >= parseInstant(dueAt, 'dueAt').getTime();
  const alreadyRecorded = state.breaches.some((breach) => breach.kind === kind && breach.dueAt === dueAt);
  if (!stillRunning || !passed || alreadyRecorded) return [];
  return [
    {
      type: 'SlaBreached',
      data: {
        complaintId: state.complaintId,
        customerId: state.customerId,
        kind,
        dueAt,
        breachedAt: dueAt,
        ownerId: state.ownerId,
        priority: state.priority,
      },
    },
  ];
}

import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import { parseInstant } from '../shared/instant';
import type {
  AwaitCustomer,
  ChangeComplaintOwner,
  ChangeComplaintPriority,
  ComplaintCommand,
  FileComplaint,
  RecordSlaBreach,
  ReopenComplaint,
  ResolveComplaint,
  ResumeComplaint,
  RespondToComplaint,
} from './complaint-commands';
import type { ComplaintEvent, ComplaintResumed, SlaKind } from './complaint-events';
import { escalationKey, evolveComplaint, initialComplaintState } from './complaint-state';
import type { ComplaintState, FiledComplaintState } from './complaint-state';
import { computeReopenedResolutionDueAt, computeSlaDeadlines, fixedSlaPolicyBook } from './sla-policy';
import type { SlaPolicy, SlaPolicyBook } from './sla-policy';
import { escalationSchedule, pausedSlaMinutes, pauseStopsClocks, recomputeSla } from './sla-schedule';
import type { SlaClocks, SlaPause } from './sla-schedule';

export type ComplaintDecider = Decider<ComplaintCommand, ComplaintState, ComplaintEvent>;

/** Resolution text of a complaint resolved at first contact when the command gives none. */
export const RESOLVED_AT_FIRST_CONTACT = 'Resolved at first contact';

/** `slaPolicy`: one fixed policy; `slaPolicies`: the versioned policies (current for new complaints). */
export function makeComplaintDecider(options: { slaPolicy: SlaPolicy } | { slaPolicies: SlaPolicyBook }): ComplaintDecider {
  const policies = 'slaPolicies' in options ? options.slaPolicies : fixedSlaPolicyBook(options.slaPolicy);

  /** A complaint keeps the policy version it was filed under (current only when that version is unknown here). */
  const policyOf = (state: FiledComplaintState): SlaPolicy => policies.byVersion(state.sla.policyVersion) ?? policies.current();

  function decide(command: ComplaintCommand, state: ComplaintState, now: Date): ComplaintEvent[] {
    if (command.type === 'FileComplaint') return file(command, state);
    if (!state.exists) {
      throw new DomainError('complaint-not-found', `complaint ${command.data.complaintId} does not exist`, {
        complaintId: command.data.complaintId,
      });
    }
    // The watcher may race a close: a closed complaint simply has nothing left to breach.
    if (command.type === 'RecordSlaBreach') return recordSlaBreach(command, state, now);
    if (command.type === 'RecordSlaEscalations') return recordSlaEscalations(state, now);
    // Before the closed check: a closed complaint is neither pausable nor paused, and these say so (409).
    if (command.type === 'AwaitCustomer') return awaitCustomer(command, state);
    if (command.type === 'ResumeComplaint') return resume(command, state);
    if (state.status === 'closed') {
      throw new DomainError('complaint-closed', `complaint ${state.complaintId} is closed`, {
        complaintId: state.complaintId,
      });
    }
    switch (command.type) {
      case 'RespondToComplaint':
        return respond(command, state);
      case 'ResolveComplaint':
        return resolveComplaint(command, state);
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
      case 'ChangeComplaintPriority':
        return changePriority(command, state);
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
    const policy = policies.current();
    const sla = computeSlaDeadlines(policy, data.priority, filedAt);
    const at = filedAt.toISOString();
    const escalations = escalationSchedule(policy, data.priority, { filedAt: at, resolutionStartedAt: at }, []);
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
          filedAt: at,
          sla,
          // Only when the policy names steps: events of policies without escalation stay as they were.
          ...(escalations.length > 0 ? { escalations } : {}),
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
    // The complaint's own policy version (issue 16: complaints keep the version they were filed under).
    const policy = policyOf(state);
    const at = reopenedAt.toISOString();
    const escalations = escalationSchedule(policy, state.priority, { filedAt: state.filedAt, resolutionStartedAt: at }, state.pauses);
    return [
      {
        type: 'ComplaintReopened',
        data: {
          complaintId: state.complaintId,
          customerId: state.customerId,
          reopenedAt: at,
          reason: command.data.reason,
          resolutionDueAt: computeReopenedResolutionDueAt(policy, state.priority, reopenedAt),
          ...(escalations.length > 0 ? { escalations } : {}),
        },
      },
    ];
  }

  /** Resolving a complaint that waits for the customer ends the wait first: the resolution restates the moved deadlines. */
  function resolveComplaint(command: ResolveComplaint, state: FiledComplaintState): ComplaintEvent[] {
    if (!state.paused) return resolve(command, state);
    const resumed = resumedEvent(state, parseInstant(command.data.occurredAt, 'occurredAt'), null, 'resolution', null);
    return [resumed, ...resolve(command, { ...state, sla: resumed.data.sla })];
  }

  function awaitCustomer(command: AwaitCustomer, state: FiledComplaintState): ComplaintEvent[] {
    if (state.status === 'resolved' || state.status === 'closed') {
      throw new DomainError('complaint-not-pausable', `complaint ${state.complaintId} is ${state.status}: there is nothing to wait for`, {
        complaintId: state.complaintId,
        status: state.status,
      });
    }
    if (state.paused) {
      throw new DomainError('complaint-already-paused', `complaint ${state.complaintId} already waits for the customer since ${state.pausedSince ?? '?'}`, {
        complaintId: state.complaintId,
        pausedSince: state.pausedSince,
      });
    }
    return [
      {
        type: 'ComplaintAwaitingCustomer',
        data: {
          complaintId: state.complaintId,
          customerId: state.customerId,
          pausedAt: parseInstant(command.data.occurredAt, 'occurredAt').toISOString(),
          reason: command.data.reason,
          clocksStopped: pauseStopsClocks(policyOf(state), 'awaiting-customer'),
        },
      },
    ];
  }

  function resume(command: ResumeComplaint, state: FiledComplaintState): ComplaintEvent[] {
    const { trigger, occurredAt, reason, contactId } = command.data;
    const at = parseInstant(occurredAt, 'occurredAt');
    if (trigger === 'inbound-contact') {
      // A reaction to the log: replayed, or beaten by an agent's resume, or a contact from before the wait began.
      if (!state.paused || state.pausedSince === null || at.getTime() < Date.parse(state.pausedSince)) return [];
      return [resumedEvent(state, at, reason, trigger, contactId ?? null)];
    }
    if (!state.paused) {
      throw new DomainError('complaint-not-paused', `complaint ${state.complaintId} is not waiting for the customer`, {
        complaintId: state.complaintId,
        status: state.status,
      });
    }
    return [resumedEvent(state, at, reason, trigger, null)];
  }

  function resumedEvent(
    state: FiledComplaintState, at: Date, reason: string | null, trigger: ComplaintResumed['data']['trigger'], contactId: string | null,
  ): ComplaintResumed {
    const policy = policyOf(state);
    const pausedSince = state.pausedSince ?? state.filedAt;
    // A resume recorded with a business time before the wait began ends it at once (an empty pause).
    const resumedAt = new Date(Math.max(at.getTime(), Date.parse(pausedSince))).toISOString();
    const pause: SlaPause = { from: pausedSince, to: resumedAt };
    const pauses = state.pauseStopsClocks ? [...state.pauses, pause] : state.pauses;
    const pausedMinutes = state.pauseStopsClocks ? pausedSlaMinutes(policy, state.priority, pausedSince, [pause]) : 0;
    const { sla, escalations } = recomputeSla(policy, clocksOf(state, state.priority, pauses));
    return {
      type: 'ComplaintResumed',
      data: {
        complaintId: state.complaintId,
        customerId: state.customerId,
        resumedAt,
        pausedSince,
        pausedMinutes,
        reason,
        trigger,
        contactId,
        sla,
        escalations,
      },
    };
  }

  function changePriority(command: ChangeComplaintPriority, state: FiledComplaintState): ComplaintEvent[] {
    const { priority, reason, occurredAt } = command.data;
    if (priority === state.priority) {
      throw new DomainError('priority-unchanged', `complaint ${state.complaintId} already has priority ${priority}`, {
        complaintId: state.complaintId,
        priority,
      });
    }
    const { sla, escalations } = recomputeSla(policyOf(state), clocksOf(state, priority, state.pauses));
    return [
      {
        type: 'ComplaintPriorityChanged',
        data: {
          complaintId: state.complaintId,
          customerId: state.customerId,
          priority,
          previousPriority: state.priority,
          reason,
          changedAt: parseInstant(occurredAt, 'occurredAt').toISOString(),
          sla,
          escalations,
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
  if (state.status === 'closed' || clocksStopped(state)) return [];
  const dueAt = kind === 'first-response' ? state.sla.firstResponseDueAt : state.sla.resolutionDueAt;
  const passed = now.getTime() >= parseInstant(dueAt, 'dueAt').getTime();
  if (!clockRunning(state, kind) || !passed || state.breachedClocks[kind]) return [];
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

/** Waiting for the customer under a policy that stops the clocks: nothing breaches or escalates meanwhile. */
function clocksStopped(state: FiledComplaintState): boolean {
  return state.paused && state.pauseStopsClocks;
}

function clockRunning(state: FiledComplaintState, kind: SlaKind): boolean {
  return kind === 'first-response' ? state.firstResponseMetAt === null : state.status !== 'resolved' && state.status !== 'closed';
}

/**
 * The clocks for a recomputation at `priority`. A breached clock keeps the deadline it missed: the breach stays
 * recorded against it (and the breach report meets it by that deadline), whatever moves later.
 */
function clocksOf(state: FiledComplaintState, priority: FiledComplaintState['priority'], pauses: readonly SlaPause[]): SlaClocks {
  return {
    priority,
    filedAt: state.filedAt,
    resolutionStartedAt: state.resolutionStartedAt,
    firstResponseRunning: clockRunning(state, 'first-response') && !state.breachedClocks['first-response'],
    resolutionRunning: clockRunning(state, 'resolution') && !state.breachedClocks.resolution,
    pauses,
    current: state.sla,
  };
}

/**
 * Every escalation step whose time has come on a clock still running and that was not recorded on this clock yet,
 * earliest first. Like a breach, it is dated at its due time; a watcher replaying its work, or racing another one
 * (the append carries the stream revision), finds it recorded and adds nothing.
 */
function recordSlaEscalations(state: FiledComplaintState, now: Date): ComplaintEvent[] {
  if (state.status === 'closed' || clocksStopped(state)) return [];
  return [...state.escalations]
    .filter((e) => clockRunning(state, e.kind) && !state.escalated.includes(escalationKey(e.kind, e.step)) && Date.parse(e.dueAt) <= now.getTime())
    .sort((a, b) => a.dueAt.localeCompare(b.dueAt))
    .map((e) => ({
      type: 'ComplaintEscalated',
      data: {
        complaintId: state.complaintId,
        customerId: state.customerId,
        step: e.step,
        kind: e.kind,
        atPercent: e.atPercent,
        notify: e.notify,
        dueAt: e.dueAt,
        escalatedAt: e.dueAt,
        ownerId: state.ownerId,
        priority: state.priority,
      },
    }));
}

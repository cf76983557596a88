import type { Priority } from '../shared/types';
import type { SlaDeadlines, SlaEscalationDue, SlaKind } from './complaint-events';
import { addSlaMinutes, slaMinutesBetween } from './sla-clock';
import { SLA_PAUSE_STATES } from './sla-policy';
import type { SlaPauseState, SlaPolicy } from './sla-policy';

/** A finished wait for the customer during which the clocks stood still. */
export type SlaPause = { from: string; to: string };

/**
 * Where a complaint's two SLA clocks stand. The first-response clock starts at filing; the resolution clock at
 * filing, and again at each reopen. A clock that stopped (answered, resolved) keeps its deadline as it was.
 */
export type SlaClocks = {
  priority: Priority;
  filedAt: string;
  resolutionStartedAt: string;
  firstResponseRunning: boolean;
  resolutionRunning: boolean;
  pauses: readonly SlaPause[];
  current: SlaDeadlines;
};

/**
 * Whether waiting in `state` stops the clocks. A policy written before pauses existed names no `pauseWhen`: it
 * gets the default, awaiting-customer (what Zendesk's "pending" and Freshdesk's "waiting on customer" do); an
 * explicit empty list keeps the clocks running.
 */
export function pauseStopsClocks(policy: SlaPolicy, state: SlaPauseState): boolean {
  return (policy.pauseWhen ?? SLA_PAUSE_STATES).includes(state);
}

/** SLA minutes of `pauses` that fall after `clockStart`, on the priority's calendar. */
export function pausedSlaMinutes(policy: SlaPolicy, priority: Priority, clockStart: string, pauses: readonly SlaPause[]): number {
  const calendar = policy.targets[priority].calendar ?? '24x7';
  const start = Date.parse(clockStart);
  return pauses.reduce((sum, pause) => {
    const from = new Date(Math.max(Date.parse(pause.from), start));
    return sum + slaMinutesBetween(policy, calendar, from, new Date(pause.to));
  }, 0);
}

/**
 * When `percent` of the `kind` target of `priority` has elapsed on a clock started at `clockStart`, paused time
 * excluded: the target (times the percentage) plus the paused SLA minutes, added in SLA time to the clock's start.
 * At 100 % this is the deadline itself, so a breach step and the breach fall due together.
 */
export function clockDueAt(
  policy: SlaPolicy, priority: Priority, kind: SlaKind, clockStart: string, pauses: readonly SlaPause[], percent = 100,
): string {
  const target = policy.targets[priority];
  const minutes = kind === 'first-response' ? target.firstResponseMinutes : target.resolutionMinutes;
  const paused = pausedSlaMinutes(policy, priority, clockStart, pauses);
  return addSlaMinutes(policy, target.calendar ?? '24x7', new Date(clockStart), (minutes * percent) / 100 + paused).toISOString();
}

/** The escalation steps of the policy, each due on its clock (first response from filing, resolution from its start). */
export function escalationSchedule(
  policy: SlaPolicy, priority: Priority, clocks: { filedAt: string; resolutionStartedAt: string }, pauses: readonly SlaPause[],
): SlaEscalationDue[] {
  return (policy.escalations ?? []).map((step) => ({
    step: step.name,
    kind: step.kind,
    atPercent: step.atPercent,
    notify: step.notify,
    dueAt: clockDueAt(
      policy, priority, step.kind, step.kind === 'first-response' ? clocks.filedAt : clocks.resolutionStartedAt, pauses, step.atPercent,
    ),
  }));
}

/**
 * The deadlines and escalation schedule of the clocks as they stand now: running clocks measured anew (priority,
 * pauses), stopped ones as they were.
 */
export function recomputeSla(policy: SlaPolicy, clocks: SlaClocks): { sla: SlaDeadlines; escalations: SlaEscalationDue[] } {
  const { priority, filedAt, resolutionStartedAt, pauses, current } = clocks;
  return {
    sla: {
      policyVersion: current.policyVersion,
      firstResponseDueAt: clocks.firstResponseRunning
        ? clockDueAt(policy, priority, 'first-response', filedAt, pauses)
        : current.firstResponseDueAt,
      resolutionDueAt: clocks.resolutionRunning
        ? clockDueAt(policy, priority, 'resolution', resolutionStartedAt, pauses)
        : current.resolutionDueAt,
    },
    escalations: escalationSchedule(policy, priority, { filedAt, resolutionStartedAt }, pauses),
  };
}

import type { Priority } from '../shared/types';
import type { SlaDeadlines, SlaKind } from './complaint-events';
import { addSlaMinutes } from './sla-clock';
import type { BusinessCalendar, SlaCalendarKind } from './sla-clock';

export type SlaTarget = {
  firstResponseMinutes: number;
  resolutionMinutes: number;
  /** Absent means `24x7` (policies written before calendars existed). */
  calendar?: SlaCalendarKind;
};

/** Complaint states that stop the clocks while the complaint is in them. */
export const SLA_PAUSE_STATES = ['awaiting-customer'] as const;
export type SlaPauseState = (typeof SLA_PAUSE_STATES)[number];

/**
 * An escalation step: when `atPercent` of the `kind` target has elapsed (in SLA time, paused time excluded),
 * the complaint is escalated to `notify` (a role such as `supervisor`, or `owner` for the complaint's owner).
 * 100 means at the breach itself.
 */
export type SlaEscalationStep = { name: string; kind: SlaKind; atPercent: number; notify: string };

/**
 * Versioned SLA policy (docs/event-catalogue.md, "SLA policy"). The version applied at filing is
 * stored in ComplaintFiled, so a later policy change never rewrites past deadlines.
 * The calendar fields are optional so that policies of the first shape stay valid: without them a policy is 24x7.
 */
export interface SlaPolicy extends BusinessCalendar {
  version: string;
  targets: Record<Priority, SlaTarget>;
  pauseWhen?: readonly SlaPauseState[];
  escalations?: readonly SlaEscalationStep[];
}

/**
 * The SLA policies known to the process: the current one (applied to complaints filed from now on) and every
 * earlier version (a complaint keeps the version it was filed under, also when its priority changes later).
 */
export interface SlaPolicyBook {
  current(): SlaPolicy;
  byVersion(version: string): SlaPolicy | undefined;
}

/** A book of one policy: the configured one (SLA_POLICY_FILE or the default), as before policies had an API. */
export function fixedSlaPolicyBook(policy: SlaPolicy): SlaPolicyBook {
  return { current: () => policy, byVersion: (version) => (version === policy.version ? policy : undefined) };
}

export const DEFAULT_SLA_POLICY: SlaPolicy = {
  version: 'sla-2026-01',
  targets: {
    P1: { firstResponseMinutes: 60, resolutionMinutes: 240 },
    P2: { firstResponseMinutes: 240, resolutionMinutes: 1440 },
    P3: { firstResponseMinutes: 480, resolutionMinutes: 4320 },
    P4: { firstResponseMinutes: 1440, resolutionMinutes: 10080 },
  },
};

/** Deadlines of a complaint filed at `filedAt` (its business time, which may be in the past). */
export function computeSlaDeadlines(policy: SlaPolicy, priority: Priority, filedAt: Date): SlaDeadlines {
  const target = policy.targets[priority];
  const calendar = target.calendar ?? '24x7';
  return {
    policyVersion: policy.version,
    firstResponseDueAt: addSlaMinutes(policy, calendar, filedAt, target.firstResponseMinutes).toISOString(),
    resolutionDueAt: addSlaMinutes(policy, calendar, filedAt, target.resolutionMinutes).toISOString(),
  };
}

/** A reopened complaint gets the priority's full resolution target again, from the reopen time. */
export function computeReopenedResolutionDueAt(policy: SlaPolicy, priority: Priority, reopenedAt: Date): string {
  const target = policy.targets[priority];
  return addSlaMinutes(policy, target.calendar ?? '24x7', reopenedAt, target.resolutionMinutes).toISOString();
}

import { PRIORITIES } from '../shared/types';
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

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a policy read from configuration (SLA_POLICY_FILE). Throws a plain Error that names every
 * problem, so a bad file stops the process at start-up with a message an operator can act on.
 */
export function validateSlaPolicy(input: unknown): SlaPolicy {
  if (!isRecord(input)) throw new Error('SLA policy: expected an object { version, targets }');
  const problems: string[] = [];
  const { version, targets } = input;
  if (typeof version !== 'string' || version.trim() === '') problems.push('version must be a non-empty string');
  const valid: Partial<Record<Priority, SlaTarget>> = {};
  if (!isRecord(targets)) {
    problems.push(`targets must be an object with ${PRIORITIES.join(', ')}`);
  } else {
    for (const key of Object.keys(targets)) {
      if (!(PRIORITIES as readonly string[]).includes(key)) {
        problems.push(`targets.${key}: unknown priority (expected ${PRIORITIES.join(', ')})`);
      }
    }
    for (const priority of PRIORITIES) {
      const target = targets[priority];
      if (!isRecord(target)) {
        problems.push(`targets.${priority} is missing`);
        continue;
      }
      const { firstResponseMinutes, resolutionMinutes } = target;
      if (!isPositiveInteger(firstResponseMinutes)) {
        problems.push(`targets.${priority}.firstResponseMinutes must be a positive integer, got ${JSON.stringify(firstResponseMinutes)}`);
      }
      if (!isPositiveInteger(resolutionMinutes)) {
        problems.push(`targets.${priority}.resolutionMinutes must be a positive integer, got ${JSON.stringify(resolutionMinutes)}`);
      }
      if (isPositiveInteger(firstResponseMinutes) && isPositiveInteger(resolutionMinutes)) {
        if (firstResponseMinutes > resolutionMinutes) {
          problems.push(`targets.${priority}: firstResponseMinutes must not exceed resolutionMinutes`);
        } else {
          valid[priority] = { firstResponseMinutes, resolutionMinutes };
        }
      }
    }
  }
  const { P1, P2, P3, P4 } = valid;
  if (problems.length > 0 || typeof version !== 'string' || !P1 || !P2 || !P3 || !P4) {
    throw new Error(`SLA policy: ${problems.join('; ')}`);
  }
  return { version, targets: { P1, P2, P3, P4 } };
}

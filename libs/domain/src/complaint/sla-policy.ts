import { addMinutes } from '../shared/instant';
import { PRIORITIES } from '../shared/types';
import type { Priority } from '../shared/types';
import type { SlaDeadlines } from './complaint-events';

export type SlaTarget = { firstResponseMinutes: number; resolutionMinutes: number };

/**
 * Versioned SLA targets (docs/event-catalogue.md, "SLA policy"). The version applied at filing is
 * stored in ComplaintFiled, so a later policy change never rewrites past deadlines.
 */
export interface SlaPolicy {
  version: string;
  targets: Record<Priority, SlaTarget>;
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
  return {
    policyVersion: policy.version,
    firstResponseDueAt: addMinutes(filedAt, target.firstResponseMinutes).toISOString(),
    resolutionDueAt: addMinutes(filedAt, target.resolutionMinutes).toISOString(),
  };
}

/** A reopened complaint gets the priority's full resolution target again, from the reopen time. */
export function computeReopenedResolutionDueAt(policy: SlaPolicy, priority: Priority, reopenedAt: Date): string {
  return addMinutes(reopenedAt, policy.targets[priority].resolutionMinutes).toISOString();
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

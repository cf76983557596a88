import { PRIORITIES } from '../shared/types';
import type { Priority } from '../shared/types';
import { SLA_KINDS } from './complaint-events';
import type { SlaKind } from './complaint-events';
import { isKnownTimezone, parseWallTime, WEEKDAYS } from './sla-clock';
import type { BusinessInterval, SlaCalendarKind, Weekday } from './sla-clock';
import { SLA_PAUSE_STATES } from './sla-policy';
import type { SlaEscalationStep, SlaPauseState, SlaPolicy, SlaTarget } from './sla-policy';

/** One thing wrong with a policy: the field (`businessHours.tue[1]`) and a sentence that starts with it. */
export interface SlaPolicyProblem {
  readonly field: string;
  readonly message: string;
}

export type SlaPolicyCheck = { readonly policy: SlaPolicy; readonly problems?: undefined } | { readonly policy?: undefined; readonly problems: readonly SlaPolicyProblem[] };

export interface SlaPolicyCheckOptions {
  /**
   * `drop` (the configuration file, as before): unknown fields are ignored. `refuse` (the API): a misspelt field
   * (`holiday` for `holidays`) would otherwise be dropped silently and the policy published without it.
   */
  readonly unknownFields?: 'drop' | 'refuse';
  /** Fields the caller reads itself (the API's `publishedAt`…): neither refused nor kept. */
  readonly ignoredFields?: readonly string[];
}

const CALENDARS: readonly SlaCalendarKind[] = ['24x7', 'business'];
const TOP_LEVEL = ['version', 'timezone', 'businessHours', 'holidays', 'targets', 'pauseWhen', 'escalations'];
const TARGET_FIELDS = ['firstResponseMinutes', 'resolutionMinutes', 'calendar'];
const STEP_FIELDS = ['name', 'kind', 'atPercent', 'notify'];
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MAX_VERSION_LENGTH = 100;

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE.exec(value);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/**
 * Checks a whole SLA policy and names every problem by its field. Used by the configuration file (validateSlaPolicy)
 * and by the API (PUT /sla/policies, the what-if candidate).
 */
export function checkSlaPolicy(input: unknown, options: SlaPolicyCheckOptions = {}): SlaPolicyCheck {
  if (!isRecord(input)) return { problems: [{ field: '', message: 'expected an object { version, targets }' }] };
  const problems: SlaPolicyProblem[] = [];
  const problem = (field: string, message: string): void => {
    problems.push({ field, message });
  };
  const refuseUnknown = (record: Record<string, unknown>, known: readonly string[], prefix: string): void => {
    if (options.unknownFields !== 'refuse') return;
    for (const key of Object.keys(record)) {
      if (!known.includes(key) && !(prefix === '' && options.ignoredFields?.includes(key))) {
        const field = prefix ? `${prefix}.${key}` : key;
        problem(field, `${field}: unknown field (expected ${known.join(', ')})`);
      }
    }
  };

  const { version, timezone, businessHours, holidays, targets, pauseWhen, escalations } = input;
  if (typeof version !== 'string' || version.trim() === '') problem('version', 'version must be a non-empty string');
  else if (version.length > MAX_VERSION_LENGTH) problem('version', `version must be at most ${MAX_VERSION_LENGTH} characters`);
  refuseUnknown(input, TOP_LEVEL, '');

  const validTargets = checkTargets(targets, problem, refuseUnknown);

  if (timezone !== undefined && (typeof timezone !== 'string' || !isKnownTimezone(timezone))) {
    problem('timezone', `timezone must be an IANA time zone such as "Europe/Vilnius", got ${show(timezone)}`);
  }
  const hours = checkBusinessHours(businessHours, problem);
  if (holidays !== undefined) {
    if (!Array.isArray(holidays)) problem('holidays', 'holidays must be a list of dates (YYYY-MM-DD)');
    else holidays.forEach((day: unknown, i) => {
      if (!isCalendarDate(day)) problem(`holidays[${i}]`, `holidays[${i}] must be a date YYYY-MM-DD, got ${show(day)}`);
    });
  }
  const business = PRIORITIES.filter((p) => validTargets[p]?.calendar === 'business');
  if (business.length > 0) {
    const users = business.map((p) => `targets.${p}`).join(', ');
    if (timezone === undefined) problem('timezone', `timezone is required when a target uses the business calendar (${users})`);
    if (hours.open === 0 && hours.valid) problem('businessHours', `businessHours must open at least once a week when a target uses the business calendar (${users})`);
  }

  if (pauseWhen !== undefined) {
    if (!Array.isArray(pauseWhen)) problem('pauseWhen', `pauseWhen must be a list of states (${SLA_PAUSE_STATES.join(', ')})`);
    else pauseWhen.forEach((state: unknown, i) => {
      if (!(SLA_PAUSE_STATES as readonly unknown[]).includes(state)) {
        problem(`pauseWhen[${i}]`, `pauseWhen[${i}]: unknown state ${show(state)} (expected ${SLA_PAUSE_STATES.join(', ')})`);
      }
    });
  }
  checkEscalations(escalations, problem, refuseUnknown);

  const { P1, P2, P3, P4 } = validTargets;
  if (problems.length > 0 || typeof version !== 'string' || !P1 || !P2 || !P3 || !P4) return { problems };
  const policy: SlaPolicy = { version, targets: { P1, P2, P3, P4 } };
  // Only the fields given are kept, so a policy of the first shape reads back exactly as it was written.
  return {
    policy: {
      ...policy,
      ...(typeof timezone === 'string' ? { timezone } : {}),
      ...(businessHours !== undefined ? { businessHours: businessHours as Partial<Record<Weekday, readonly BusinessInterval[]>> } : {}),
      ...(holidays !== undefined ? { holidays: holidays as string[] } : {}),
      ...(pauseWhen !== undefined ? { pauseWhen: pauseWhen as SlaPauseState[] } : {}),
      ...(escalations !== undefined ? { escalations: (escalations as Record<string, unknown>[]).map(stepOf) } : {}),
    },
  };
}

type Report = (field: string, message: string) => void;
type RefuseUnknown = (record: Record<string, unknown>, known: readonly string[], prefix: string) => void;

function checkTargets(targets: unknown, problem: Report, refuseUnknown: RefuseUnknown): Partial<Record<Priority, SlaTarget>> {
  const valid: Partial<Record<Priority, SlaTarget>> = {};
  if (!isRecord(targets)) {
    problem('targets', `targets must be an object with ${PRIORITIES.join(', ')}`);
    return valid;
  }
  for (const key of Object.keys(targets)) {
    if (!(PRIORITIES as readonly string[]).includes(key)) {
      problem(`targets.${key}`, `targets.${key}: unknown priority (expected ${PRIORITIES.join(', ')})`);
    }
  }
  for (const priority of PRIORITIES) {
    const target = targets[priority];
    if (!isRecord(target)) {
      problem(`targets.${priority}`, `targets.${priority} is missing`);
      continue;
    }
    refuseUnknown(target, TARGET_FIELDS, `targets.${priority}`);
    const { firstResponseMinutes, resolutionMinutes, calendar } = target;
    let ok = true;
    if (!isPositiveInteger(firstResponseMinutes)) {
      ok = false;
      problem(`targets.${priority}.firstResponseMinutes`, `targets.${priority}.firstResponseMinutes must be a positive integer, got ${show(firstResponseMinutes)}`);
    }
    if (!isPositiveInteger(resolutionMinutes)) {
      ok = false;
      problem(`targets.${priority}.resolutionMinutes`, `targets.${priority}.resolutionMinutes must be a positive integer, got ${show(resolutionMinutes)}`);
    }
    if (calendar !== undefined && !(CALENDARS as readonly unknown[]).includes(calendar)) {
      ok = false;
      problem(`targets.${priority}.calendar`, `targets.${priority}.calendar: unknown calendar ${show(calendar)} (expected ${CALENDARS.join(', ')})`);
    }
    if (!ok || !isPositiveInteger(firstResponseMinutes) || !isPositiveInteger(resolutionMinutes)) continue;
    if (firstResponseMinutes > resolutionMinutes) {
      problem(`targets.${priority}`, `targets.${priority}: firstResponseMinutes must not exceed resolutionMinutes`);
      continue;
    }
    valid[priority] = { firstResponseMinutes, resolutionMinutes, ...(calendar === undefined ? {} : { calendar: calendar as SlaCalendarKind }) };
  }
  return valid;
}

/** `valid`: no problem found; `open`: how many intervals a week. */
function checkBusinessHours(businessHours: unknown, problem: Report): { valid: boolean; open: number } {
  if (businessHours === undefined) return { valid: true, open: 0 };
  if (!isRecord(businessHours)) {
    problem('businessHours', `businessHours must be an object with days ${WEEKDAYS.join(', ')}`);
    return { valid: false, open: 0 };
  }
  let valid = true;
  let open = 0;
  for (const [day, intervals] of Object.entries(businessHours)) {
    const field = `businessHours.${day}`;
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      valid = false;
      problem(field, `${field}: unknown day (expected ${WEEKDAYS.join(', ')})`);
      continue;
    }
    if (!Array.isArray(intervals)) {
      valid = false;
      problem(field, `${field} must be a list of intervals such as [["09:00", "17:00"]]`);
      continue;
    }
    const ranges: { index: number; from: number; to: number }[] = [];
    intervals.forEach((interval: unknown, index) => {
      const at = `${field}[${index}]`;
      if (!Array.isArray(interval) || interval.length !== 2) {
        valid = false;
        problem(at, `${at} must be a pair ["HH:MM", "HH:MM"]`);
        return;
      }
      const [fromText, toText] = interval as unknown[];
      const from = parseWallTime(fromText);
      const to = parseWallTime(toText);
      if (from === undefined || from === 24 * 60) {
        valid = false;
        problem(`${at}[0]`, `${at}[0] must be a time "HH:MM" from 00:00 to 23:59, got ${show(fromText)}`);
      }
      if (to === undefined) {
        valid = false;
        problem(`${at}[1]`, `${at}[1] must be a time "HH:MM" up to 24:00, got ${show(toText)}`);
      }
      if (from === undefined || to === undefined || from === 24 * 60) return;
      if (from >= to) {
        valid = false;
        problem(at, `${at}: the start ${show(fromText)} must be before the end ${show(toText)}`);
        return;
      }
      ranges.push({ index, from, to });
    });
    ranges.sort((a, b) => a.from - b.from);
    for (let i = 1; i < ranges.length; i += 1) {
      const previous = ranges[i - 1];
      const current = ranges[i];
      if (previous && current && current.from < previous.to) {
        valid = false;
        const at = `${field}[${Math.max(previous.index, current.index)}]`;
        problem(at, `${at} overlaps ${field}[${Math.min(previous.index, current.index)}]`);
      }
    }
    open += ranges.length;
  }
  return { valid, open };
}

function checkEscalations(escalations: unknown, problem: Report, refuseUnknown: RefuseUnknown): void {
  if (escalations === undefined) return;
  if (!Array.isArray(escalations)) {
    problem('escalations', 'escalations must be a list of steps { name, kind, atPercent, notify }');
    return;
  }
  const names = new Set<string>();
  escalations.forEach((step: unknown, i) => {
    const at = `escalations[${i}]`;
    if (!isRecord(step)) {
      problem(at, `${at} must be an object { name, kind, atPercent, notify }`);
      return;
    }
    refuseUnknown(step, STEP_FIELDS, at);
    const { name, kind, atPercent, notify } = step;
    if (!isNonEmptyString(name)) problem(`${at}.name`, `${at}.name must be a non-empty string`);
    else if (names.has(name)) problem(`${at}.name`, `${at}.name ${show(name)} is used by an earlier step (each step is reached once, by name)`);
    else names.add(name);
    if (!(SLA_KINDS as readonly unknown[]).includes(kind)) {
      problem(`${at}.kind`, `${at}.kind must be one of ${SLA_KINDS.join(', ')}, got ${show(kind)}`);
    }
    if (typeof atPercent !== 'number' || !Number.isInteger(atPercent) || atPercent < 1 || atPercent > 100) {
      problem(`${at}.atPercent`, `${at}.atPercent must be an integer from 1 to 100, got ${show(atPercent)}`);
    }
    if (!isNonEmptyString(notify)) problem(`${at}.notify`, `${at}.notify must be a non-empty string (a role, or "owner")`);
  });
}

function stepOf(step: Record<string, unknown>): SlaEscalationStep {
  return { name: step['name'] as string, kind: step['kind'] as SlaKind, atPercent: step['atPercent'] as number, notify: step['notify'] as string };
}

/**
 * Checks a policy read from configuration (SLA_POLICY_FILE). Throws a plain Error that names every
 * problem, so a bad file stops the process at start-up with a message an operator can act on.
 */
export function validateSlaPolicy(input: unknown): SlaPolicy {
  const checked = checkSlaPolicy(input);
  if (checked.policy) return checked.policy;
  throw new Error(`SLA policy: ${checked.problems.map((p) => p.message).join('; ')}`);
}

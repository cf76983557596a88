import { daysToMilliseconds, parseInstant } from '../shared/instant';
import { CONTACT_PURPOSES } from '../shared/types';
import type { Channel, ContactPurpose, Direction } from '../shared/types';
import type { ContactPreferences, OutboundContact } from './customer-state';

/**
 * The contact-frequency policy of docs/event-catalogue.md ("Contact policy"). Versioned because
 * a refusal must be explainable later by the rule that was in force.
 */
export interface ContactCapPolicy {
  version: string;
  /** Length of the rolling window, ending at the contact's occurredAt (inclusive), in days. */
  windowDays: number;
  /** Outbound contacts of any purpose per window when the customer has no preference of their own. */
  defaultMaxOutbound: number;
  /** Outbound contacts of one purpose per window; purposes not listed have no cap of their own. */
  purposeLimits: Partial<Record<ContactPurpose, number>>;
}

export const DEFAULT_CONTACT_CAP_POLICY: ContactCapPolicy = {
  version: 'contact-cap-2026-01',
  windowDays: 7,
  defaultMaxOutbound: 3,
  purposeLimits: { marketing: 2 },
};

export type ContactCapRule = 'do-not-contact' | 'channel-not-permitted' | 'rolling-7-day-cap' | 'purpose-cap';

export const CONTACT_CAP_RULES: readonly ContactCapRule[] = [
  'do-not-contact',
  'channel-not-permitted',
  'purpose-cap',
  'rolling-7-day-cap',
];

export type ProposedContact = {
  direction: Direction;
  channel: Channel;
  purpose: ContactPurpose;
  occurredAt: string;
  /** True when the contact names a complaint of this customer that is filed and not closed. */
  linkedToOpenComplaint: boolean;
};

export type ContactDecision =
  | { allowed: true }
  | { allowed: false; rule: ContactCapRule; message: string; details: Record<string, unknown> };

/** Purposes a do-not-contact preference blocks (support and complaint replies are not blocked). */
const DO_NOT_CONTACT_PURPOSES: readonly ContactPurpose[] = ['sales', 'marketing'];
/** Purposes restricted to the customer's permitted channels. */
const CHANNEL_RESTRICTED_PURPOSES: readonly ContactPurpose[] = ['sales', 'marketing', 'follow-up'];

/**
 * Applies the catalogue's rules in order; the first that refuses wins. `outboundContacts` may hold
 * every outbound contact of the customer: only those in the window are counted. Exempt contacts
 * (linked to an open complaint) are counted too: the customer was contacted all the same.
 */
export function evaluateOutboundContact(
  policy: ContactCapPolicy,
  preferences: ContactPreferences,
  outboundContacts: readonly OutboundContact[],
  contact: ProposedContact,
): ContactDecision {
  // The customer called us: never refused.
  if (contact.direction === 'inbound') return { allowed: true };

  // 1. Support must be able to answer an open complaint.
  if (contact.linkedToOpenComplaint) return { allowed: true };

  const base = { policyVersion: policy.version, purpose: contact.purpose, channel: contact.channel };

  // 2. do-not-contact
  if (preferences.doNotContact && DO_NOT_CONTACT_PURPOSES.includes(contact.purpose)) {
    return {
      allowed: false,
      rule: 'do-not-contact',
      message: `the customer asked not to be contacted for ${contact.purpose}`,
      details: base,
    };
  }

  // 3. channel-not-permitted
  if (
    preferences.channels.length > 0 &&
    CHANNEL_RESTRICTED_PURPOSES.includes(contact.purpose) &&
    !preferences.channels.includes(contact.channel)
  ) {
    return {
      allowed: false,
      rule: 'channel-not-permitted',
      message: `the customer does not accept ${contact.purpose} contacts by ${contact.channel}`,
      details: { ...base, permittedChannels: [...preferences.channels] },
    };
  }

  const end = parseInstant(contact.occurredAt, 'occurredAt').getTime();
  const start = end - daysToMilliseconds(policy.windowDays);
  const inWindow = outboundContacts.filter((earlier) => {
    const at = parseInstant(earlier.occurredAt, 'occurredAt').getTime();
    return at > start && at <= end;
  });
  const windowStart = new Date(start).toISOString();

  // 4. purpose-cap
  const purposeLimit = policy.purposeLimits[contact.purpose];
  if (purposeLimit !== undefined) {
    const count = inWindow.filter((earlier) => earlier.purpose === contact.purpose).length;
    if (count >= purposeLimit) {
      return {
        allowed: false,
        rule: 'purpose-cap',
        message: `${count} outbound ${contact.purpose} contacts in the ${policy.windowDays} days before this one (limit ${purposeLimit})`,
        details: { ...base, limit: purposeLimit, count, windowDays: policy.windowDays, windowStart },
      };
    }
  }

  // 5. rolling-7-day-cap: the customer's own preference overrides the policy default, either way.
  const ownLimit = preferences.maxContactsPer7Days;
  const limit = ownLimit ?? policy.defaultMaxOutbound;
  const count = inWindow.length;
  if (count >= limit) {
    return {
      allowed: false,
      rule: 'rolling-7-day-cap',
      message: `${count} outbound contacts in the ${policy.windowDays} days before this one (limit ${limit})`,
      details: {
        ...base,
        limit,
        limitSource: ownLimit === null ? 'policy-default' : 'customer-preference',
        count,
        windowDays: policy.windowDays,
        windowStart,
      },
    };
  }

  return { allowed: true };
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isContactPurpose(value: string): value is ContactPurpose {
  return (CONTACT_PURPOSES as readonly string[]).includes(value);
}

/** Checks a policy read from configuration; throws a plain Error naming every problem. */
export function validateContactCapPolicy(input: unknown): ContactCapPolicy {
  if (!isRecord(input)) throw new Error('contact cap policy: expected an object');
  const problems: string[] = [];
  const { version, windowDays, defaultMaxOutbound } = input;
  const rawLimits = input.purposeLimits ?? {};
  if (typeof version !== 'string' || version.trim() === '') problems.push('version must be a non-empty string');
  if (!isNonNegativeInteger(windowDays) || windowDays === 0) problems.push('windowDays must be a positive integer');
  if (!isNonNegativeInteger(defaultMaxOutbound)) problems.push('defaultMaxOutbound must be a non-negative integer');
  const purposeLimits: Partial<Record<ContactPurpose, number>> = {};
  if (!isRecord(rawLimits)) {
    problems.push('purposeLimits must be an object');
  } else {
    for (const [purpose, limit] of Object.entries(rawLimits)) {
      if (!isContactPurpose(purpose)) {
        problems.push(`purposeLimits.${purpose}: unknown purpose (expected one of ${CONTACT_PURPOSES.join(', ')})`);
      } else if (!isNonNegativeInteger(limit)) {
        problems.push(`purposeLimits.${purpose} must be a non-negative integer`);
      } else {
        purposeLimits[purpose] = limit;
      }
    }
  }
  if (
    problems.length > 0 ||
    typeof version !== 'string' ||
    !isNonNegativeInteger(windowDays) ||
    !isNonNegativeInteger(defaultMaxOutbound)
  ) {
    throw new Error(`contact cap policy: ${problems.join('; ')}`);
  }
  return { version, windowDays, defaultMaxOutbound, purposeLimits };
}

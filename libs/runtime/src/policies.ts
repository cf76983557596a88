import { readFileSync } from 'node:fs';
import {
  DEFAULT_CONTACT_CAP_POLICY,
  DEFAULT_SLA_POLICY,
  makeComplaintDecider,
  makeCustomerDecider,
  orderDecider,
  SLA_POLICIES_STREAM,
  validateSlaPolicy,
  type ContactCapPolicy,
  type SlaPolicy,
} from '@crm/domain';
import type { EventStore } from '@crm/event-store';
import type { AppConfig } from './config';
import { StreamPolicyBook } from './versioned-policy-book';

export const CUSTOMER_DECIDER = Symbol('CustomerDecider');
export const COMPLAINT_DECIDER = Symbol('ComplaintDecider');
export const ORDER_DECIDER = Symbol('OrderDecider');
/** The configured SLA policy (SLA_POLICY_FILE or the default): the one in force only while none is published. */
export const SLA_POLICY = Symbol('SlaPolicy');
/** The SLA policies of the `sla-policies` stream over the configured one (SlaPolicyStreamBook). */
export const SLA_POLICY_BOOK = Symbol('SlaPolicyBook');
/** Decides PublishSlaPolicy (PUT /sla/policies). */
export const SLA_POLICY_DECIDER = Symbol('SlaPolicyDecider');

export type CustomerDecider = ReturnType<typeof makeCustomerDecider>;
export type ComplaintDecider = ReturnType<typeof makeComplaintDecider>;
export type OrderDecider = typeof orderDecider;

export function loadSlaPolicy(config: Pick<AppConfig, 'slaPolicyFile'>): SlaPolicy {
  if (!config.slaPolicyFile) return DEFAULT_SLA_POLICY;
  return validateSlaPolicy(JSON.parse(readFileSync(config.slaPolicyFile, 'utf8')) as unknown);
}

export type SlaPolicyStreamBook = StreamPolicyBook<SlaPolicy>;

/** A log with nothing published, for callers that have no event store (unit tests, tools): the configured policy only. */
const NOTHING_PUBLISHED: Pick<EventStore, 'readStream'> = { readStream: () => Promise.resolve([]) };

/** The SLA policy book of this process: the configured policy, then every version published to `sla-policies`. */
export function slaPolicyBook(configured: SlaPolicy, events: Pick<EventStore, 'readStream'> = NOTHING_PUBLISHED): SlaPolicyStreamBook {
  return new StreamPolicyBook(events, SLA_POLICIES_STREAM, 'SlaPolicyPublished', configured);
}

function isContactCapPolicy(v: unknown): v is ContactCapPolicy {
  const p = v as Partial<ContactCapPolicy> | null;
  return (
    typeof p === 'object' && p !== null && typeof p.version === 'string' && Number.isInteger(p.windowDays) &&
    Number.isInteger(p.defaultMaxOutbound) && typeof p.purposeLimits === 'object' && p.purposeLimits !== null
  );
}

export function loadContactPolicy(config: Pick<AppConfig, 'contactPolicyFile'>): ContactCapPolicy {
  if (!config.contactPolicyFile) return DEFAULT_CONTACT_CAP_POLICY;
  const parsed: unknown = JSON.parse(readFileSync(config.contactPolicyFile, 'utf8'));
  if (!isContactCapPolicy(parsed)) {
    throw new Error(`${config.contactPolicyFile}: needs version, windowDays, defaultMaxOutbound, purposeLimits`);
  }
  return parsed;
}

export const LOYALTY_POLICY = Symbol('LoyaltyPolicy');

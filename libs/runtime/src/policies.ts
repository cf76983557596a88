import { readFileSync } from 'node:fs';
import {
  DEFAULT_CONTACT_CAP_POLICY,
  DEFAULT_SLA_POLICY,
  makeComplaintDecider,
  makeCustomerDecider,
  orderDecider,
  validateSlaPolicy,
  type ContactCapPolicy,
  type SlaPolicy,
} from '@crm/domain';
import type { AppConfig } from './config';

export const CUSTOMER_DECIDER = Symbol('CustomerDecider');
export const COMPLAINT_DECIDER = Symbol('ComplaintDecider');
export const ORDER_DECIDER = Symbol('OrderDecider');
export const SLA_POLICY = Symbol('SlaPolicy');

export type CustomerDecider = ReturnType<typeof makeCustomerDecider>;
export type ComplaintDecider = ReturnType<typeof makeComplaintDecider>;
export type OrderDecider = typeof orderDecider;

export function loadSlaPolicy(config: Pick<AppConfig, 'slaPolicyFile'>): SlaPolicy {
  if (!config.slaPolicyFile) return DEFAULT_SLA_POLICY;
  return validateSlaPolicy(JSON.parse(readFileSync(config.slaPolicyFile, 'utf8')) as unknown);
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

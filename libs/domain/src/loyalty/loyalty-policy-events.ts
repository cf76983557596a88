import type { LoyaltyPolicy } from './loyalty-policy';

/** The one stream of loyalty policy versions (docs/event-catalogue.md, "Loyalty policies"). */
export const LOYALTY_POLICY_STREAM = 'loyalty-policies';

/** A whole new policy version, current from the moment it is in the log. */
export type LoyaltyPolicyPublished = {
  type: 'LoyaltyPolicyPublished';
  data: { policy: LoyaltyPolicy; previousVersion: string | null };
};

export type LoyaltyPolicyEvent = LoyaltyPolicyPublished;
export const LOYALTY_POLICY_EVENT_TYPES = ['LoyaltyPolicyPublished'] as const satisfies readonly LoyaltyPolicyEvent['type'][];

/** A validated policy (validateLoyaltyPolicy) to publish as the next version. */
export type PublishLoyaltyPolicy = { type: 'PublishLoyaltyPolicy'; data: { policy: LoyaltyPolicy } };

import type { Decider } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import type { LoyaltyPolicy } from './loyalty-policy';
import type { LoyaltyPolicyEvent, PublishLoyaltyPolicy } from './loyalty-policy-events';

/** The published versions, oldest first. */
export interface LoyaltyPolicyHistory {
  readonly published: readonly LoyaltyPolicy[];
}

export type LoyaltyPolicyDecider = Decider<PublishLoyaltyPolicy, LoyaltyPolicyHistory, LoyaltyPolicyEvent>;

/** The policy in force: the latest published version, else the configured one (while the stream is empty). */
export function currentLoyaltyPolicy(history: LoyaltyPolicyHistory, configured: LoyaltyPolicy): LoyaltyPolicy {
  return history.published[history.published.length - 1] ?? configured;
}

/**
 * Publishing appends a whole version. A version name is never reused, not even the configured policy's: an answer or
 * an audit that names a version must mean one policy (a repeated PUT of the same body is refused, not re-applied).
 */
export function makeLoyaltyPolicyDecider(configured: LoyaltyPolicy): LoyaltyPolicyDecider {
  return {
    initialState: () => ({ published: [] }),
    evolve: (state, event) => ({ published: [...state.published, event.data.policy] }),
    decide(command, state) {
      const { policy } = command.data;
      const taken = [configured, ...state.published].some((p) => p.version === policy.version);
      if (taken) {
        throw new DomainError('loyalty-policy-version-exists', `loyalty policy version ${policy.version} exists already; publish a new version name`, {
          version: policy.version,
        });
      }
      const previous = state.published[state.published.length - 1]?.version ?? null;
      return [{ type: 'LoyaltyPolicyPublished', data: { policy, previousVersion: previous } }];
    },
  };
}

import { DomainError } from '../shared/domain-error';
import type { Decider } from '../shared/decider';

/**
 * Policies as versioned data (issue 16): each policy kind has one stream of `<Kind>PolicyPublished` events, oldest
 * first; the newest is the one in force, every earlier one stays readable by its version (a complaint keeps the SLA
 * policy it was filed under). The configured policy (a file or the built-in default) is in force while the stream is
 * empty, and its version is taken: publishing it again would give one version two meanings.
 *
 * Generic over the policy kind so that the SLA and the loyalty policies share the rules and the store code.
 */
export interface VersionedPolicy {
  readonly version: string;
}

export type PolicyPublished<T extends string, P extends VersionedPolicy> = {
  type: T;
  data: { policy: P; publishedAt: string; publishedBy: string };
};

export type PublishPolicy<T extends string, P extends VersionedPolicy> = {
  type: T;
  /** The policy is validated at the edge; `publishedBy` is the actor id. */
  data: { policy: P; publishedBy: string };
};

export interface PublishedPolicy<P extends VersionedPolicy> {
  readonly policy: P;
  readonly publishedAt: string;
  readonly publishedBy: string;
}

export interface PolicyStreamState<P extends VersionedPolicy> {
  /** Oldest first. */
  readonly published: readonly PublishedPolicy<P>[];
}

export function makeVersionedPolicyDecider<CT extends string, ET extends string, P extends VersionedPolicy>(options: {
  readonly commandType: CT;
  readonly eventType: ET;
  /** Versions that exist without an event: the configured policy's. */
  readonly reservedVersions: readonly string[];
}): Decider<PublishPolicy<CT, P>, PolicyStreamState<P>, PolicyPublished<ET, P>> {
  return {
    initialState: () => ({ published: [] }),
    evolve: (state, event) => ({ published: [...state.published, event.data] }),
    decide: (command, state, now) => {
      const { version } = command.data.policy;
      if (options.reservedVersions.includes(version) || state.published.some((p) => p.policy.version === version)) {
        throw new DomainError('policy-version-exists', `Policy version ${version} exists already; publish a new version`, { version });
      }
      return [{ type: options.eventType, data: { policy: command.data.policy, publishedAt: now.toISOString(), publishedBy: command.data.publishedBy } }];
    },
  };
}

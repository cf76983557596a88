import type { Decider } from '../shared/decider';
import { makeVersionedPolicyDecider } from '../policy/versioned-policy';
import type { PolicyPublished, PolicyStreamState, PublishPolicy } from '../policy/versioned-policy';
import type { SlaPolicy } from './sla-policy';

/** The one stream of published SLA policies (docs/event-catalogue.md, "SLA policies and business calendars"). */
export const SLA_POLICIES_STREAM = 'sla-policies';

export type SlaPolicyPublished = PolicyPublished<'SlaPolicyPublished', SlaPolicy>;
export type PublishSlaPolicy = PublishPolicy<'PublishSlaPolicy', SlaPolicy>;
export type SlaPolicyStreamState = PolicyStreamState<SlaPolicy>;
export type SlaPolicyDecider = Decider<PublishSlaPolicy, SlaPolicyStreamState, SlaPolicyPublished>;

export const SLA_POLICY_EVENT_TYPES = ['SlaPolicyPublished'] as const satisfies readonly SlaPolicyPublished['type'][];

/** `configured`: the policy in force while nothing is published (SLA_POLICY_FILE or the default); its version is taken. */
export function makeSlaPolicyDecider(configured: SlaPolicy): SlaPolicyDecider {
  return makeVersionedPolicyDecider({ commandType: 'PublishSlaPolicy', eventType: 'SlaPolicyPublished', reservedVersions: [configured.version] });
}

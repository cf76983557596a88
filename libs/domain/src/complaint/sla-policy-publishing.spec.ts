import { describe, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import { DEFAULT_SLA_POLICY } from './sla-policy';
import type { SlaPolicy } from './sla-policy';
import { makeSlaPolicyDecider } from './sla-policy-publishing';
import type { PublishSlaPolicy, SlaPolicyPublished } from './sla-policy-publishing';

const spec = DeciderSpecification.for(makeSlaPolicyDecider(DEFAULT_SLA_POLICY));
const NOW = new Date('2027-01-04T08:00:00.000Z');
const policy = (version: string): SlaPolicy => ({ ...DEFAULT_SLA_POLICY, version });
const publish = (version: string): PublishSlaPolicy => ({ type: 'PublishSlaPolicy', data: { policy: policy(version), publishedBy: 'admin-ada' } });
const published = (version: string, publishedAt = '2027-01-02T08:00:00.000Z'): SlaPolicyPublished => ({
  type: 'SlaPolicyPublished', data: { policy: policy(version), publishedAt, publishedBy: 'admin-ada' },
});

describe('PublishSlaPolicy', () => {
  it('publishes a new version, stamped with the time and the actor', () => {
    spec.given([]).when(publish('sla-2027-01'), NOW).then([published('sla-2027-01', NOW.toISOString())]);
  });

  it('publishes a further version after earlier ones', () => {
    spec.given([published('sla-2027-01')]).when(publish('sla-2027-02'), NOW).then([published('sla-2027-02', NOW.toISOString())]);
  });

  it('refuses a version published before', () => {
    spec.given([published('sla-2027-01'), published('sla-2027-02')]).when(publish('sla-2027-01')).thenThrows('policy-version-exists', { version: 'sla-2027-01' });
  });

  it('refuses the configured policy\'s version: complaints filed under it must keep one meaning', () => {
    spec.given([]).when(publish(DEFAULT_SLA_POLICY.version)).thenThrows('policy-version-exists', { version: 'sla-2026-01' });
  });
});

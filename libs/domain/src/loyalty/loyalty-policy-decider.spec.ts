import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '../../test-support/decider-specification';
import { DEFAULT_LOYALTY_POLICY } from './loyalty-policy';
import type { LoyaltyPolicy } from './loyalty-policy';
import { currentLoyaltyPolicy, makeLoyaltyPolicyDecider } from './loyalty-policy-decider';
import type { LoyaltyPolicyPublished, PublishLoyaltyPolicy } from './loyalty-policy-events';
import { validateLoyaltyPolicy } from './loyalty-policy-validation';

const decider = makeLoyaltyPolicyDecider(DEFAULT_LOYALTY_POLICY);
const spec = DeciderSpecification.for(decider);
const v2: LoyaltyPolicy = { ...DEFAULT_LOYALTY_POLICY, version: 'loyalty-2026-02', rates: [{ currency: 'EUR', rate: '0.85', from: '2026-01-01' }] };
const v3: LoyaltyPolicy = { ...v2, version: 'loyalty-2026-03' };
const publish = (policy: LoyaltyPolicy): PublishLoyaltyPolicy => ({ type: 'PublishLoyaltyPolicy', data: { policy } });
const published = (policy: LoyaltyPolicy, previousVersion: string | null): LoyaltyPolicyPublished => ({
  type: 'LoyaltyPolicyPublished', data: { policy, previousVersion },
});

describe('PublishLoyaltyPolicy', () => {
  it('given nothing published, when a version is published, then it is the first (no previous version)', () => {
    spec.given([]).when(publish(v2)).then([published(v2, null)]);
  });

  it('given a published version, when a newer one is published, then it names the version it supersedes', () => {
    spec.given([published(v2, null)]).when(publish(v3)).then([published(v3, 'loyalty-2026-02')]);
  });

  it('given a published version, when the same version name is published again, then it is refused', () => {
    spec.given([published(v2, null)]).when(publish({ ...v2, pointsPerUnit: 2 })).thenThrows('loyalty-policy-version-exists', { version: 'loyalty-2026-02' });
  });

  it('refuses the configured policy’s version name too: a version names one policy', () => {
    spec.given([]).when(publish({ ...v2, version: DEFAULT_LOYALTY_POLICY.version })).thenThrows('loyalty-policy-version-exists');
  });

  it('makes the latest published version current, and the configured one while nothing is published', () => {
    expect(currentLoyaltyPolicy(decider.initialState(), DEFAULT_LOYALTY_POLICY)).toBe(DEFAULT_LOYALTY_POLICY);
    const state = [published(v2, null), published(v3, 'loyalty-2026-02')].reduce(decider.evolve, decider.initialState());
    expect(currentLoyaltyPolicy(state, DEFAULT_LOYALTY_POLICY)).toEqual(v3);
  });
});

describe('validateLoyaltyPolicy', () => {
  const body = { version: 'loyalty-2027', currency: 'GBP', pointsPerUnit: 1, tiers: [{ name: 'bronze', minPoints: 0 }], rates: [{ currency: 'EUR', rate: '0.85', from: '2026-01-01' }] };
  const fieldsOf = (input: unknown): string[] => {
    const result = validateLoyaltyPolicy(input);
    return result.ok ? [] : result.errors.map((e) => e.field);
  };

  it('accepts a whole version and keeps only its fields', () => {
    expect(validateLoyaltyPolicy(body)).toEqual({ ok: true, policy: body });
  });

  it('names each invalid field', () => {
    expect(fieldsOf({ ...body, version: ' ' })).toEqual(['version']);
    expect(fieldsOf({ ...body, currency: 'gbp' })).toEqual(['currency']);
    expect(fieldsOf({ ...body, pointsPerUnit: 0 })).toEqual(['pointsPerUnit']);
    expect(fieldsOf({ ...body, pointsPerUnit: 0.0005 })).toEqual(['pointsPerUnit']);
    expect(fieldsOf({ ...body, pointsPerUnit: 1.005 })).toEqual([]);
    expect(fieldsOf({ ...body, tiers: [{ name: 'silver', minPoints: 5 }] })).toEqual(['tiers[0].minPoints']);
    expect(fieldsOf({ ...body, tiers: [{ name: 'a', minPoints: 0 }, { name: 'b', minPoints: 0 }] })).toEqual(['tiers[1].minPoints']);
    expect(fieldsOf({ ...body, rates: [{ currency: 'EUR', rate: 0.85, from: '2026-01-01' }] })).toEqual(['rates[0].rate']);
    expect(fieldsOf({ ...body, rates: [{ currency: 'EUR', rate: '0', from: '2026-01-01' }] })).toEqual(['rates[0].rate']);
    expect(fieldsOf({ ...body, rates: [{ currency: 'EUR', rate: '-0.85', from: '2026-01-01' }] })).toEqual(['rates[0].rate']);
    expect(fieldsOf({ ...body, rates: [{ currency: 'EUR', rate: '0.85', from: '2026-02-30' }] })).toEqual(['rates[0].from']);
    expect(fieldsOf({ ...body, rates: [{ currency: 'GBP', rate: '1', from: '2026-01-01' }] })).toEqual(['rates[0].currency']);
    expect(fieldsOf({ ...body, rates: [body.rates[0], body.rates[0]] })).toEqual(['rates[1]']);
    expect(fieldsOf({ ...body, rates: undefined })).toEqual(['rates']);
    expect(fieldsOf({ ...body, publishedAt: 'x' })).toEqual(['publishedAt']);
    expect(fieldsOf([])).toEqual(['(body)']);
  });
});

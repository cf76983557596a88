import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CONTACT_CAP_POLICY, evaluateOutboundContact, validateContactCapPolicy } from './contact-cap-policy';
import type { ProposedContact } from './contact-cap-policy';
import { DEFAULT_CONTACT_PREFERENCES } from './customer-state';
import type { OutboundContact } from './customer-state';

const at = '2026-03-10T12:00:00.000Z';
const contact = (overrides: Partial<ProposedContact> = {}): ProposedContact => ({
  direction: 'outbound',
  channel: 'phone',
  purpose: 'sales',
  occurredAt: at,
  linkedToOpenComplaint: false,
  ...overrides,
});
const earlier = (occurredAt: string, purpose: OutboundContact['purpose'] = 'sales'): OutboundContact => ({ occurredAt, purpose });

describe('evaluateOutboundContact', () => {
  it('is the default policy of the catalogue', () => {
    expect(DEFAULT_CONTACT_CAP_POLICY).toEqual({
      version: 'contact-cap-2026-01',
      windowDays: 7,
      defaultMaxOutbound: 3,
      purposeLimits: { marketing: 2 },
    });
  });

  it('allows a first contact', () => {
    expect(evaluateOutboundContact(DEFAULT_CONTACT_CAP_POLICY, DEFAULT_CONTACT_PREFERENCES, [], contact())).toEqual({ allowed: true });
  });

  it('allows any inbound contact', () => {
    const preferences = { maxContactsPer7Days: 0, doNotContact: true, channels: ['email' as const] };
    expect(evaluateOutboundContact(DEFAULT_CONTACT_CAP_POLICY, preferences, [], contact({ direction: 'inbound' }))).toEqual({ allowed: true });
  });

  it('says which rule refused, with a message for people', () => {
    const decision = evaluateOutboundContact(
      DEFAULT_CONTACT_CAP_POLICY,
      DEFAULT_CONTACT_PREFERENCES,
      [earlier('2026-03-09T12:00:00.000Z', 'marketing'), earlier('2026-03-08T12:00:00.000Z', 'marketing')],
      contact({ purpose: 'marketing' }),
    );
    expect(decision).toEqual({
      allowed: false,
      rule: 'purpose-cap',
      message: '2 outbound marketing contacts in the 7 days before this one (limit 2)',
      details: {
        policyVersion: 'contact-cap-2026-01',
        purpose: 'marketing',
        channel: 'phone',
        limit: 2,
        count: 2,
        windowDays: 7,
        windowStart: '2026-03-03T12:00:00.000Z',
      },
    });
  });

  it('a purpose limit of 0 refuses that purpose entirely', () => {
    const policy = { ...DEFAULT_CONTACT_CAP_POLICY, purposeLimits: { sales: 0 } };
    expect(evaluateOutboundContact(policy, DEFAULT_CONTACT_PREFERENCES, [], contact())).toMatchObject({ allowed: false, rule: 'purpose-cap' });
  });
});

describe('validateContactCapPolicy', () => {
  it('accepts the default policy and returns a clean copy', () => {
    expect(validateContactCapPolicy(JSON.parse(JSON.stringify(DEFAULT_CONTACT_CAP_POLICY)))).toEqual(DEFAULT_CONTACT_CAP_POLICY);
  });

  it('names every problem', () => {
    expect(() =>
      validateContactCapPolicy({ version: '', windowDays: 0, defaultMaxOutbound: -1, purposeLimits: { spam: 1, sales: 1.5 } }),
    ).toThrow(
      'contact cap policy: version must be a non-empty string; windowDays must be a positive integer; defaultMaxOutbound must be a non-negative integer; purposeLimits.spam: unknown purpose (expected one of sales, support, follow-up, marketing, complaint); purposeLimits.sales must be a non-negative integer',
    );
  });

  it('refuses something that is not an object', () => {
    expect(() => validateContactCapPolicy('contact-cap-2026-01')).toThrow('contact cap policy: expected an object');
  });
});

import { describe, expect, it } from '@jest/globals';
import type { Priority } from '../shared/types';
import { DEFAULT_SLA_POLICY, computeReopenedResolutionDueAt, computeSlaDeadlines } from './sla-policy';
import { validateSlaPolicy } from './sla-policy-validation';

describe('SLA policy', () => {
  it('defaults to the catalogue targets (minutes)', () => {
    expect(DEFAULT_SLA_POLICY).toEqual({
      version: 'sla-2026-01',
      targets: {
        P1: { firstResponseMinutes: 60, resolutionMinutes: 240 },
        P2: { firstResponseMinutes: 240, resolutionMinutes: 1440 },
        P3: { firstResponseMinutes: 480, resolutionMinutes: 4320 },
        P4: { firstResponseMinutes: 1440, resolutionMinutes: 10080 },
      },
    });
  });

  it.each([
    ['P1', '2026-03-02T10:00:00.000Z', '2026-03-02T13:00:00.000Z'],
    ['P2', '2026-03-02T13:00:00.000Z', '2026-03-03T09:00:00.000Z'],
    ['P3', '2026-03-02T17:00:00.000Z', '2026-03-05T09:00:00.000Z'],
    ['P4', '2026-03-03T09:00:00.000Z', '2026-03-09T09:00:00.000Z'],
  ] satisfies [Priority, string, string][])('computes %s deadlines from the filing time', (priority, firstResponseDueAt, resolutionDueAt) => {
    expect(computeSlaDeadlines(DEFAULT_SLA_POLICY, priority, new Date('2026-03-02T09:00:00.000Z'))).toEqual({
      policyVersion: 'sla-2026-01',
      firstResponseDueAt,
      resolutionDueAt,
    });
  });

  it('computes a reopened resolution deadline from the reopen time', () => {
    expect(computeReopenedResolutionDueAt(DEFAULT_SLA_POLICY, 'P1', new Date('2026-03-02T22:30:00.000Z'))).toBe('2026-03-03T02:30:00.000Z');
  });

  describe('validateSlaPolicy', () => {
    it('accepts a policy read from JSON and keeps only its known fields', () => {
      const fromFile: unknown = JSON.parse(JSON.stringify({ ...DEFAULT_SLA_POLICY, description: 'ops 2026' }));
      expect(validateSlaPolicy(fromFile)).toEqual(DEFAULT_SLA_POLICY);
    });

    it('names every problem', () => {
      const broken = {
        version: '',
        targets: {
          P1: { firstResponseMinutes: 60, resolutionMinutes: 30 },
          P2: { firstResponseMinutes: '240', resolutionMinutes: 1440 },
          P3: { firstResponseMinutes: 480, resolutionMinutes: -1 },
          P5: { firstResponseMinutes: 1, resolutionMinutes: 2 },
        },
      };
      expect(() => validateSlaPolicy(broken)).toThrow(
        'SLA policy: version must be a non-empty string; targets.P5: unknown priority (expected P1, P2, P3, P4); ' +
          'targets.P1: firstResponseMinutes must not exceed resolutionMinutes; ' +
          'targets.P2.firstResponseMinutes must be a positive integer, got "240"; ' +
          'targets.P3.resolutionMinutes must be a positive integer, got -1; targets.P4 is missing',
      );
    });

    it.each([null, [], 'sla-2026-01', 42])('refuses %p', (input) => {
      expect(() => validateSlaPolicy(input)).toThrow('SLA policy: expected an object { version, targets }');
    });

    it('refuses a policy without targets', () => {
      expect(() => validateSlaPolicy({ version: 'v1' })).toThrow('SLA policy: targets must be an object with P1, P2, P3, P4');
    });
  });
});

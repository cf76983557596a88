import { describe, expect, it } from '@jest/globals';
import {
  complaintFiled, contactLogged, customerRegistered, followUpScheduled, history, money, project, purchaseRecorded, returnRecorded,
} from '../../test-support/project';
import { CUSTOMER_PROFILES, customerProfilesProjection, type ProfileDoc } from './customer-profiles.projection';
import { LOYALTY, loyaltyProjection, type LoyaltyDoc } from './loyalty.projection';
import { combineLoyalty, combineProfiles } from './merged-views';

/** Money compared by value: a sum's scale is the largest of its parts', so it depends on the order they were added in. */
function byValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(byValue);
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  if (typeof o['amount'] === 'number' && typeof o['scale'] === 'number' && typeof o['currency'] === 'string') {
    return { currency: o['currency'], amount: o['amount'] * 10 ** (4 - o['scale']), scale: 4 };
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, byValue(v)]));
}

describe('combineLoyalty (a survivor\'s loyalty with its duplicates\' orders)', () => {
  it('equals the document of one customer who placed every order, whatever the scales and currencies', () => {
    const split = project(loyaltyProjection, history(
      purchaseRecorded('2026-03-01T10:00:00.000Z', money(1250, 2), { customerId: 'surv', orderId: 'o-1' }),
      purchaseRecorded('2026-03-03T10:00:00.000Z', money(1, 3), { customerId: 'dup', orderId: 'o-2' }),
      purchaseRecorded('2026-02-20T10:00:00.000Z', money(900, 2, 'EUR'), { customerId: 'dup', orderId: 'o-3' }),
      returnRecorded('2026-03-04T10:00:00.000Z', money(250, 2), { customerId: 'dup', orderId: 'o-2' }),
    ));
    const together = project(loyaltyProjection, history(
      purchaseRecorded('2026-03-01T10:00:00.000Z', money(1250, 2), { customerId: 'surv', orderId: 'o-1' }),
      purchaseRecorded('2026-03-03T10:00:00.000Z', money(1, 3), { customerId: 'surv', orderId: 'o-2' }),
      purchaseRecorded('2026-02-20T10:00:00.000Z', money(900, 2, 'EUR'), { customerId: 'surv', orderId: 'o-3' }),
      returnRecorded('2026-03-04T10:00:00.000Z', money(250, 2), { customerId: 'surv', orderId: 'o-2' }),
    ));
    const combined = combineLoyalty('surv', [split.get(LOYALTY, 'surv'), split.get(LOYALTY, 'dup')] as LoyaltyDoc[]);
    const { _id: _a, _position: _b, ...expected } = together.get(LOYALTY, 'surv') as LoyaltyDoc;
    const { _id: _c, _position: _d, ...actual } = combined as LoyaltyDoc;
    expect(byValue(actual)).toEqual(byValue(expected));
  });

  it('is the duplicate\'s document under the survivor\'s id when only the duplicate bought', () => {
    const docs = project(loyaltyProjection, history(purchaseRecorded('2026-03-01T10:00:00.000Z', money(500, 2), { customerId: 'dup', orderId: 'o-1' })));
    expect(combineLoyalty('surv', [docs.get(LOYALTY, 'dup') as LoyaltyDoc])).toMatchObject({ customerId: 'surv', orderCount: 1 });
    expect(combineLoyalty('surv', [])).toBeNull();
  });
});

describe('combineProfiles (a survivor\'s profile with its duplicates\' history)', () => {
  it('keeps the survivor\'s identity and adds the duplicates\' complaints, contacts and follow-ups', () => {
    const docs = project(customerProfilesProjection, history(
      customerRegistered('2026-03-01T09:00:00.000Z', { customerId: 'surv', name: 'Samuel Vimes' }),
      customerRegistered('2026-03-01T09:00:00.000Z', { customerId: 'dup', name: 'Sam Vimes' }),
      contactLogged('2026-03-02T09:00:00.000Z', { customerId: 'surv', contactId: 'k-1' }),
      contactLogged('2026-03-03T09:00:00.000Z', { customerId: 'dup', contactId: 'k-2' }),
      complaintFiled('2026-03-02T10:00:00.000Z', { customerId: 'dup', complaintId: 'c-1' }),
      followUpScheduled('2026-03-02T11:00:00.000Z', { customerId: 'dup', followUpId: 'fu-1' }),
    ));
    const surv = docs.get(CUSTOMER_PROFILES, 'surv') as ProfileDoc;
    const combined = combineProfiles(surv, [docs.get(CUSTOMER_PROFILES, 'dup') as ProfileDoc]);
    expect(combined).toMatchObject({ customerId: 'surv', name: 'Samuel Vimes', openComplaintCount: 1, lastContact: { contactId: 'k-2' } });
    expect(combined.complaints.map((c) => c.complaintId)).toEqual(['c-1']);
    expect(combined.recentContacts).toHaveLength(2);
    expect(combined.openFollowUps.map((f) => f.followUpId)).toEqual(['fu-1']);
    expect(combineProfiles(surv, [])).toBe(surv);
  });
});

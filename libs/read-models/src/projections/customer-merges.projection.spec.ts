import { describe, expect, it } from '@jest/globals';
import { customerMerge, customerRegistered, customerUnmerge, history, project } from '../../test-support/project';
import { CUSTOMER_MERGES, customerMergesProjection } from './customer-merges.projection';

const T0 = '2026-03-01T09:00:00.000Z';
const T1 = '2026-03-02T09:00:00.000Z';
const T2 = '2026-03-03T09:00:00.000Z';

const registrations = [
  customerRegistered(T0, { customerId: 'surv' }),
  customerRegistered(T0, { customerId: 'dup-1' }),
  customerRegistered(T0, { customerId: 'dup-2' }),
];

describe('customer_merges (the alias map)', () => {
  it('lists a survivor\'s duplicates and names each duplicate\'s survivor', () => {
    const docs = project(customerMergesProjection, history(...registrations, ...customerMerge(T1, 'surv', 'dup-1'), ...customerMerge(T1, 'surv', 'dup-2')));
    expect(docs.get(CUSTOMER_MERGES, 'surv')).toMatchObject({ customerId: 'surv', mergedInto: null, duplicates: ['dup-1', 'dup-2'] });
    expect(docs.get(CUSTOMER_MERGES, 'dup-1')).toMatchObject({ customerId: 'dup-1', mergedInto: 'surv', duplicates: [] });
  });

  it('keeps no alias for a merge only half done (the duplicate\'s step without the survivor\'s)', () => {
    const [dupStep] = customerMerge(T1, 'surv', 'dup-1');
    const docs = project(customerMergesProjection, history(...registrations, dupStep!));
    expect(docs.all(CUSTOMER_MERGES)).toEqual([]);
  });

  it('leaves no document once every merge is undone', () => {
    const docs = project(customerMergesProjection, history(
      ...registrations, ...customerMerge(T1, 'surv', 'dup-1'), ...customerMerge(T1, 'surv', 'dup-2'), ...customerUnmerge(T2, 'surv', 'dup-1'),
    ));
    expect(docs.get(CUSTOMER_MERGES, 'dup-1')).toBeNull();
    expect(docs.get(CUSTOMER_MERGES, 'surv')).toMatchObject({ duplicates: ['dup-2'] });
    expect(docs.apply(history(...customerUnmerge(T2, 'surv', 'dup-2')).map((e, i) => ({ ...e, position: 100 + i }))).all(CUSTOMER_MERGES)).toEqual([]);
  });
});

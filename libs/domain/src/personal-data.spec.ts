import { describe, expect, it } from '@jest/globals';
import { mapPersonalData, redactPersonalData, REDACTED } from './personal-data';

describe('personal data', () => {
  it('redacts identity and free text, keeps everything else', () => {
    expect(redactPersonalData('CustomerRegistered', { customerId: 'c', kind: 'customer', name: 'Zoë', email: 'z@x.io', ownerId: 'a' }))
      .toEqual({ customerId: 'c', kind: 'customer', name: REDACTED, email: REDACTED, ownerId: 'a' });
    expect(redactPersonalData('CustomerProfileChanged', { customerId: 'c', changes: { phone: '+1 555', email: null } }))
      .toEqual({ customerId: 'c', changes: { phone: REDACTED, email: null } });
    expect(redactPersonalData('ContactLogged', { channel: 'phone', summary: 'talked about her divorce', outcome: 'ok' }))
      .toEqual({ channel: 'phone', summary: REDACTED, outcome: 'ok' });
    expect(redactPersonalData('PurchaseRecorded', { total: { amount: 1 } })).toEqual({ total: { amount: 1 } });
  });

  it('never changes its input', () => {
    const data = { name: 'Zoë' };
    redactPersonalData('CustomerRegistered', data);
    expect(data).toEqual({ name: 'Zoë' });
  });

  it('maps nested personal fields that hold a value, copying only along their paths', () => {
    const lines = [{ sku: 'A' }];
    const data = { customerId: 'c-1', changes: { name: 'Zoë', email: null, kind: 'customer' }, lines };
    const mapped = mapPersonalData('CustomerProfileChanged', data, (v) => `<${String(v)}>`) as typeof data;
    expect(mapped).toEqual({ customerId: 'c-1', changes: { name: '<Zoë>', email: null, kind: 'customer' }, lines });
    expect(mapped.lines).toBe(lines); // untouched parts are shared, not copied
    expect(data.changes.name).toBe('Zoë');
    expect(mapPersonalData('PurchaseRecorded', data, () => 'x')).toBe(data); // no personal fields: the same object
  });
});

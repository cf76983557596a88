import { describe, expect, it } from '@jest/globals';
import { redactPersonalData, REDACTED } from './personal-data';

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
});

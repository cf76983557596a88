import { describe, expect, it } from '@jest/globals';
import { mapPersonalData, mapPersonalDataLazily, redactPersonalData, REDACTED } from './personal-data';

describe('personal data', () => {
  it('redacts identity and free text, keeps everything else', () => {
    expect(redactPersonalData('CustomerRegistered', { customerId: 'c', kind: 'customer', name: 'Zoë', email: 'z@x.io', ownerId: 'a' }))
      .toEqual({ customerId: 'c', kind: 'customer', name: REDACTED, email: REDACTED, ownerId: 'a' });
    expect(redactPersonalData('CustomerProfileChanged', { customerId: 'c', changes: { phone: '+1 555', email: null } }))
      .toEqual({ customerId: 'c', changes: { phone: REDACTED, email: null } });
    expect(redactPersonalData('ContactLogged', { channel: 'phone', summary: 'talked about her divorce', outcome: 'ok' }))
      .toEqual({ channel: 'phone', summary: REDACTED, outcome: REDACTED });
    expect(redactPersonalData('PurchaseRecorded', { total: { amount: 1 } })).toEqual({ total: { amount: 1 } });
  });

  // Free text written about a customer can name them (DESIGN §7): an outcome, a reason, a category typed by an agent.
  it.each([
    ['ContactLogged', { purpose: 'support', summary: 's', outcome: 'o' }, { purpose: 'support', summary: REDACTED, outcome: REDACTED }],
    ['CustomerOwnerAssigned', { ownerId: 'a', reason: 'r' }, { ownerId: 'a', reason: REDACTED }],
    ['ComplaintOwnerChanged', { ownerId: 'a', reason: 'r' }, { ownerId: 'a', reason: REDACTED }],
    ['ComplaintFiled', { priority: 'P1', channel: 'phone', category: 'c', description: 'd' }, { priority: 'P1', channel: 'phone', category: REDACTED, description: REDACTED }],
    ['ReturnRecorded', { reason: 'r', lines: [{ sku: 'A', quantity: 1 }] }, { reason: REDACTED, lines: [{ sku: 'A', quantity: 1 }] }],
    [
      'PurchaseRecorded',
      { lines: [{ sku: 'A', description: 'd1', quantity: 1 }, { sku: 'B', quantity: 2 }, { sku: 'C', description: null }] },
      { lines: [{ sku: 'A', description: REDACTED, quantity: 1 }, { sku: 'B', quantity: 2 }, { sku: 'C', description: null }] },
    ],
  ])('%s: every free-text field is personal, codes are not', (type, data, redacted) => {
    expect(redactPersonalData(type, data)).toEqual(redacted);
  });

  it('walks every element of an array path, copying only the elements it maps', () => {
    const plain = { sku: 'B', quantity: 2 };
    const data = { customerId: 'c', total: { amount: 3 }, lines: [{ sku: 'A', description: 'mug' }, plain] };
    const mapped = mapPersonalData('PurchaseRecorded', data, (v) => `<${String(v)}>`) as typeof data;
    expect(mapped.lines).toEqual([{ sku: 'A', description: '<mug>' }, plain]);
    expect(mapped.lines[1]).toBe(plain);
    expect(mapped.total).toBe(data.total);
    expect(data.lines[0]).toEqual({ sku: 'A', description: 'mug' });
    const none = { lines: [{ sku: 'A' }] };
    expect(mapPersonalData('PurchaseRecorded', none, () => 'x')).toBe(none); // nothing to map: the same object
    expect(mapPersonalData('PurchaseRecorded', { lines: 'not a list' }, () => 'x')).toEqual({ lines: 'not a list' });
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
    expect(mapPersonalData('SlaBreached', data, () => 'x')).toBe(data); // no personal fields: the same object
  });

  describe('lazily', () => {
    const data = { customerId: 'c-1', changes: { name: 'Zoë', email: null, phone: '+1 555', kind: 'customer' } };

    it('maps a field only when it is read, once, and never the ones nobody reads', () => {
      const seen: unknown[] = [];
      const mapped = mapPersonalDataLazily('CustomerProfileChanged', data, (v) => {
        seen.push(v);
        return `<${String(v)}>`;
      }) as typeof data;
      expect(seen).toEqual([]);
      expect(mapped.changes.name).toBe('<Zoë>');
      expect(mapped.changes.name).toBe('<Zoë>');
      expect(seen).toEqual(['Zoë']);
      expect(mapped.customerId).toBe('c-1');
      expect(seen).toEqual(['Zoë']);
    });

    it('serializes and compares exactly like the eager mapping (same keys, order and values), input untouched', () => {
      const fn = (v: unknown): string => `<${String(v)}>`;
      const lazy = mapPersonalDataLazily('CustomerProfileChanged', data, fn);
      const eager = mapPersonalData('CustomerProfileChanged', data, fn);
      expect(JSON.stringify(lazy)).toBe(JSON.stringify(eager));
      expect(lazy).toEqual(eager);
      expect(structuredClone(lazy)).toEqual(eager);
      expect({ ...(lazy as object) }).toEqual(eager);
      expect(data.changes.name).toBe('Zoë');
      expect(mapPersonalDataLazily('SlaBreached', data, fn)).toBe(data);
    });

    it('opens each element of an array path on its own, and serializes like the eager mapping', () => {
      const data = { customerId: 'c', lines: [{ sku: 'A', description: 'mug' }, { sku: 'B' }, { sku: 'C', description: 'lid' }] };
      const seen: unknown[] = [];
      const fn = (v: unknown): string => {
        seen.push(v);
        return `<${String(v)}>`;
      };
      const lazy = mapPersonalDataLazily('PurchaseRecorded', data, fn) as typeof data;
      expect(lazy.lines[0]?.sku).toBe('A');
      expect(seen).toEqual([]);
      expect(lazy.lines[2]?.description).toBe('<lid>');
      expect(seen).toEqual(['lid']);
      expect(JSON.stringify(lazy)).toBe(JSON.stringify(mapPersonalData('PurchaseRecorded', data, (v) => `<${String(v)}>`)));
      expect(data.lines[0]?.description).toBe('mug');
    });

    it('keeps an assigned value, and works on a frozen copy', () => {
      const mapped = mapPersonalDataLazily('ContactLogged', { channel: 'phone', summary: 'sealed' }, () => 'opened') as { summary: string };
      mapped.summary = 'replaced';
      expect(mapped.summary).toBe('replaced');
      const frozen = Object.freeze(mapPersonalDataLazily('ContactLogged', { channel: 'phone', summary: 'sealed' }, () => 'opened')) as { summary: string };
      expect(frozen.summary).toBe('opened');
    });

    it('lets a failure surface where the field is read', () => {
      const mapped = mapPersonalDataLazily('ContactLogged', { summary: 'corrupt' }, () => {
        throw new Error('authentication tag mismatch');
      }) as { summary: string };
      expect(() => mapped.summary).toThrow('authentication tag mismatch');
    });
  });
});

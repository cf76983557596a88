import { describe, expect, it } from '@jest/globals';
import { EVENT_UPCASTERS, schemaVersionOf } from './schema-versions';

describe('event schema versions', () => {
  it('writes ContactLogged as v2 and every other type as v1', () => {
    expect(schemaVersionOf('ContactLogged')).toBe(2);
    expect(schemaVersionOf('PurchaseRecorded')).toBe(1);
  });

  it('renames v1 legacy channel names and keeps every other field', () => {
    const [upcaster] = EVENT_UPCASTERS;
    expect(upcaster.upcast({ channel: 'e-mail', summary: 's', customerId: 'c' })).toEqual({ channel: 'email', summary: 's', customerId: 'c' });
    expect(upcaster.upcast({ channel: 'social-network' })).toEqual({ channel: 'social' });
    expect(upcaster.upcast({ channel: 'phone' })).toEqual({ channel: 'phone' });
  });
});

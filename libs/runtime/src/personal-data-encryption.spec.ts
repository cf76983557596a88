import { createDecipheriv, randomBytes } from 'node:crypto';
import { EncryptingEventStore, fieldOpener, InMemoryEventStore } from '@crm/event-store';
import { MemoryKeyStore } from '../../event-store/test-support/memory-key-store';
import { PERSONAL_DATA_POLICY } from './composition';

describe('personal fields through the encrypting store (a stream read opens them lazily)', () => {
  const event = (type: string, data: Record<string, unknown>) => ({ eventId: `${type}-${Math.random()}`, type, data, metadata: {} });

  it('seals on append, opens what is read, and leaves unread fields sealed: a corrupt one fails only where it is read', async () => {
    const inner = new InMemoryEventStore();
    const keys = new MemoryKeyStore();
    const store = new EncryptingEventStore(inner, keys, PERSONAL_DATA_POLICY);
    await store.appendToStream('customer-c1', [
      event('CustomerRegistered', { customerId: 'c1', kind: 'customer', name: 'Zoë Ångström', email: 'zoe@example.com' }),
      event('ContactLogged', { customerId: 'c1', channel: 'phone', summary: 'asked about her order' }),
    ]);
    // Written past the encryption (as a damaged disk might leave it): a sealed value that cannot be opened.
    await inner.appendToStream('customer-c1', [event('ContactLogged', { customerId: 'c1', channel: 'email', summary: `enc:v1:${randomBytes(40).toString('base64')}` })]);

    const stored = await inner.readStream('customer-c1');
    expect(JSON.stringify(stored)).not.toContain('Zoë');
    expect(String((stored[1]!.data as Record<string, unknown>)['summary'])).toMatch(/^enc:v1:/);

    const events = await store.readStream('customer-c1'); // does not throw: nothing was opened yet
    const data = (i: number): Record<string, unknown> => events[i]!.data as Record<string, unknown>;
    expect(data(0)).toMatchObject({ name: 'Zoë Ångström', email: 'zoe@example.com', kind: 'customer' });
    expect(data(1)['summary']).toBe('asked about her order');
    expect(data(2)['channel']).toBe('email');
    expect(() => data(2)['summary']).toThrow();
    // The log (what projections read) opens eagerly: the damaged field fails the read itself.
    await expect(store.readAll()).rejects.toThrow();
  });

  it('opens a live subscription lazily too: an event taken only as a wake-up signal is never decrypted', async () => {
    const inner = new InMemoryEventStore();
    const store = new EncryptingEventStore(inner, new MemoryKeyStore(), PERSONAL_DATA_POLICY);
    await store.appendToStream('customer-c3', [event('CustomerRegistered', { customerId: 'c3', kind: 'customer', name: 'Björk' })]);
    await inner.appendToStream('customer-c3', [event('ContactLogged', { customerId: 'c3', channel: 'chat', summary: `enc:v1:${randomBytes(40).toString('base64')}` })]);
    const subscription = store.subscribeToAll({ fromPosition: 0 });
    const received: Array<{ data: unknown }> = [];
    for await (const e of subscription) {
      received.push(e); // the damaged event arrives: nothing was opened to deliver it
      if (received.length === 2) break;
    }
    await subscription.close();
    expect((received[0]!.data as Record<string, unknown>)['name']).toBe('Björk');
    expect((received[1]!.data as Record<string, unknown>)['channel']).toBe('chat');
    expect(() => (received[1]!.data as Record<string, unknown>)['summary']).toThrow();
  });

  it('reads an erased subject as [erased], whenever the field is read', async () => {
    const keys = new MemoryKeyStore();
    const store = new EncryptingEventStore(new InMemoryEventStore(), keys, PERSONAL_DATA_POLICY);
    await store.appendToStream('customer-c2', [event('CustomerRegistered', { customerId: 'c2', kind: 'prospect', name: 'Ann' })]);
    await keys.erase('c2');
    const [registered] = await store.readStream('customer-c2');
    expect(registered!.data).toEqual({ customerId: 'c2', kind: 'prospect', name: '[erased]' });
  });

  it("seals the free text of order and complaint events with their customer's key, and reads older clear values as they are", async () => {
    const inner = new InMemoryEventStore();
    const keys = new MemoryKeyStore();
    const store = new EncryptingEventStore(inner, keys, PERSONAL_DATA_POLICY);
    // Stored before these fields were personal: in clear, and they stay readable.
    await inner.appendToStream('order-o1', [event('PurchaseRecorded', { orderId: 'o1', customerId: 'c4', lines: [{ sku: 'A', description: 'old mug', quantity: 1 }] })]);
    await store.appendToStream('order-o1', [event('ReturnRecorded', { orderId: 'o1', customerId: 'c4', reason: 'Zoë dropped it', lines: [{ sku: 'A', quantity: 1 }] })]);
    await store.appendToStream('order-o2', [
      event('PurchaseRecorded', { orderId: 'o2', customerId: 'c4', lines: [{ sku: 'A', description: 'new mug', quantity: 1 }, { sku: 'B', quantity: 2 }] }),
    ]);
    await store.appendToStream('complaint-k1', [
      event('ComplaintFiled', { complaintId: 'k1', customerId: 'c4', priority: 'P2', channel: 'phone', category: "Zoë's card", description: 'double charge' }),
      event('ComplaintOwnerChanged', { complaintId: 'k1', customerId: 'c4', ownerId: 'a2', reason: 'Zoë asked for Ann' }),
    ]);
    const raw = JSON.stringify([...(await inner.readStream('order-o1')).slice(1), ...(await inner.readStream('order-o2')), ...(await inner.readStream('complaint-k1'))]);
    expect(raw).not.toMatch(/Zoë|new mug|double charge/);
    expect(raw).toContain('"sku":"B"');
    expect(raw).toContain('"priority":"P2"');

    const read = async (stream: string): Promise<unknown[]> => (await store.readAll()).filter((e) => e.streamId === stream).map((e) => e.data);
    expect(await read('order-o1')).toMatchObject([{ lines: [{ description: 'old mug' }] }, { reason: 'Zoë dropped it' }]);
    expect(await read('order-o2')).toMatchObject([{ lines: [{ sku: 'A', description: 'new mug' }, { sku: 'B', quantity: 2 }] }]);
    expect(await read('complaint-k1')).toMatchObject([{ category: "Zoë's card", description: 'double charge' }, { reason: 'Zoë asked for Ann' }]);

    await keys.erase('c4');
    expect(await read('order-o2')).toMatchObject([{ lines: [{ sku: 'A', description: '[erased]' }, { sku: 'B', quantity: 2 }] }]);
    expect(await read('complaint-k1')).toMatchObject([{ priority: 'P2', category: '[erased]', description: '[erased]' }, { reason: '[erased]' }]);
    // A value stored in clear before it was personal cannot be shredded from the file, but no read shows it any more.
    expect(await read('order-o1')).toMatchObject([{ lines: [{ description: '[erased]' }] }, { reason: '[erased]' }]);
  });
});

describe('sealed reads of the log, and the opener of sealed read models', () => {
  const event = (type: string, data: Record<string, unknown>) => ({ eventId: `${type}-${Math.random()}`, type, data, metadata: {} });

  it('returns the log as stored on a sealed read, opens it through openSealed, and opens a sealed value per subject', async () => {
    const keys = new MemoryKeyStore();
    const store = new EncryptingEventStore(new InMemoryEventStore(), keys, PERSONAL_DATA_POLICY);
    await store.appendToStream('customer-c7', [event('ContactLogged', { customerId: 'c7', channel: 'phone', summary: 'sealed reads 4417' })]);
    await store.appendToStream('customer-c8', [event('ContactLogged', { customerId: 'c8', channel: 'chat', summary: 'other customer 4418' })]);

    const sealed = await store.readAll({ sealed: true });
    const summaries = sealed.map((e) => (e.data as Record<string, unknown>)['summary']);
    expect(summaries.every((v) => typeof v === 'string' && v.startsWith('enc:v1:'))).toBe(true);
    expect((await store.openSealed(sealed)).map((e) => (e.data as Record<string, unknown>)['summary'])).toEqual(['sealed reads 4417', 'other customer 4418']);

    // Only the fields asked for: the others, and every field of a type not listed, stay as stored.
    await store.appendToStream('customer-c7', [
      event('CustomerRegistered', { customerId: 'c7', kind: 'customer', name: 'Zoë 4421' }),
      event('ContactLogged', { customerId: 'c7', channel: 'chat', summary: 'selected 4422', outcome: 'sorted 4423' }),
    ]);
    const some = await store.openSealed((await store.readAll({ sealed: true })).slice(2), { ContactLogged: ['outcome'] });
    const [registered, logged] = some.map((e) => e.data as Record<string, unknown>);
    expect(String(registered!['name'])).toMatch(/^enc:v1:/);
    expect(String(logged!['summary'])).toMatch(/^enc:v1:/);
    expect(logged!['outcome']).toBe('sorted 4423');

    const open = await fieldOpener(keys, ['c7', 'c8']);
    expect(open('c7', summaries[0])).toBe('sealed reads 4417');
    expect(() => open('c8', summaries[0])).toThrow(); // sealed for c7: the AAD names the customer
    expect(open('c8', 'in clear 4419')).toBe('in clear 4419');

    await keys.erase('c7');
    const afterErasure = await fieldOpener(keys, ['c7', 'c8']);
    expect([afterErasure('c7', summaries[0]), afterErasure('c7', 'in clear 4420'), afterErasure('c8', summaries[1])]).toEqual(['[erased]', '[erased]', 'other customer 4418']);
  });
});

describe('the enc:v1 layout of a sealed field', () => {
  it('is base64(IV 12 | GCM tag 16 | ciphertext of the JSON value) with the subject as additional data, a fresh IV each', async () => {
    const inner = new InMemoryEventStore();
    const keys = new MemoryKeyStore();
    const store = new EncryptingEventStore(inner, keys, PERSONAL_DATA_POLICY);
    // More values than the IV pool holds (512), so that values sealed across its refill are checked too.
    const summaries = Array.from({ length: 700 }, (_, i) => `call ${i}: Zoë asked about order ${i * 7}`);
    for (let i = 0; i < summaries.length; i += 100) {
      await store.appendToStream('customer-c9', summaries.slice(i, i + 100).map((summary) => ({
        eventId: `e-${summary}`, type: 'ContactLogged', data: { customerId: 'c9', channel: 'phone', summary }, metadata: {},
      })));
    }
    const key = await keys.keyFor('c9');
    if (key === 'erased') throw new Error('unexpected erased key');
    const stored = await inner.readStream('customer-c9');
    const ivs = new Set<string>();
    stored.forEach((e, i) => {
      const sealed = String((e.data as Record<string, unknown>)['summary']);
      expect(sealed.startsWith('enc:v1:')).toBe(true);
      const raw = Buffer.from(sealed.slice('enc:v1:'.length), 'base64');
      ivs.add(raw.subarray(0, 12).toString('hex'));
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from('c9', 'utf8'));
      decipher.setAuthTag(raw.subarray(12, 28));
      const clear = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      expect(JSON.parse(clear)).toBe(summaries[i]);
    });
    expect(ivs.size).toBe(summaries.length);
  });
});

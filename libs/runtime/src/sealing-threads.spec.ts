import { randomBytes } from 'node:crypto';
import {
  EncryptingEventStore, InMemoryEventStore, SealingThreads, SubjectErased,
} from '@crm/event-store';
import { MemoryKeyStore } from '../../event-store/test-support/memory-key-store';
import { PERSONAL_DATA_POLICY } from './composition';

const MARKER = 'Øystein-7f3a9c1e';
const purchase = (customerId: string, orderId: string, descriptions: Array<string | null>) => ({
  eventId: `${orderId}-${randomBytes(6).toString('hex')}`,
  type: 'PurchaseRecorded',
  data: {
    orderId, customerId, occurredAt: '2011-01-01T10:00:00.000Z', currency: 'GBP',
    lines: descriptions.map((description, i) => ({ sku: `SKU-${i}`, description, quantity: 1 })),
  },
  metadata: {},
});

describe('sealing on worker threads (bulk writers: the importer)', () => {
  it('stores exactly what the event loop would: every field sealed on its own (fresh IV), opened by the ordinary reader', async () => {
    const inner = new InMemoryEventStore();
    const keys = new MemoryKeyStore();
    const store = new EncryptingEventStore(inner, keys, PERSONAL_DATA_POLICY, { sealingThreads: new SealingThreads(2) });
    // Many appends in one turn: they go out together, split over both threads, and each comes back to its own event.
    const orders = Array.from({ length: 300 }, (_, i) => purchase(`c${i % 7}`, `o${i}`, [`${MARKER} ${i} a`, null, `${MARKER} ${i} b`]));
    await Promise.all(orders.map((e) => store.appendToStream(`order-${e.data.orderId}`, [e], { expectedRevision: 'no-stream' })));
    await store.appendToStream('customer-c0', [{
      eventId: 'reg-c0', type: 'CustomerRegistered', data: { customerId: 'c0', kind: 'customer', name: MARKER, externalRef: 'src:1' }, metadata: {},
    }]);

    const raw = await inner.readAll();
    expect(JSON.stringify(raw)).not.toContain(MARKER);
    const sealed = raw.flatMap((e) => ((e.data as { lines?: Array<{ description: unknown }> }).lines ?? []).map((l) => l.description));
    expect(sealed.filter((d) => d !== null).every((d) => typeof d === 'string' && d.startsWith('enc:v1:'))).toBe(true);
    expect(new Set(sealed.filter((d) => d !== null)).size).toBe(600); // no two alike: a fresh IV per value

    const opened = await store.readAll();
    for (const [i, e] of opened.filter((x) => x.type === 'PurchaseRecorded').entries()) {
      expect(e.data).toEqual(orders[i]!.data);
    }
    const [registered] = await store.readStream('customer-c0');
    expect(registered!.data).toEqual({ customerId: 'c0', kind: 'customer', name: MARKER, externalRef: 'src:1' });
    await store.close();
  });

  it('refuses an erased subject as the event loop does, appending nothing', async () => {
    const inner = new InMemoryEventStore();
    const keys = new MemoryKeyStore();
    keys.keys.set('gone', 'erased');
    const store = new EncryptingEventStore(inner, keys, PERSONAL_DATA_POLICY, { sealingThreads: new SealingThreads(1) });
    await expect(store.appendToStream('order-o1', [purchase('gone', 'o1', ['x'])])).rejects.toBeInstanceOf(SubjectErased);
    expect(await inner.headPosition()).toBe(0);
    await store.close();
  });

  it('close lets appends waiting for a thread reach the store first', async () => {
    const inner = new InMemoryEventStore();
    const store = new EncryptingEventStore(inner, new MemoryKeyStore(), PERSONAL_DATA_POLICY, { sealingThreads: new SealingThreads(1) });
    const appended = store.appendToStream('order-o9', [purchase('c9', 'o9', [MARKER])]);
    await new Promise((resolve) => setImmediate(resolve)); // the append now waits on the thread
    const closed = store.close();
    await expect(appended).resolves.toMatchObject({ nextExpectedRevision: 0 });
    await closed;
    expect((await inner.readStream('order-o9')).length).toBe(1);
  });

  it('fails only the appends whose batch a thread could not seal; after close, appends are refused', async () => {
    const inner = new InMemoryEventStore();
    const threads = new SealingThreads(1);
    const store = new EncryptingEventStore(inner, new MemoryKeyStore(), PERSONAL_DATA_POLICY, { sealingThreads: threads });
    // Break the thread's cipher input: a key of the wrong length makes createCipheriv throw in the thread.
    const failing = threads.seal([{ subject: 'c1', key: Buffer.alloc(3), values: ['x'] }]);
    await expect(failing).rejects.toThrow(/sealing thread failed/);
    // The thread survives a failed job: the next append is sealed.
    await store.appendToStream('order-o2', [purchase('c2', 'o2', ['y'])]);
    expect((await store.readStream('order-o2'))[0]!.data).toMatchObject({ lines: [{ description: 'y' }] });
    await store.close();
    await expect(store.appendToStream('order-o3', [purchase('c3', 'o3', ['z'])])).rejects.toThrow();
    expect(await inner.headPosition()).toBe(1);
  });
});

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { EVENT_UPCASTERS } from '@crm/domain';
import {
  EncryptingEventStore, SqliteEventStore, UpcasterRegistry, UpcastingEventStore, type EventStore,
} from '@crm/event-store';
import { MemoryKeyStore } from '../../event-store/test-support/memory-key-store';
import { makeTempDir } from '../../../test/support/temp-dir';
import { PERSONAL_DATA_POLICY } from './composition';

/*
 * The log's text of each event's data (`dataJson`, which the timeline stores as it is) through the production chain:
 * SQLite → encryption → upcasters. It must go along only while `data` is what it parses to.
 */
describe('the stored JSON text of event data (readAll with dataJson)', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => dirs.splice(0).forEach((remove) => remove()));

  async function chain(): Promise<{ store: EventStore; raw: SqliteEventStore }> {
    const tmp = makeTempDir('crm-data-json-');
    dirs.push(tmp.remove);
    const raw = new SqliteEventStore({ filename: join(tmp.dir, 'events.db'), synchronous: 'NORMAL' });
    const store = new UpcastingEventStore(new EncryptingEventStore(raw, new MemoryKeyStore(), PERSONAL_DATA_POLICY), new UpcasterRegistry(EVENT_UPCASTERS));
    const marker = `Zoë-${randomBytes(6).toString('hex')}`;
    await store.appendToStream('customer-c1', [
      { eventId: 'e1', type: 'CustomerRegistered', data: { customerId: 'c1', kind: 'customer', name: marker }, metadata: { schemaVersion: 1 } },
      { eventId: 'e2', type: 'ContactLogged', data: { customerId: 'c1', channel: 'phone', direction: 'inbound', purpose: 'sales', summary: marker, outcome: 'ok' }, metadata: { schemaVersion: 2 } },
      // Written by the first release: the upcaster renames its channel on every read.
      { eventId: 'e3', type: 'ContactLogged', data: { customerId: 'c1', channel: 'telephone', direction: 'inbound', purpose: 'sales', summary: marker, outcome: 'ok' }, metadata: { schemaVersion: 1 } },
      { eventId: 'e4', type: 'ProspectConverted', data: { customerId: 'c1' }, metadata: { schemaVersion: 1 } },
    ]);
    return { store, raw };
  }

  it('hands over, with a sealed read, the bytes the log stores for every event whose data is what they parse to', async () => {
    const { store, raw } = await chain();
    const stored = new Map((await raw.readAll({ dataJson: true })).map((e) => [e.eventId, e.dataJson]));
    const events = await store.readAll({ sealed: true, dataJson: true });
    const byId = new Map(events.map((e) => [e.eventId, e]));
    for (const id of ['e1', 'e2', 'e4']) {
      const e = byId.get(id)!;
      expect(e.dataJson).toBe(stored.get(id));
      expect(JSON.parse(e.dataJson!)).toEqual(e.data);
    }
    // Sealed as stored: the personal fields of the text are ciphertext, as in `data`.
    expect(byId.get('e2')!.dataJson).toMatch(/"summary":"enc:v1:/);
    // Upcast: its data is no longer what the stored text says.
    expect((byId.get('e3')!.data as { channel: string }).channel).toBe('phone');
    expect(byId.get('e3')!.dataJson).toBeUndefined();
  });

  it('drops it where personal fields are opened, and gives none unless asked', async () => {
    const { store } = await chain();
    const opened = new Map((await store.readAll({ dataJson: true })).map((e) => [e.eventId, e]));
    expect(opened.get('e1')!.dataJson).toBeUndefined();
    expect(opened.get('e2')!.dataJson).toBeUndefined();
    // No personal field: nothing was opened, the text is still its data's.
    expect(JSON.parse(opened.get('e4')!.dataJson!)).toEqual(opened.get('e4')!.data);

    const sealed = await store.readAll({ sealed: true });
    const reopened = await store.openSealed!(await store.readAll({ sealed: true, dataJson: true }));
    expect(sealed.every((e) => e.dataJson === undefined)).toBe(true);
    expect(reopened.find((e) => e.eventId === 'e2')!.dataJson).toBeUndefined();
  });
});

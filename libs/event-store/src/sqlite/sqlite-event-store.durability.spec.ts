import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { StoreUnavailable } from '../errors';
import { SqliteEventStore } from './sqlite-event-store';

/**
 * synchronous=FULL without an fsync on the event loop: appends are committed at NORMAL and acknowledged only after
 * the write-ahead log was fdatasync'ed on the thread pool. The sync is injected, to hold it and to fail it.
 */
describe('SqliteEventStore durability (FULL)', () => {
  let dir: string;
  let store: SqliteEventStore;
  let held: Array<(error: Error | null) => void>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-durable-'));
    held = [];
    store = new SqliteEventStore({ filename: join(dir, 'events.db'), synchronous: 'FULL', syncFile: (_fd, callback) => held.push(callback) });
  });

  afterEach(async () => {
    for (const release of held.splice(0)) release(null);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const event = (id: string) => ({ eventId: id, type: 'ContactLogged', data: { n: id }, metadata: {} });
  const settled = async (promise: Promise<unknown>): Promise<boolean> => {
    let done = false;
    void promise.then(() => (done = true), () => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    return done;
  };

  it('acknowledges an append only after the log was synced, and one sync covers the appends committed while it ran', async () => {
    const first = store.appendToStream('s-1', [event('e-1')]);
    expect(await settled(first)).toBe(false);
    expect(held).toHaveLength(1);
    // Committed and visible to readers, not yet acknowledged.
    expect(await store.headPosition()).toBe(1);

    const second = store.appendToStream('s-2', [event('e-2')]);
    const third = store.appendToStream('s-3', [event('e-3')]);
    expect(await settled(second)).toBe(false);
    expect(held).toHaveLength(1); // waits for the sync in flight to end before starting the next

    held.shift()!(null);
    expect(await first).toEqual({ nextExpectedRevision: 0, position: 1 });
    expect(await settled(second)).toBe(false);
    expect(held).toHaveLength(1);
    held.shift()!(null);
    expect(await second).toEqual({ nextExpectedRevision: 0, position: 2 });
    expect(await third).toEqual({ nextExpectedRevision: 0, position: 3 });
  });

  it('refuses with store-unavailable when the sync fails, and a refused append waits for no sync', async () => {
    await expect(Promise.all([store.appendToStream('s-1', [event('e-1')]), (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      held.shift()!(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    })()])).rejects.toBeInstanceOf(StoreUnavailable);

    const refused = store.appendToStream('s-1', [event('e-2')], { expectedRevision: 'no-stream' });
    await expect(refused).rejects.toMatchObject({ name: expect.stringMatching(/StreamVersionConflict|WrongExpectedVersion/) as unknown as string });
    expect(held).toHaveLength(0);
  });
});

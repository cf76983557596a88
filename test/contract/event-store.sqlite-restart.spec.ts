import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '@crm/event-store';
import { makeTempDir } from '../support/temp-dir';

describe('SqliteEventStore durability', () => {
  it('keeps events and revisions across a close and reopen of the file', async () => {
    const tmp = makeTempDir();
    const filename = join(tmp.dir, 'events.db');
    try {
      const first = new SqliteEventStore({ filename });
      await first.appendToStream('s-1', [{ eventId: randomUUID(), type: 'A', data: { v: 1 }, metadata: {} }]);
      await first.close();
      const second = new SqliteEventStore({ filename });
      const r = await second.appendToStream('s-1', [{ eventId: randomUUID(), type: 'B', data: {}, metadata: {} }], {
        expectedRevision: 0,
      });
      expect(r).toEqual({ nextExpectedRevision: 1, position: 2 });
      expect((await second.readStream('s-1')).map((e) => e.data)).toEqual([{ v: 1 }, {}]);
      await second.close();
    } finally {
      tmp.remove();
    }
  });
});

import { randomUUID } from 'node:crypto';
import { DataKeyUnwrapFailed, KeyEncryptionKey, type KeyStore, type SubjectKey } from '@crm/event-store';

export interface KeyStoreHarness {
  /**
   * A key store as one process opens it; stores opened side by side share the keys (SQLite: one file, MongoDB: one
   * database), as the API and the projector, or two replicas, do. `cacheTtlMs`: how long a store may use a key it
   * read before reading it again (SQLite: its data_version recheck interval).
   */
  open(options: { kek: KeyEncryptionKey; cacheTtlMs: number; now: () => number }): Promise<KeyStore>;
  /** The key bytes stored for `subject`, as a dump of the store shows them; undefined when no key is stored. */
  storedKey(subject: string): Promise<Buffer | undefined>;
  dispose(): Promise<void>;
}

const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const TTL_MS = 5_000;

/**
 * The one contract every key store passes (SQLite; MongoDB through the real driver against the wire double, and a
 * real server when MONGODB_URI is set). Time is injected: `clock.ms` is what every store opened here reads.
 */
export function describeKeyStoreContract(name: string, makeHarness: () => Promise<KeyStoreHarness>): void {
  describe(`KeyStore contract: ${name}`, () => {
    let harness: KeyStoreHarness;
    const opened: KeyStore[] = [];
    const clock = { ms: T0 };
    const kek = KeyEncryptionKey.generate();
    beforeEach(async () => {
      clock.ms = T0;
      harness = await makeHarness();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await harness.dispose();
    });
    const open = async (withKek = kek): Promise<KeyStore> => {
      const store = await harness.open({ kek: withKek, cacheTtlMs: TTL_MS, now: () => clock.ms });
      opened.push(store);
      return store;
    };
    const subject = (): string => `cust-${randomUUID()}`;
    const existing = async (store: KeyStore, s: string): Promise<SubjectKey | undefined> => (await store.existingKeys([s])).get(s);

    it('creates a key once, on first use; reads never create one', async () => {
      const store = await open();
      const s = subject();
      expect(await existing(store, s)).toBeUndefined();
      expect(await existing(store, s)).toBeUndefined();
      const key = await store.keyFor(s);
      expect(key).toBeInstanceOf(Buffer);
      expect((key as Buffer).length).toBe(32);
      expect(await store.keyFor(s)).toEqual(key);
      expect(await existing(store, s)).toEqual(key);
    });

    it('answers a batch: the keys that exist, the erased as erased, nothing for the others', async () => {
      const store = await open();
      const [a, b, c] = [subject(), subject(), subject()];
      const keyA = await store.keyFor(a);
      await store.keyFor(b);
      await store.erase(b, new Date(T0));
      const found = await store.existingKeys([a, b, c]);
      expect(Object.fromEntries(found)).toEqual({ [a]: keyA, [b]: 'erased' });
    });

    it('answers a batch of over a thousand from a store that has none of them cached (more than one read), repeats included', async () => {
      // given 1,050 keys made by one store, one of them erased, and 50 subjects that never had a key
      const writer = await open();
      const subjects = Array.from({ length: 1100 }, subject);
      const made = await Promise.all(subjects.slice(0, 1050).map((s) => writer.keyFor(s)));
      await writer.erase(subjects[7]!, new Date(T0));

      // when another store asks for all of them, the first one twice
      const found = await (await open()).existingKeys([...subjects, subjects[0]!]);

      // then it has the 1,050 with their keys (the erased one as erased) and none of the others
      expect(found.size).toBe(1050);
      for (let i = 0; i < 1050; i++) expect(found.get(subjects[i]!)).toEqual(i === 7 ? 'erased' : made[i]);
      expect(subjects.slice(1050).some((s) => found.has(s))).toBe(false);
    });

    it('gives two stores racing to create one subject\'s key the same key', async () => {
      const [one, two] = [await open(), await open()];
      const subjects = Array.from({ length: 20 }, subject);
      const keys = await Promise.all(subjects.flatMap((s) => [one.keyFor(s), two.keyFor(s)]));
      for (let i = 0; i < subjects.length; i++) expect(keys[2 * i]).toEqual(keys[2 * i + 1]);
      // And what each later reads is that key too (no second key was stored by the loser).
      const [third] = [await open()];
      for (let i = 0; i < subjects.length; i++) expect(await existing(third, subjects[i]!)).toEqual(keys[2 * i]);
    });

    it('stores the key wrapped: the stored bytes are not the key, and another KEK cannot unwrap them', async () => {
      const store = await open();
      const s = subject();
      const key = (await store.keyFor(s)) as Buffer;
      const stored = await harness.storedKey(s);
      expect(stored).toBeInstanceOf(Buffer);
      expect(stored!.includes(key)).toBe(false);
      expect(kek.unwrap(s, stored!)).toEqual(key);
      // A dump read with any other KEK opens nothing.
      expect(() => KeyEncryptionKey.generate().unwrap(s, stored!)).toThrow(DataKeyUnwrapFailed);
    });

    it('refuses to open with another KEK than the stored keys were wrapped with, naming the variable', async () => {
      await (await open()).keyFor(subject());
      await expect(open(KeyEncryptionKey.generate())).rejects.toThrow(/wrapped by another key-encryption key.*DATA_KEY_ENCRYPTION_KEY_FILE/);
    });

    it('erases: the stored key is gone, a tombstone stays, the key is never created again', async () => {
      const store = await open();
      const s = subject();
      await store.keyFor(s);
      expect(await store.erase(s, new Date(T0))).toBe(true);
      expect(await harness.storedKey(s)).toBeUndefined();
      expect(await store.keyFor(s)).toBe('erased');
      expect(await existing(store, s)).toBe('erased');
      expect(await store.erase(s, new Date(T0 + 1))).toBe(false);
      expect(await store.erasedSubjects()).toContain(s);
      // A store opened later (the next start, another replica) reads the tombstone.
      const later = await open();
      expect(await later.keyFor(s)).toBe('erased');
    });

    it('keeps a tombstone for a subject erased before it ever had a key, and lists every tombstone in order', async () => {
      const store = await open();
      const never = `a-${subject()}`;
      const keyed = `b-${subject()}`;
      const alive = subject();
      await store.keyFor(keyed);
      await store.keyFor(alive);
      expect(await store.erase(never, new Date(T0))).toBe(true);
      expect(await store.erase(keyed, new Date(T0))).toBe(true);
      expect(await store.keyFor(never)).toBe('erased');
      const erased = await (await open()).erasedSubjects();
      expect(erased.filter((s) => [never, keyed, alive].includes(s))).toEqual([never, keyed]);
    });

    it('shows an erasure on the erasing store at once, and on another store once its cache TTL has passed', async () => {
      const [eraser, other] = [await open(), await open()];
      const s = subject();
      const bystander = subject();
      const key = await eraser.keyFor(s);
      const bystanderKey = await eraser.keyFor(bystander);
      expect(await existing(other, s)).toEqual(key); // read once: cached from here on

      expect(await eraser.erase(s, new Date(clock.ms))).toBe(true);
      expect(await existing(eraser, s)).toBe('erased');

      clock.ms += TTL_MS;
      expect(await existing(other, s)).toBe('erased');
      expect(await other.keyFor(s)).toBe('erased');
      expect(await existing(other, bystander)).toEqual(bystanderKey);
    });

    it('never creates a second key after reads that found none, also when another store created it meanwhile', async () => {
      const [one, two] = [await open(), await open()];
      const s = subject();
      expect(await existing(one, s)).toBeUndefined();
      const created = await two.keyFor(s);
      expect(await one.keyFor(s)).toEqual(created);
    });
  });
}

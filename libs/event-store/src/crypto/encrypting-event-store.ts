import { createDecipheriv } from 'node:crypto';
import type {
  AppendResult, EventStore, EventToAppend, ExpectedRevision, PersonalFieldSelection, ReadAllOptions, ReadStreamOptions, RecordedEvent, SubscribeOptions,
  Subscription,
} from '../event-store.port';
import type { KeyStore, SubjectKey } from './key-store';
import { fieldSealer, SEALED_PREFIX as PREFIX } from './field-sealer';
import type { SealingJob, SealingThreads } from './sealing-threads';

export const ERASED = '[erased]';

/** The subject was erased: nothing personal may be written for it again. */
export class SubjectErased extends Error {
  override readonly name = 'SubjectErased';
  constructor(readonly subject: string) {
    super(`subject ${subject} was erased`);
  }
}

export interface FieldEncryptionPolicy {
  /** Whether events of the type carry personal fields at all. */
  hasFields(type: string): boolean;
  /**
   * The event's data with `fn` applied to each personal field that holds a value; copy-on-write, `data` untouched.
   * `only`: to these fields of the type and no other.
   */
  mapFields(type: string, data: unknown, fn: (value: unknown) => unknown, only?: readonly string[]): unknown;
  /** Like mapFields, but `fn` runs when a field is first read (reads that never touch a field never decrypt it). */
  mapFieldsLazily?(type: string, data: unknown, fn: (value: unknown) => unknown): unknown;
  /** Whose data it is (the key to use), from the event's data. */
  subjectOf(type: string, data: unknown): string | undefined;
}

/** Whether a value is a sealed personal field (as the log stores it, and as sealed read models keep it). */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/**
 * One field opened with its subject's key as fetched for the read: an erased subject's fields read as erased even when
 * stored in clear (before the field was classified personal): the bytes cannot be rewritten, but no read shows them.
 * A sealed value without a key (absent: never created here, or erased and forgotten) cannot be opened either.
 */
function openField(key: SubjectKey | undefined, subject: string, value: unknown): unknown {
  if (key === 'erased') return ERASED;
  if (!isSealed(value)) return value; // written before encryption was enabled
  return key ? decrypt(key, subject, value) : ERASED;
}

/**
 * The read side's half of sealed read models: documents keep personal fields as the log has them, and a query opens
 * the page it answers with one key lookup for every subject on it (the key store caches keys, and sees an erasure at
 * once in its own process, within its recheck interval in another). `open(subject, value)` is synchronous.
 */
export async function fieldOpener(keys: Pick<KeyStore, 'existingKeys'>, subjects: Iterable<string>): Promise<(subject: string, value: unknown) => unknown> {
  const wanted = new Set(subjects);
  const found = wanted.size === 0 ? new Map<string, SubjectKey>() : await keys.existingKeys(wanted);
  return (subject, value) => openField(found.get(subject), subject, value);
}

function decrypt(key: Buffer, subject: string, sealed: string): unknown {
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(subject, 'utf8'));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as unknown;
}

/**
 * Seals the personal fields of `events` with their subjects' keys (`keyOf` answers synchronously: the caller fetched
 * the keys first). Throws SubjectErased for a subject that was erased. Exported for the history generator (bench).
 */
export function sealEvents(
  policy: FieldEncryptionPolicy, events: readonly EventToAppend[], keyOf: (subject: string) => SubjectKey,
): EventToAppend[] {
  return events.map((e) => {
    if (!policy.hasFields(e.type)) return e;
    const subject = policy.subjectOf(e.type, e.data);
    if (!subject) return e;
    const key = keyOf(subject);
    if (key === 'erased') throw new SubjectErased(subject);
    // The one implementation of the envelope (field-sealer.ts); the subject's id as additional data, one buffer per event.
    const aad = Buffer.from(subject, 'utf8');
    return { ...e, data: policy.mapFields(e.type, e.data, (v) => fieldSealer.seal(key, aad, v)) };
  });
}

/**
 * sealEvents with the ciphers on sealing threads: the same fields sealed the same way (a fresh IV per value, the
 * subject as additional data), the event loop only walking the fields (once to collect the values, once to put the
 * sealed ones in their place).
 */
async function sealEventsOn(
  threads: SealingThreads, policy: FieldEncryptionPolicy, events: readonly EventToAppend[], keyOf: (subject: string) => SubjectKey,
): Promise<EventToAppend[]> {
  const jobs: SealingJob[] = [];
  const sealedAt: number[] = [];
  events.forEach((e, i) => {
    if (!policy.hasFields(e.type)) return;
    const subject = policy.subjectOf(e.type, e.data);
    if (!subject) return;
    const key = keyOf(subject);
    if (key === 'erased') throw new SubjectErased(subject);
    const values: unknown[] = [];
    policy.mapFields(e.type, e.data, (v) => values.push(v));
    if (values.length === 0) return;
    jobs.push({ subject, key, values });
    sealedAt.push(i);
  });
  if (jobs.length === 0) return [...events];
  const sealed = await threads.seal(jobs);
  const result = [...events];
  sealedAt.forEach((i, j) => {
    const e = events[i]!;
    const values = sealed[j] ?? [];
    let k = 0;
    result[i] = { ...e, data: policy.mapFields(e.type, e.data, () => values[k++]) };
  });
  return result;
}

export interface EncryptingEventStoreOptions {
  /**
   * Seal on these worker threads instead of the event loop: for bulk writers (the importer), whose appends come by the
   * hundred per turn. A single append pays a thread round trip instead, so the API does not use them.
   */
  readonly sealingThreads?: SealingThreads;
}

/**
 * Crypto-shredding (DESIGN §7): personal fields are encrypted with their subject's key before they reach the log, and
 * decrypted on every read. Erasing the subject destroys the key: its events stay (types, times, amounts, codes),
 * the personal fields read as "[erased]" everywhere, and the stored bytes are unreadable for good.
 *
 * The key store may be across the network (MongoDB): keys are fetched once per append and once per read batch, before
 * any field is touched, so sealing and the lazy per-field opening stay synchronous and never wait on I/O.
 */
export class EncryptingEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly keys: KeyStore,
    private readonly policy: FieldEncryptionPolicy,
    private readonly options: EncryptingEventStoreOptions = {},
  ) {}

  /** Appends waiting for their sealing threads: `close` lets them reach the store first. */
  private readonly sealing = new Set<Promise<unknown>>();

  /** Whether a read opens any field of events of `type`: the type has personal fields, and `only` lists some of them. */
  private opensAny(type: string, only?: PersonalFieldSelection): boolean {
    return this.policy.hasFields(type) && (!only || (only[type]?.length ?? 0) > 0);
  }

  private subjectsOf(events: ReadonlyArray<{ readonly type: string; readonly data: unknown }>, only?: PersonalFieldSelection): Set<string> {
    const subjects = new Set<string>();
    for (const e of events) {
      if (!this.opensAny(e.type, only)) continue;
      const subject = this.policy.subjectOf(e.type, e.data);
      if (subject) subjects.add(subject);
    }
    return subjects;
  }

  async appendToStream(streamId: string, events: readonly EventToAppend[], options?: { readonly expectedRevision?: ExpectedRevision }): Promise<AppendResult> {
    const keys = new Map<string, SubjectKey>();
    // A command's events are about one customer (rarely more): one key each, created on first use.
    for (const subject of this.subjectsOf(events)) keys.set(subject, await this.keys.keyFor(subject));
    const keyOf = (s: string): SubjectKey => keys.get(s) ?? 'erased';
    const threads = this.options.sealingThreads;
    if (!threads) return this.inner.appendToStream(streamId, sealEvents(this.policy, events, keyOf), options);
    const sealed = sealEventsOn(threads, this.policy, events, keyOf);
    this.sealing.add(sealed);
    try {
      return this.inner.appendToStream(streamId, await sealed, options);
    } finally {
      this.sealing.delete(sealed);
    }
  }

  /**
   * Opens the events of one read with the keys fetched for it (`existingKeys`, once per read): a key store that fails
   * fails the read, as before, and never the code that later reads a field.
   */
  private async opener(events: readonly RecordedEvent[], lazily = false, only?: PersonalFieldSelection): Promise<(e: RecordedEvent) => RecordedEvent> {
    const subjects = this.subjectsOf(events, only);
    const keys = subjects.size === 0 ? new Map<string, SubjectKey>() : await this.keys.existingKeys(subjects);
    const mapAll = (lazily ? this.policy.mapFieldsLazily : undefined) ?? this.policy.mapFields;
    const map = only ? (type: string, data: unknown, fn: (value: unknown) => unknown) => this.policy.mapFields(type, data, fn, only[type]) : mapAll;
    return (e) => {
      if (!this.opensAny(e.type, only)) return e;
      const subject = this.policy.subjectOf(e.type, e.data);
      if (!subject) return e;
      const key = keys.get(subject);
      // The stored text is of the sealed data.
      // Object.assign, not a spread: `dataJson` is new to an event read without it, and on Node 20 a spread that adds
      // a property costs ~3 µs an event (read-model-store.port.ts, asDoc).
      return Object.assign({}, e, { data: map(e.type, e.data, (v) => openField(key, subject, v)), dataJson: undefined });
    };
  }

  /**
   * A stream's personal fields are opened lazily (when the policy can), each on its first read: a command's fold reads
   * a customer's identity fields but none of the contact summaries of the stream (decryption was ~7 % of the API's
   * time under the lag bench's load, now ~2 %). The log feeds projections, which read nearly every field of what they
   * get: eagerly, without the getters' cost.
   */
  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    const events = await this.inner.readStream(streamId, options);
    return events.map(await this.opener(events, true));
  }

  /**
   * `sealed`: the events as stored, for the projection runner, whose sealed projections (the timeline) copy personal
   * fields into documents as they are and whose other projections get them opened through `openSealed`, once per
   * event however many read it. A rebuild of the timeline then never decrypts (AES-GCM per field was ~19 % of it).
   */
  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    const events = await this.inner.readAll(options);
    if (options?.sealed) return events;
    return events.map(await this.opener(events));
  }

  /** `only`: open these fields and leave the others sealed (a projection that reads few of them); default every one. */
  async openSealed(events: readonly RecordedEvent[], only?: PersonalFieldSelection): Promise<RecordedEvent[]> {
    return events.map(await this.opener(events, false, only));
  }

  /**
   * Lazily, like a stream read: the projection runner, the one consumer in the product, takes each live event as a
   * wake-up signal and reads its events again through `readAll`; opening every personal field of every live event
   * only to drop it was work for nothing. A consumer that reads a field opens it then.
   */
  subscribeToAll(options?: SubscribeOptions): Subscription {
    const inner = this.inner.subscribeToAll(options);
    // Events arrive one by one, over time: each is its own read (no key memo kept across them).
    const open = async (e: RecordedEvent): Promise<RecordedEvent> => (await this.opener([e], true))(e);
    return {
      async *[Symbol.asyncIterator]() {
        for await (const e of inner) yield await open(e);
      },
      close: () => inner.close(),
    };
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.sealing]);
    await this.options.sealingThreads?.close();
    return this.inner.close();
  }
}

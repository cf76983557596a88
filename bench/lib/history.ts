/**
 * Generates a realistic event history straight into a SQLite event store file, fast enough for millions of events.
 *
 * Every command goes through the product's real deciders (customer, order, complaint), folded per stream in memory,
 * and every event is written with exactly the metadata `handleCommand` writes (eventId, correlationId, causationId,
 * actor, occurredAt, recordedAt, schemaVersion) and the store's `recorded_at`. Only the I/O is different: rows go
 * into the production schema (created by `SqliteEventStore` itself) with one prepared INSERT in large transactions
 * instead of one group commit per tick. The SLA watcher is emulated too (RecordSlaBreach at each deadline, as the
 * `sla-watcher` actor), so the generated complaints carry the breaches the product would have recorded and an app
 * started on the file finds no overdue work. Personal fields are sealed exactly as the app seals them: through the
 * production EncryptingEventStore (AES-256-GCM per customer), with the same field policy as
 * libs/runtime/src/composition.ts, and every customer's key is written to keys.db beside events.db (the production
 * key store's table), so the app and the projector decrypt the history as their own.
 *
 * The mix (per ~20 events of a customer): registration, contacts (about half of all events, some outbound and some
 * about a complaint), purchases with 1–5 lines, returns, complaints (filed → responded → resolved → closed, some reopened,
 * some late and breached), follow-ups (scheduled → completed / cancelled / left open), profile and owner changes,
 * contact preferences, prospect conversions. Activity is skewed: early customers are the busiest ones (a few hundred
 * events each at 1M events), the long tail has a handful. Time runs over two years ending a week ago.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CHANNELS, complaintStream, CONTACT_PURPOSES, customerStream, DEFAULT_CONTACT_CAP_POLICY, DEFAULT_SLA_POLICY, DomainError,
  makeComplaintDecider, makeCustomerDecider, orderDecider, orderStream, PRIORITIES,
  type Channel, type ComplaintCommand, type ContactPurpose, type CustomerCommand, type OrderCommand, type Priority,
} from '@crm/domain';
import { KeyEncryptionKey, sealEvents, SqliteEventStore, SqliteKeyStore, type EventToAppend } from '@crm/event-store';
import { EMBEDDED_KEK_FILE, PERSONAL_DATA_POLICY } from '@crm/runtime/composition';
import { domainEventMetadata } from '@crm/runtime/event-metadata';
import { uuidv7 } from '@crm/runtime/uuidv7';

export interface HistoryOptions {
  /** Events to write (the generator stops at the first command that reaches it). */
  readonly events: number;
  /** Customers; default events / 20, at most 50,000. */
  readonly customers?: number;
  /** The events.db file to create (must not exist); keys.db is created beside it. */
  readonly file: string;
  /** Business and recorded time of the last event; default a week before now. */
  readonly endAt?: Date;
  readonly seed?: number;
  readonly onProgress?: (written: number) => void;
}

export interface HistoryInfo {
  readonly events: number;
  readonly commands: number;
  /** Commands a decider refused (e.g. an outbound contact over the contact cap): nothing written, as in the app. */
  readonly refused: number;
  readonly customers: number;
  readonly streams: number;
  readonly byType: Record<string, number>;
  /** Every registered customer id (the order of registration). */
  readonly customerIds: string[];
  /** Customers with the most timeline entries (their own, their orders' and complaints' events), busiest first. */
  readonly busiest: Array<{ id: string; entries: number }>;
  /** Timeline entries per customer: median and max. */
  readonly entriesPerCustomer: { median: number; p99: number; max: number };
  readonly seconds: number;
  readonly fileBytes: number;
  readonly headPosition: number;
}

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scheduled {
  at: number;
  seq: number;
  run: (at: number) => void;
}

/** Min-heap of actions due later (complaint steps, returns, follow-up outcomes). */
class Agenda {
  private readonly heap: Scheduled[] = [];
  private seq = 0;
  get size(): number {
    return this.heap.length;
  }
  peek(): Scheduled | undefined {
    return this.heap[0];
  }
  push(at: number, run: (at: number) => void): void {
    const item = { at, seq: this.seq++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  pop(): Scheduled | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
  private less(a: Scheduled, b: Scheduled): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

const DAY = 86_400_000;
const MINUTE = 60_000;
const AGENTS = Array.from({ length: 24 }, (_, i) => `agent-${String(i + 1).padStart(2, '0')}`);
const FIRST = ['Olivia', 'Noah', 'Amelia', 'Oliver', 'Isla', 'George', 'Ava', 'Arthur', 'Mia', 'Leo', 'Ivy', 'Harry', 'Zoë', 'Jack', 'Freya', 'Muhammad', 'Florence', 'Theo', 'Lily', 'Finn'];
const LAST = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood', 'Ångström'];
const SUMMARIES = [
  'Customer called about the delivery date of their last order and asked for a call back next week.',
  'Asked whether the winter range will be restocked before December; noted interest in the wool coat.',
  'Wanted to change the delivery address for the pending order to their office.',
  'Enquired about the loyalty tier and how many points are needed for the next one.',
  'Reported that the parcel arrived with a damaged box; contents fine. Offered a voucher.',
  'Requested a copy of the invoice for their accounts department.',
  'Discussed bulk pricing for a corporate order of 40 units.',
  'Followed up on the return label that had not arrived by email.',
  'Asked for product care instructions for the leather items.',
  'Called to confirm the opening hours of the Manchester store over the holidays.',
];
const OUTCOMES = ['Resolved on the call.', 'Sent the information by email.', 'Call back scheduled.', 'Escalated to the team lead.', 'Customer satisfied.', 'No action needed.'];
const CATEGORIES = ['delivery', 'product-quality', 'billing', 'staff', 'returns', 'website'];
const SKUS = Array.from({ length: 400 }, (_, i) => ({
  sku: `SKU-${String(10_000 + i * 7)}`,
  description: `${['Wool', 'Linen', 'Cotton', 'Leather', 'Canvas'][i % 5]} ${['coat', 'shirt', 'bag', 'scarf', 'boots', 'mug', 'lamp', 'notebook'][i % 8]} ${i}`,
  unitPrice: 199 + ((i * 7919) % 24_800),
}));

/** Keys kept in memory, written to keys.db (wrapped, as the production SqliteKeyStore stores them) with the generator's batches. */
class GeneratorKeys {
  private readonly keys = new Map<string, Buffer>();
  private pending: Array<[string, Buffer, string, string]> = [];
  constructor(private readonly now: () => number, private readonly kek: KeyEncryptionKey) {}
  keyFor(subject: string): Buffer {
    let key = this.keys.get(subject);
    if (!key) {
      key = randomBytes(32);
      this.keys.set(subject, key);
      this.pending.push([subject, this.kek.wrap(subject, key), new Date(this.now()).toISOString(), this.kek.id]);
    }
    return key;
  }
  drain(): Array<[string, Buffer, string, string]> {
    const p = this.pending;
    this.pending = [];
    return p;
  }
}

/** Seals events as the app's store does on append (the production EncryptingEventStore's sealing, keys at hand). */
function makeSealer(keys: GeneratorKeys): (streamId: string, events: readonly EventToAppend[]) => readonly EventToAppend[] {
  return (_streamId, events) => sealEvents(PERSONAL_DATA_POLICY, events, (subject) => keys.keyFor(subject));
}

/** Writes the history; returns what an app or a bench needs to address it. */
export async function generateHistory(options: HistoryOptions): Promise<HistoryInfo> {
  const started = Date.now();
  const target = Math.max(1, Math.floor(options.events));
  const customerCount = Math.max(10, Math.min(options.customers ?? Math.round(target / 20), target));
  const random = prng(options.seed ?? 20_261_101);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const endAt = (options.endAt ?? new Date(Date.now() - 7 * DAY)).getTime();
  // Scheduled follow-on steps end at most ~14 days after their cause: keep the last 20 days for them.
  const span = 730 * DAY;
  const startAt = endAt - span;
  const mainEnd = endAt - 20 * DAY;

  // An existing log would be appended to: twice the events, and every figure measured on it wrong.
  if (existsSync(options.file)) throw new Error(`${options.file} exists: the history is generated into a new file`);
  // The production schema and pragmas, created by the production store itself.
  await new SqliteEventStore({ filename: options.file, synchronous: 'NORMAL' }).close();
  const db = new Database(options.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  db.pragma('wal_autocheckpoint = 20000');
  const insert = db.prepare('INSERT INTO events (event_id, stream_id, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  // The key store's file and table as the production SqliteKeyStore creates them; rows added with each batch.
  const keysFile = join(dirname(options.file), 'keys.db');
  const kek = KeyEncryptionKey.readOrCreateFile(join(dirname(options.file), EMBEDDED_KEK_FILE));
  await new SqliteKeyStore(keysFile, { kek }).close();
  const keysDb = new Database(keysFile);
  const insertKey = keysDb.prepare('INSERT INTO subject_keys (subject, key, created_at, kek_id) VALUES (?, ?, ?, ?)');
  const saveKeys = keysDb.transaction((rows: Array<[string, Buffer, string, string]>) => {
    for (const row of rows) insertKey.run(...row);
  });
  let clock = 0;
  const keys = new GeneratorKeys(() => clock, kek);
  const seal = makeSealer(keys);

  const customer = makeCustomerDecider({ contactPolicy: DEFAULT_CONTACT_CAP_POLICY });
  const complaint = makeComplaintDecider({ slaPolicy: DEFAULT_SLA_POLICY });
  type AnyDecider = { decide(c: unknown, s: unknown, now: Date): Array<{ type: string; data: unknown }>; evolve(s: unknown, e: unknown): unknown; initialState(): unknown };
  const streams = new Map<string, { state: unknown; revision: number }>();
  const byType: Record<string, number> = {};
  const customerIds: string[] = [];
  const entries = new Map<string, number>();
  let written = 0;
  let commands = 0;
  let refused = 0;
  let head = 0;
  let streamCount = 0;

  const eventMetadata = domainEventMetadata();
  /** handleCommand without the I/O: fold, decide, append with the same metadata (the writers' one factory). */
  const run = (decider: AnyDecider, streamId: string, command: unknown, at: number, actor: { id: string; role: string }, occurredAt?: string, forCustomer?: string): boolean => {
    commands += 1;
    const current = streams.get(streamId) ?? { state: decider.initialState(), revision: -1 };
    const now = new Date(at);
    let events: Array<{ type: string; data: unknown }>;
    try {
      events = decider.decide(command, current.state, now);
    } catch (error) {
      if (error instanceof DomainError) {
        refused += 1;
        return false;
      }
      throw error;
    }
    if (events.length === 0) return false;
    if (current.revision === -1) streamCount += 1;
    clock = at;
    const iso = now.toISOString();
    const requestId = uuidv7(at);
    const toAppend = events.map((e): EventToAppend => {
      const metadata = eventMetadata(e.type, { correlationId: requestId, causationId: requestId, actor, occurredAt }, now);
      return { eventId: metadata.eventId, type: e.type, data: e.data, metadata };
    });
    let { state, revision } = current;
    for (const e of seal(streamId, toAppend)) {
      revision += 1;
      head = Number(insert.run(e.eventId, streamId, revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), iso).lastInsertRowid);
      byType[e.type] = (byType[e.type] ?? 0) + 1;
      written += 1;
      if (forCustomer) entries.set(forCustomer, (entries.get(forCustomer) ?? 0) + 1);
    }
    for (const e of events) state = decider.evolve(state, e);
    streams.set(streamId, { state, revision });
    return true;
  };
  const agentActor = (): { id: string; role: string } => ({ id: pick(AGENTS), role: 'agent' });
  const customerRun = (id: string, command: CustomerCommand, at: number, actor = agentActor(), occurredAt?: string): boolean =>
    run(customer as AnyDecider, customerStream(id), command, at, actor, occurredAt, id);
  const complaintRun = (customerId: string, command: ComplaintCommand, at: number, actor = agentActor(), occurredAt?: string): boolean =>
    run(complaint as AnyDecider, complaintStream(command.data.complaintId), command, at, actor, occurredAt, customerId);
  const orderRun = (customerId: string, command: OrderCommand, at: number): boolean =>
    run(orderDecider as AnyDecider, orderStream(command.data.orderId), command, at, agentActor(), command.data.occurredAt, customerId);

  const agenda = new Agenda();
  const owners = new Map<string, string | null>();
  const prospects = new Set<string>();

  const register = (at: number): void => {
    const id = uuidv7(at);
    const first = pick(FIRST);
    const last = pick(LAST);
    const kind = random() < 0.3 ? 'prospect' : 'customer';
    const ownerId = random() < 0.7 ? pick(AGENTS) : undefined;
    const data = {
      customerId: id, kind, name: `${first} ${last}`, ownerId,
      ...(random() < 0.8 ? { email: `${first}.${last}.${customerIds.length}@example.com`.toLowerCase().normalize('NFKD').replace(/[^\x20-\x7e]/g, '') } : {}),
      ...(random() < 0.6 ? { phone: `+44 7${String(100_000_000 + Math.floor(random() * 899_999_999))}` } : {}),
    } as const;
    if (customerRun(id, { type: 'RegisterCustomer', data }, at)) {
      customerIds.push(id);
      owners.set(id, ownerId ?? null);
      if (kind === 'prospect') prospects.add(id);
    }
  };

  const contact = (id: string, at: number, extra?: { complaintId: string; open: boolean }): void => {
    const outbound = extra ? random() < 0.7 : random() < 0.15;
    const occurredAt = new Date(at - Math.floor(random() * 30 * MINUTE)).toISOString();
    customerRun(id, {
      type: 'LogContact',
      data: {
        customerId: id, contactId: uuidv7(at), channel: pick(CHANNELS) as Channel, direction: outbound ? 'outbound' : 'inbound',
        purpose: extra ? 'complaint' : (pick(CONTACT_PURPOSES) as ContactPurpose), summary: pick(SUMMARIES), outcome: pick(OUTCOMES), occurredAt,
        agentId: pick(AGENTS),
        ...(extra ? { complaintId: extra.complaintId, linkedComplaint: { customerId: id, open: extra.open } } : {}),
      },
    }, at, agentActor(), occurredAt);
  };

  const purchase = (id: string, at: number): void => {
    const orderId = uuidv7(at);
    const occurredAt = new Date(at).toISOString();
    const lineCount = 1 + Math.floor(random() * random() * 5);
    const lines = Array.from({ length: lineCount }, () => {
      const item = pick(SKUS);
      return { sku: item.sku, description: item.description, quantity: 1 + Math.floor(random() * random() * 4), unitPrice: { amount: item.unitPrice, scale: 2, currency: 'GBP' } };
    });
    if (!orderRun(id, { type: 'RecordPurchase', data: { orderId, customerId: id, occurredAt, currency: 'GBP', lines } }, at)) return;
    if (random() < 0.12) {
      agenda.push(at + DAY + Math.floor(random() * 13 * DAY), (when) => {
        const line = pick(lines);
        orderRun(id, { type: 'RecordReturn', data: { orderId, returnId: uuidv7(when), occurredAt: new Date(when).toISOString(), reason: pick(['faulty', 'wrong size', 'changed mind', 'arrived late']), lines: [{ sku: line.sku, quantity: 1 + Math.floor(random() * line.quantity) }] } }, when);
        streams.delete(orderStream(orderId)); // nothing more happens to this order
      });
    } else {
      streams.delete(orderStream(orderId));
    }
  };

  const fileComplaint = (id: string, at: number): void => {
    const complaintId = uuidv7(at);
    const priority = pick(PRIORITIES) as Priority;
    const occurredAt = new Date(at).toISOString();
    const atFirstContact = random() < 0.1;
    const filed = complaintRun(id, {
      type: 'FileComplaint',
      data: { complaintId, customerId: id, channel: pick(CHANNELS) as Channel, category: pick(CATEGORIES), priority, description: `${pick(SUMMARIES)} The customer is unhappy and wants this looked at.`, ownerId: owners.get(id) ?? null, occurredAt, resolvedAtFirstContact: atFirstContact },
    }, at, agentActor(), occurredAt);
    if (!filed) return;
    const target = DEFAULT_SLA_POLICY.targets[priority];
    const firstDue = at + target.firstResponseMinutes * MINUTE;
    const resolutionDue = at + target.resolutionMinutes * MINUTE;
    const breach = (kind: 'first-response' | 'resolution', due: number): void =>
      agenda.push(due, (when) => {
        complaintRun(id, { type: 'RecordSlaBreach', data: { complaintId, kind } }, Math.max(when, due), { id: 'sla-watcher', role: 'system' }, new Date(due).toISOString());
      });
    const close = (resolvedAt: number): void => {
      if (random() < 0.85) {
        agenda.push(resolvedAt + DAY + Math.floor(random() * 2 * DAY), (when) => {
          complaintRun(id, { type: 'CloseComplaint', data: { complaintId, occurredAt: new Date(when).toISOString() } }, when);
          streams.delete(complaintStream(complaintId));
        });
      }
    };
    if (atFirstContact) {
      close(at);
      return;
    }
    breach('first-response', firstDue);
    breach('resolution', resolutionDue);
    const respondAt = at + Math.floor((0.1 + random() * 1.2) * target.firstResponseMinutes * MINUTE);
    agenda.push(respondAt, (when) => {
      complaintRun(id, { type: 'RespondToComplaint', data: { complaintId, message: 'We are sorry about this and are looking into it; we will call you back.', responderId: pick(AGENTS), occurredAt: new Date(when).toISOString() } }, when);
      if (random() < 0.5) contact(id, when, { complaintId, open: true });
    });
    const resolveAt = at + Math.floor((0.2 + random() * 1.0) * target.resolutionMinutes * MINUTE);
    agenda.push(Math.max(resolveAt, respondAt + MINUTE), (when) => {
      complaintRun(id, { type: 'ResolveComplaint', data: { complaintId, resolution: pick(['Refunded the delivery charge.', 'Replacement sent.', 'Apologised and issued a voucher.', 'Explained the policy; customer accepted.']), occurredAt: new Date(when).toISOString() } }, when);
      if (random() < 0.04) {
        agenda.push(when + DAY, (reopenAt) => {
          complaintRun(id, { type: 'ReopenComplaint', data: { complaintId, reason: 'The replacement did not arrive.', occurredAt: new Date(reopenAt).toISOString() } }, reopenAt);
          breach('resolution', reopenAt + target.resolutionMinutes * MINUTE);
          agenda.push(reopenAt + 2 * DAY, (again) => {
            complaintRun(id, { type: 'ResolveComplaint', data: { complaintId, resolution: 'Second replacement delivered by courier.', occurredAt: new Date(again).toISOString() } }, again);
            close(again);
          });
        });
      } else {
        close(when);
      }
    });
  };

  const followUp = (id: string, at: number): void => {
    const followUpId = uuidv7(at);
    const dueAt = at + DAY + Math.floor(random() * 9 * DAY);
    const ok = customerRun(id, { type: 'ScheduleFollowUp', data: { customerId: id, followUpId, dueAt: new Date(dueAt).toISOString(), reason: pick(['Check the replacement arrived', 'Offer the new catalogue', 'Confirm the refund', 'Renewal call']), actorId: pick(AGENTS) } }, at);
    if (!ok) return;
    const r = random();
    if (r < 0.75) agenda.push(dueAt - Math.floor(random() * DAY), (when) => customerRun(id, { type: 'CompleteFollowUp', data: { customerId: id, followUpId, note: 'Done; customer happy.' } }, when));
    else if (r < 0.9) agenda.push(at + Math.floor(random() * (dueAt - at)), (when) => customerRun(id, { type: 'CancelFollowUp', data: { customerId: id, followUpId, reason: 'No longer needed' } }, when));
  };

  const other = (id: string, at: number): void => {
    const r = random();
    if (r < 0.35) {
      customerRun(id, { type: 'ChangeCustomerProfile', data: { customerId: id, email: `updated.${Math.floor(random() * 1e9)}@example.com` } }, at);
    } else if (r < 0.65) {
      const ownerId = pick(AGENTS);
      if (ownerId !== owners.get(id) && customerRun(id, { type: 'AssignCustomerOwner', data: { customerId: id, ownerId, reason: 'Territory rebalancing' } }, at)) owners.set(id, ownerId);
    } else if (r < 0.8) {
      customerRun(id, { type: 'SetContactPreferences', data: { customerId: id, maxContactsPer7Days: random() < 0.5 ? null : 2 + Math.floor(random() * 4), doNotContact: random() < 0.05, channels: random() < 0.5 ? [] : ['email', 'phone'] } }, at);
    } else if (prospects.has(id)) {
      if (customerRun(id, { type: 'ConvertProspect', data: { customerId: id } }, at)) prospects.delete(id);
    } else {
      contact(id, at);
    }
  };

  /** Busier customers are the early ones: index = n · u^1.5. */
  const someCustomer = (): string => customerIds[Math.floor(customerIds.length * random() ** 1.5)]!;

  // Expected ~1.05 events per step; step time so that the main phase spans the two years.
  const dt = (mainEnd - startAt) / (target * 0.97);
  let t = startAt;
  let batchEnd = 20_000;
  const commit = (): void => {
    saveKeys(keys.drain());
    db.exec('COMMIT');
    options.onProgress?.(written);
  };
  db.exec('BEGIN');
  try {
    while (written < target) {
      t = Math.min(t + dt, mainEnd);
      while (written < target && (agenda.peek()?.at ?? Infinity) <= t) {
        const due = agenda.pop()!;
        due.run(Math.max(due.at, t - dt));
      }
      if (written >= target) break;
      const step = written / target;
      const wantRegistered = Math.min(customerCount, Math.ceil(customerCount * Math.min(1, 0.02 + step / 0.8)));
      if (customerIds.length < wantRegistered || customerIds.length === 0) {
        register(t);
      } else {
        const id = someCustomer();
        const r = random();
        if (r < 0.6) contact(id, t);
        else if (r < 0.8) purchase(id, t);
        else if (r < 0.87) followUp(id, t);
        else if (r < 0.915) fileComplaint(id, t);
        else other(id, t);
      }
      if (written >= batchEnd) {
        commit();
        batchEnd = written + 20_000;
        // Let signals (Ctrl-C) and timers in between transactions.
        await new Promise((r) => setImmediate(r));
        db.exec('BEGIN');
      }
    }
    // Whatever is still scheduled (complaint steps, SLA checks, returns, follow-up outcomes) happens too, so the
    // history ends settled: no complaint left overdue for the app's SLA watcher. This adds a little over `target`.
    for (let due = agenda.pop(); due; due = agenda.pop()) due.run(Math.max(due.at, t));
    commit();
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.close();
    keysDb.close();
    throw error;
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  keysDb.close();

  const counts = [...entries.entries()].sort((a, b) => b[1] - a[1]);
  const sortedCounts = counts.map(([, n]) => n).sort((a, b) => a - b);
  const at = (p: number): number => sortedCounts[Math.min(sortedCounts.length - 1, Math.floor(p * sortedCounts.length))] ?? 0;
  return {
    events: written,
    commands,
    refused,
    customers: customerIds.length,
    streams: streamCount,
    byType,
    customerIds,
    busiest: counts.slice(0, 2000).map(([id, n]) => ({ id, entries: n })),
    entriesPerCustomer: { median: at(0.5), p99: at(0.99), max: sortedCounts.at(-1) ?? 0 },
    seconds: (Date.now() - started) / 1000,
    fileBytes: statSync(options.file).size,
    headPosition: head,
  };
}

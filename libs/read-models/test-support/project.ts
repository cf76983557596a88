import type {
  ComplaintClosed,
  ComplaintFiled,
  ComplaintOwnerChanged,
  ComplaintReopened,
  ComplaintResolved,
  ComplaintResponded,
  ContactLogged,
  ContactPreferencesSet,
  CustomerMerged,
  CustomerMergedInto,
  CustomerOwnerAssigned,
  CustomerProfileChanged,
  CustomerRegistered,
  CustomerUnmerged,
  CustomerUnmergedFrom,
  FollowUpCancelled,
  FollowUpReassigned,
  FollowUpCompleted,
  FollowUpScheduled,
  LoyaltyPolicy,
  LoyaltyPolicyPublished,
  Money,
  ProspectConverted,
  PurchaseRecorded,
  ReturnRecorded,
  SlaBreached,
  SlaDeadlines,
} from '@crm/domain';
import { isDocumentsChange, type DocumentChange, type ProjectedEvent, type Projection } from '../src/projection/projection';
import type { CrmEvent } from '../src/projections/crm-event';
import type { Doc } from '../src/store/read-model-store.port';

/*
 * Projection specs read as "given these facts, the documents are exactly …":
 *   const events = history(customerRegistered(T1), contactLogged(T2, { channel: 'email' }));
 *   expect(project(customerProfilesProjection, events).get(CUSTOMER_PROFILES, CUSTOMER_ID)).toEqual({ … });
 * `project` applies events the way ProjectionRunner.applyPage does, without a store, so these specs say nothing about
 * batching or checkpoints (projection-runner.spec.ts does).
 */

// ---------------------------------------------------------------------------------------------------------------
// Applying events in memory, as the runner does
// ---------------------------------------------------------------------------------------------------------------

/** Every document reachable from a test is frozen, so a projection that mutates its input fails loudly here. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/** Documents per logical collection (the runner adds the `_v<version>` suffix; this helper does not need it). */
export class ProjectedDocuments {
  private constructor(
    readonly projection: Projection,
    private readonly collections: ReadonlyMap<string, ReadonlyMap<string, Doc>>,
  ) {}

  static empty(projection: Projection): ProjectedDocuments {
    return new ProjectedDocuments(projection, new Map());
  }

  /**
   * Applies events in order, as `ProjectionRunner.applyPage`: for each event, `changes(event)`; per change, skip when
   * the document already has the event (`_position >= position`), else `evolve`, stamp `_id`/`_position`, delete on
   * null. A change that throws discards the other changes of its event and propagates. Returns a new state.
   */
  apply(events: readonly ProjectedEvent[]): ProjectedDocuments {
    const next = new Map<string, Map<string, Doc>>([...this.collections].map(([name, docs]) => [name, new Map(docs)]));
    for (const event of events) {
      if (!this.projection.eventTypes.includes(event.type)) continue;
      const staged = new Map<string, { collection: string; id: string; doc: Doc | null }>();
      const current = (collection: string, id: string): Doc | null => {
        const key = `${collection}\u0000${id}`;
        const fromEvent = staged.get(key);
        return fromEvent ? fromEvent.doc : (next.get(collection)?.get(id) ?? null);
      };
      const expanded: DocumentChange[] = this.projection.changes(deepFreeze(event)).flatMap((c): DocumentChange[] => {
        if (!isDocumentsChange(c)) return [c];
        // Equality queries only (what projections use): every matching document, as the runner does.
        const matching = [...(next.get(c.collection)?.values() ?? [])].filter((d) =>
          Object.entries(c.where).every(([field, value]) => d[field] === value));
        return matching.map((d) => ({ collection: c.collection, id: d._id, evolve: (cur: Doc | null) => (cur ? c.evolve(cur) : null) }));
      });
      for (const change of expanded) {
        const doc = current(change.collection, change.id);
        if (doc && doc._position >= event.position) continue;
        const body = change.evolve(doc, (change.reads ?? []).map((r) => current(r.collection, r.id)));
        if (doc === null && body === null) continue;
        const written = body === null ? null : deepFreeze<Doc>({ ...body, _id: change.id, _position: event.position });
        staged.set(`${change.collection}\u0000${change.id}`, { collection: change.collection, id: change.id, doc: written });
      }
      for (const { collection, id, doc } of staged.values()) {
        let docs = next.get(collection);
        if (!docs) next.set(collection, (docs = new Map()));
        if (doc === null) docs.delete(id);
        else docs.set(id, doc);
      }
    }
    return new ProjectedDocuments(this.projection, next);
  }

  get(collection: string, id: string): Doc | null {
    return this.collections.get(collection)?.get(id) ?? null;
  }

  /** The collection's documents ordered by `_id`, as a store's `find(collection, {})` returns them. */
  all(collection: string): Doc[] {
    return [...(this.collections.get(collection)?.values() ?? [])].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  }

  /** Every collection's documents, for comparing two states as a whole. */
  snapshot(): Record<string, Doc[]> {
    return Object.fromEntries([...this.collections.keys()].sort().map((name) => [name, this.all(name)]));
  }
}

export function project(projection: Projection, events: readonly ProjectedEvent[]): ProjectedDocuments {
  return ProjectedDocuments.empty(projection).apply(events);
}

// ---------------------------------------------------------------------------------------------------------------
// Facts: one builder per event type, then `history(...)` numbers them as the log would
// ---------------------------------------------------------------------------------------------------------------

export interface Actor {
  readonly id: string;
  readonly role: string;
}

export interface FactOptions {
  /** Store time; defaults to the fact's business time. */
  readonly recordedAt?: string;
  /** Defaults to DEFAULT_ACTOR. */
  readonly actor?: Actor;
  /** Replaces the whole metadata, e.g. `{}` for an event written without actor and occurredAt. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Events projections read besides the CRM streams' (the policy streams). */
type PolicyEvent = LoyaltyPolicyPublished;

export interface Fact {
  readonly streamId: string;
  readonly type: CrmEvent['type'] | PolicyEvent['type'];
  readonly data: CrmEvent['data'] | PolicyEvent['data'];
  readonly occurredAt: string;
  readonly options: FactOptions;
}

export const DEFAULT_ACTOR: Actor = { id: 'agent-ana', role: 'agent' };
export const CUSTOMER_ID = 'cust-1';
export const COMPLAINT_ID = 'compl-1';
export const ORDER_ID = 'order-1';
export const FOLLOW_UP_ID = 'fu-1';
export const FILED_AT = '2026-03-02T09:00:00.000Z';
/** The P2 deadlines of a complaint filed at FILED_AT under the default policy (240 / 1440 minutes). */
export const P2_SLA: SlaDeadlines = {
  policyVersion: 'sla-2026-01',
  firstResponseDueAt: '2026-03-02T13:00:00.000Z',
  resolutionDueAt: '2026-03-03T09:00:00.000Z',
};

export function eventIdOf(position: number): string {
  return `evt-${String(position).padStart(4, '0')}`;
}

/** The events a log would hold for these facts: positions from `firstPosition`, revisions per stream. */
export function history(...facts: readonly Fact[]): ProjectedEvent[] {
  return historyFrom(1, facts);
}

export function historyFrom(firstPosition: number, facts: readonly Fact[]): ProjectedEvent[] {
  const revisions = new Map<string, number>();
  return facts.map((fact, index) => {
    const revision = (revisions.get(fact.streamId) ?? -1) + 1;
    revisions.set(fact.streamId, revision);
    const position = firstPosition + index;
    return {
      eventId: eventIdOf(position),
      type: fact.type,
      data: fact.data,
      streamId: fact.streamId,
      revision,
      position,
      recordedAt: fact.options.recordedAt ?? fact.occurredAt,
      metadata: metadataOf(fact),
    };
  });
}

export function metadataOf(fact: Fact): Readonly<Record<string, unknown>> {
  return fact.options.metadata ?? { occurredAt: fact.occurredAt, actor: fact.options.actor ?? DEFAULT_ACTOR };
}

/** What `EventStore.appendToStream` takes for this fact (structurally; this helper does not import the event store). */
export function toAppend(fact: Fact, eventId: string): { eventId: string; type: string; data: unknown; metadata: Readonly<Record<string, unknown>> } {
  return { eventId, type: fact.type, data: fact.data, metadata: metadataOf(fact) };
}

function fact<E extends CrmEvent | PolicyEvent>(streamId: string, type: E['type'], data: E['data'], occurredAt: string, options: FactOptions): Fact {
  return { streamId, type, data, occurredAt, options };
}

const customerStreamOf = (data: { customerId: string }): string => `customer-${data.customerId}`;
const complaintStreamOf = (data: { complaintId: string }): string => `complaint-${data.complaintId}`;
const orderStreamOf = (data: { orderId: string }): string => `order-${data.orderId}`;

// Customer stream

export function customerRegistered(at: string, data: Partial<CustomerRegistered['data']> = {}, options: FactOptions = {}): Fact {
  const d: CustomerRegistered['data'] = { customerId: CUSTOMER_ID, kind: 'customer', name: 'Ada Lovelace', ...data };
  return fact<CustomerRegistered>(customerStreamOf(d), 'CustomerRegistered', d, at, options);
}

/** Both steps of a merge of `duplicateId` into `survivorId` (duplicate's stream first, as the application appends). */
export function customerMerge(at: string, survivorId: string, duplicateId: string, options: FactOptions = {}): Fact[] {
  return [
    fact<CustomerMergedInto>(`customer-${duplicateId}`, 'CustomerMergedInto', { customerId: duplicateId, survivorId, reason: 'same person', mergedAt: at }, at, options),
    fact<CustomerMerged>(`customer-${survivorId}`, 'CustomerMerged', { customerId: survivorId, duplicateId, reason: 'same person', mergedAt: at }, at, options),
  ];
}

export function customerUnmerge(at: string, survivorId: string, duplicateId: string, options: FactOptions = {}): Fact[] {
  return [
    fact<CustomerUnmergedFrom>(`customer-${duplicateId}`, 'CustomerUnmergedFrom', { customerId: duplicateId, survivorId, reason: 'not the same', unmergedAt: at }, at, options),
    fact<CustomerUnmerged>(`customer-${survivorId}`, 'CustomerUnmerged', { customerId: survivorId, duplicateId, reason: 'not the same', unmergedAt: at }, at, options),
  ];
}

export function profileChanged(at: string, changes: CustomerProfileChanged['data']['changes'], customerId = CUSTOMER_ID, options: FactOptions = {}): Fact {
  const d: CustomerProfileChanged['data'] = { customerId, changes };
  return fact<CustomerProfileChanged>(customerStreamOf(d), 'CustomerProfileChanged', d, at, options);
}

export function prospectConverted(at: string, customerId = CUSTOMER_ID, options: FactOptions = {}): Fact {
  const d: ProspectConverted['data'] = { customerId };
  return fact<ProspectConverted>(customerStreamOf(d), 'ProspectConverted', d, at, options);
}

export function ownerAssigned(at: string, data: Partial<CustomerOwnerAssigned['data']> = {}, options: FactOptions = {}): Fact {
  const d: CustomerOwnerAssigned['data'] = { customerId: CUSTOMER_ID, ownerId: 'agent-bob', previousOwnerId: null, reason: 'new account', ...data };
  return fact<CustomerOwnerAssigned>(customerStreamOf(d), 'CustomerOwnerAssigned', d, at, options);
}

export function preferencesSet(at: string, data: Partial<ContactPreferencesSet['data']> = {}, options: FactOptions = {}): Fact {
  const d: ContactPreferencesSet['data'] = { customerId: CUSTOMER_ID, maxContactsPer7Days: null, doNotContact: false, channels: [], ...data };
  return fact<ContactPreferencesSet>(customerStreamOf(d), 'ContactPreferencesSet', d, at, options);
}

/** An outbound sales phone contact that happened at `at`. */
export function contactLogged(at: string, data: Partial<ContactLogged['data']> & { contactId: string }, options: FactOptions = {}): Fact {
  const d: ContactLogged['data'] = {
    customerId: CUSTOMER_ID, channel: 'phone', direction: 'outbound', purpose: 'sales', summary: 'called about the offer',
    outcome: 'spoke', occurredAt: at, agentId: 'agent-ana', ...data,
  };
  return fact<ContactLogged>(customerStreamOf(d), 'ContactLogged', d, at, options);
}

export function followUpScheduled(at: string, data: Partial<FollowUpScheduled['data']> = {}, options: FactOptions = {}): Fact {
  const d: FollowUpScheduled['data'] = {
    customerId: CUSTOMER_ID, followUpId: FOLLOW_UP_ID, dueAt: '2026-03-10T09:00:00.000Z', reason: 'call back', ownerId: 'agent-bob', ...data,
  };
  return fact<FollowUpScheduled>(customerStreamOf(d), 'FollowUpScheduled', d, at, options);
}

export function followUpCompleted(at: string, data: Partial<FollowUpCompleted['data']> = {}, options: FactOptions = {}): Fact {
  const d: FollowUpCompleted['data'] = { customerId: CUSTOMER_ID, followUpId: FOLLOW_UP_ID, completedAt: at, ...data };
  return fact<FollowUpCompleted>(customerStreamOf(d), 'FollowUpCompleted', d, at, options);
}

export function followUpCancelled(at: string, data: Partial<FollowUpCancelled['data']> = {}, options: FactOptions = {}): Fact {
  const d: FollowUpCancelled['data'] = { customerId: CUSTOMER_ID, followUpId: FOLLOW_UP_ID, cancelledAt: at, ...data };
  return fact<FollowUpCancelled>(customerStreamOf(d), 'FollowUpCancelled', d, at, options);
}

export function followUpReassigned(at: string, data: Partial<FollowUpReassigned['data']> = {}, options: FactOptions = {}): Fact {
  const d: FollowUpReassigned['data'] = {
    customerId: CUSTOMER_ID, followUpId: FOLLOW_UP_ID, ownerId: 'agent-cy', previousOwnerId: 'agent-bob', reason: 'owner hand-over: territory', ...data,
  };
  return fact<FollowUpReassigned>(customerStreamOf(d), 'FollowUpReassigned', d, at, options);
}

// Complaint stream

/** A P2 phone complaint about billing, filed at `at` with the P2_SLA deadlines unless told otherwise. */
export function complaintFiled(at: string, data: Partial<ComplaintFiled['data']> = {}, options: FactOptions = {}): Fact {
  const d: ComplaintFiled['data'] = {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, channel: 'phone', category: 'billing', priority: 'P2',
    description: 'charged twice', ownerId: 'agent-bob', filedAt: at, sla: P2_SLA, ...data,
  };
  return fact<ComplaintFiled>(complaintStreamOf(d), 'ComplaintFiled', d, at, options);
}

export function complaintResponded(at: string, data: Partial<ComplaintResponded['data']> = {}, options: FactOptions = {}): Fact {
  const d: ComplaintResponded['data'] = {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, respondedAt: at, message: 'we are on it', responderId: 'agent-bob', sla: P2_SLA, ...data,
  };
  return fact<ComplaintResponded>(complaintStreamOf(d), 'ComplaintResponded', d, at, options);
}

export function complaintResolved(at: string, data: Partial<ComplaintResolved['data']> = {}, options: FactOptions = {}): Fact {
  const d: ComplaintResolved['data'] = {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, resolvedAt: at, resolution: 'refund issued', atFirstContact: false, sla: P2_SLA, ...data,
  };
  return fact<ComplaintResolved>(complaintStreamOf(d), 'ComplaintResolved', d, at, options);
}

export function complaintReopened(at: string, resolutionDueAt: string, data: Partial<ComplaintReopened['data']> = {}, options: FactOptions = {}): Fact {
  const d: ComplaintReopened['data'] = {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, reopenedAt: at, reason: 'refund never arrived', resolutionDueAt, ...data,
  };
  return fact<ComplaintReopened>(complaintStreamOf(d), 'ComplaintReopened', d, at, options);
}

export function complaintClosed(at: string, data: Partial<ComplaintClosed['data']> = {}, options: FactOptions = {}): Fact {
  const d: ComplaintClosed['data'] = { complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, closedAt: at, ...data };
  return fact<ComplaintClosed>(complaintStreamOf(d), 'ComplaintClosed', d, at, options);
}

export function complaintOwnerChanged(at: string, data: Partial<ComplaintOwnerChanged['data']> = {}, options: FactOptions = {}): Fact {
  const d: ComplaintOwnerChanged['data'] = {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, ownerId: 'agent-cy', previousOwnerId: 'agent-bob', reason: 'holiday', ...data,
  };
  return fact<ComplaintOwnerChanged>(complaintStreamOf(d), 'ComplaintOwnerChanged', d, at, options);
}

/** Appended by the SLA watcher: `breachedAt` is the deadline itself, the watcher's clock is the fact's time. */
export function slaBreached(at: string, kind: SlaBreached['data']['kind'], dueAt: string, data: Partial<SlaBreached['data']> = {}, options: FactOptions = {}): Fact {
  const d: SlaBreached['data'] = {
    complaintId: COMPLAINT_ID, customerId: CUSTOMER_ID, kind, dueAt, breachedAt: dueAt, ownerId: 'agent-bob', priority: 'P2', ...data,
  };
  return fact<SlaBreached>(complaintStreamOf(d), 'SlaBreached', d, at, { actor: { id: 'sla-watcher', role: 'system' }, ...options });
}

// Order stream

export function money(amount: number, scale: number, currency = 'GBP'): Money {
  return { amount, scale, currency };
}

/** A purchase of one line whose total is `total`. */
export function purchaseRecorded(at: string, total: Money, data: Partial<PurchaseRecorded['data']> = {}, options: FactOptions = {}): Fact {
  const d: PurchaseRecorded['data'] = {
    orderId: ORDER_ID, customerId: CUSTOMER_ID, occurredAt: at, currency: total.currency,
    lines: [{ sku: 'SKU-1', description: 'widget', quantity: 1, unitPrice: total, lineTotal: total }], total, ...data,
  };
  return fact<PurchaseRecorded>(orderStreamOf(d), 'PurchaseRecorded', d, at, options);
}

/** A return of one line whose total is `total`. */
export function returnRecorded(at: string, total: Money, data: Partial<ReturnRecorded['data']> = {}, options: FactOptions = {}): Fact {
  const d: ReturnRecorded['data'] = {
    orderId: ORDER_ID, customerId: CUSTOMER_ID, returnId: 'ret-1', occurredAt: at, reason: 'damaged',
    lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: total, lineTotal: total }], total, ...data,
  };
  return fact<ReturnRecorded>(orderStreamOf(d), 'ReturnRecorded', d, at, options);
}

// Policy streams

/** An admin published `policy` at `at` (PUT /loyalty/policies). */
export function loyaltyPolicyPublished(at: string, policy: LoyaltyPolicy, previousVersion: string | null = null, options: FactOptions = {}): Fact {
  const d: LoyaltyPolicyPublished['data'] = { policy, previousVersion };
  return fact<LoyaltyPolicyPublished>('loyalty-policies', 'LoyaltyPolicyPublished', d, at, { actor: { id: 'admin-1', role: 'admin' }, ...options });
}

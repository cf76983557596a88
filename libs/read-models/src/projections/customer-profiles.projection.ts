import { COMPLAINT_EVENT_TYPES, CUSTOMER_EVENT_TYPES, ERASED, type Priority } from '@crm/domain';
import { occurredAtOf, type DocBody, type DocumentChange, type ProjectedEvent, type Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { asCrmEvent, digitsOnly, normalizeForSearch } from './crm-event';

export const CUSTOMER_PROFILES = 'customer_profiles';

export interface ComplaintSummary {
  complaintId: string;
  priority: Priority;
  status: 'filed' | 'responded' | 'resolved' | 'closed';
  ownerId: string | null;
  filedAt: string;
  firstResponseDueAt: string;
  resolutionDueAt: string;
  breached: boolean;
  respondedAt: string | null;
  /** Waiting for the customer (issue 16); absent until the complaint first waits. */
  paused?: boolean;
}

export interface ProfileDoc extends Doc {
  customerId: string;
  name: string;
  email: string | null;
  phone: string | null;
  kind: 'prospect' | 'customer';
  ownerId: string | null;
  externalRef: string | null;
  registeredAt: string;
  preferences: { maxContactsPer7Days: number | null; doNotContact: boolean; channels: string[] };
  /** Normalised name, e-mail and phone digits, for tolerant search. */
  searchText: string;
  complaints: ComplaintSummary[];
  openComplaintCount: number;
  lastContact: { contactId: string; channel: string; direction: string; purpose: string; outcome: string; occurredAt: string } | null;
  /** Contacts of the last 30 days before the newest one (the query counts the last 7 days against its clock). */
  recentContacts: Array<{ occurredAt: string; direction: string }>;
  openFollowUps: Array<{ followUpId: string; dueAt: string; reason: string; ownerId: string; complaintId: string | null }>;
  /** The customer stream's revision of the last event applied (a client's next If-Match); absent before the first. */
  streamRevision?: number;
  /** Set by queries on a merge survivor's combined view (not stored): the duplicates it includes. */
  mergedDuplicates?: string[];
}

const RECENT_WINDOW_MS = 30 * 86_400_000;

function searchText(name: string, email: string | null, phone: string | null): string {
  return [normalizeForSearch(name), email ? email.toLowerCase() : '', phone ? digitsOnly(phone) : ''].filter(Boolean).join(' | ');
}

function withComplaint(doc: ProfileDoc, complaintId: string, update: (c: ComplaintSummary) => ComplaintSummary): DocBody {
  const complaints = doc.complaints.map((c) => (c.complaintId === complaintId ? update(c) : c));
  return { ...doc, complaints, openComplaintCount: complaints.filter((c) => c.status === 'filed' || c.status === 'responded').length };
}

/** One document per customer: who they are, who owns them, what is open, when we last spoke. */
export const customerProfilesProjection: Projection = {
  name: 'customer_profiles',
  version: 1,
  eventTypes: [...CUSTOMER_EVENT_TYPES, ...COMPLAINT_EVENT_TYPES],
  opens: {
    CustomerRegistered: ['name', 'email', 'phone', 'externalRef'],
    CustomerProfileChanged: ['changes.name', 'changes.email', 'changes.phone'],
    ContactLogged: ['outcome'],
    FollowUpScheduled: ['reason'],
  },
  collections: [
    {
      name: CUSTOMER_PROFILES,
      indexes: [{ fields: [['ownerId', 1]] }, { fields: [['externalRef', 1]] }, { fields: [['name', 1]] }],
    },
  ],
  changes(event: ProjectedEvent): DocumentChange[] {
    const changes = profileChanges(event);
    if (!event.streamId.startsWith('customer-')) return changes;
    // The customer stream's revision, so a client can send it back as If-Match on its next command. Every change below
    // returns a new object or the document itself: the new one takes the revision in place (one copy of the whole
    // profile less per event, most of a rebuild's events), the document itself is copied.
    return changes.map((c) => ({ ...c, evolve: (doc) => {
      const next = c.evolve(doc);
      if (!next) return next;
      if (next === doc) return { ...next, streamRevision: event.revision };
      (next as Record<string, unknown>)['streamRevision'] = event.revision;
      return next;
    } }));
  },
};

function profileChanges(event: ProjectedEvent): DocumentChange[] {
    const e = asCrmEvent(event);
    const customerId = e.data.customerId;
    const change = (evolve: (doc: ProfileDoc) => DocBody | null): DocumentChange[] => [
      { collection: CUSTOMER_PROFILES, id: customerId, evolve: (doc) => (doc ? evolve(doc as ProfileDoc) : null) },
    ];
    switch (e.type) {
      case 'CustomerRegistered':
        return [{
          collection: CUSTOMER_PROFILES,
          id: customerId,
          evolve: (): DocBody => ({
            customerId,
            name: e.data.name,
            email: e.data.email ?? null,
            phone: e.data.phone ?? null,
            kind: e.data.kind,
            ownerId: e.data.ownerId ?? null,
            externalRef: e.data.externalRef ?? null,
            registeredAt: occurredAtOf(event),
            preferences: { maxContactsPer7Days: null, doNotContact: false, channels: [] },
            searchText: searchText(e.data.name, e.data.email ?? null, e.data.phone ?? null),
            complaints: [],
            openComplaintCount: 0,
            lastContact: null,
            recentContacts: [],
            openFollowUps: [],
          }),
        }];
      case 'CustomerProfileChanged':
        return change((doc) => {
          const c = e.data.changes;
          const name = c.name ?? doc.name;
          const email = c.email === undefined ? doc.email : c.email;
          const phone = c.phone === undefined ? doc.phone : c.phone;
          return { ...doc, name, email, phone, searchText: searchText(name, email, phone) };
        });
      case 'CustomerErased':
        return change((doc) => ({
          ...doc, name: ERASED, email: null, phone: null, externalRef: null, searchText: '', erasedAt: e.data.erasedAt,
          openFollowUps: doc.openFollowUps.map((f) => ({ ...f, reason: ERASED })),
          lastContact: doc.lastContact ? { ...doc.lastContact, outcome: ERASED } : null,
        }));
      // Merges change no profile (queries combine them through customer_merges); only the stream revision moves on,
      // so the next If-Match a client sends from this profile is current.
      case 'CustomerMergedInto':
      case 'CustomerMerged':
      case 'CustomerUnmergedFrom':
      case 'CustomerUnmerged':
        return change((doc) => doc);
      case 'ProspectConverted':
        return change((doc) => ({ ...doc, kind: 'customer' }));
      case 'CustomerOwnerAssigned':
        return change((doc) => ({ ...doc, ownerId: e.data.ownerId }));
      case 'ContactPreferencesSet':
        return change((doc) => ({
          ...doc,
          preferences: { maxContactsPer7Days: e.data.maxContactsPer7Days, doNotContact: e.data.doNotContact, channels: e.data.channels },
        }));
      case 'ContactLogged':
        return change((doc) => {
          const contact = { contactId: e.data.contactId, channel: e.data.channel, direction: e.data.direction, purpose: e.data.purpose, outcome: e.data.outcome, occurredAt: e.data.occurredAt };
          const lastContact = !doc.lastContact || doc.lastContact.occurredAt <= contact.occurredAt ? contact : doc.lastContact;
          const newest = Math.max(Date.parse(lastContact.occurredAt), Date.parse(contact.occurredAt));
          const recentContacts = [...doc.recentContacts, { occurredAt: contact.occurredAt, direction: contact.direction }]
            .filter((c) => Date.parse(c.occurredAt) > newest - RECENT_WINDOW_MS)
            .sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1));
          return { ...doc, lastContact, recentContacts };
        });
      case 'FollowUpScheduled':
        return change((doc) => ({
          ...doc,
          openFollowUps: [...doc.openFollowUps, { followUpId: e.data.followUpId, dueAt: e.data.dueAt, reason: e.data.reason, ownerId: e.data.ownerId, complaintId: e.data.complaintId ?? null }]
            .sort((a, b) => (a.dueAt < b.dueAt ? -1 : 1)),
        }));
      case 'FollowUpCompleted':
      case 'FollowUpCancelled':
        return change((doc) => ({ ...doc, openFollowUps: doc.openFollowUps.filter((f) => f.followUpId !== e.data.followUpId) }));
      case 'FollowUpReassigned':
        return change((doc) => ({
          ...doc,
          openFollowUps: doc.openFollowUps.map((f) => (f.followUpId === e.data.followUpId ? { ...f, ownerId: e.data.ownerId } : f)),
        }));
      case 'ComplaintFiled':
        return change((doc) => {
          const complaints: ComplaintSummary[] = [...doc.complaints, {
            complaintId: e.data.complaintId, priority: e.data.priority, status: 'filed', ownerId: e.data.ownerId, filedAt: e.data.filedAt,
            firstResponseDueAt: e.data.sla.firstResponseDueAt, resolutionDueAt: e.data.sla.resolutionDueAt, breached: false, respondedAt: null,
          }];
          return { ...doc, complaints, openComplaintCount: doc.openComplaintCount + 1 };
        });
      case 'ComplaintResponded':
        return change((doc) => withComplaint(doc, e.data.complaintId, (c) => ({
          ...c, status: c.status === 'filed' ? 'responded' : c.status, respondedAt: c.respondedAt ?? e.data.respondedAt,
        })));
      case 'ComplaintResolved':
        return change((doc) => withComplaint(doc, e.data.complaintId, (c) => ({ ...c, status: 'resolved' })));
      case 'ComplaintReopened':
        return change((doc) => withComplaint(doc, e.data.complaintId, (c) => ({
          ...c, status: c.respondedAt ? 'responded' : 'filed', resolutionDueAt: e.data.resolutionDueAt,
        })));
      case 'ComplaintClosed':
        return change((doc) => withComplaint(doc, e.data.complaintId, (c) => ({ ...c, status: 'closed' })));
      case 'ComplaintOwnerChanged':
        return change((doc) => withComplaint(doc, e.data.complaintId, (c) => ({ ...c, ownerId: e.data.ownerId })));
      case 'SlaBreached':
        return change((doc) => withComplaint(doc, e.data.complaintId, (c) => ({ ...c, breached: true })));
      case 'ComplaintAwaitingCustomer':
        return change((doc) => withComplaint(doc, e.data.complaintId, (c) => ({ ...c, paused: true })));
      case 'ComplaintResumed':
        return change((doc) => withComplaint(doc, e.data.complaintId, (c) => ({
          ...c, paused: false, firstResponseDueAt: e.data.sla.firstResponseDueAt, resolutionDueAt: e.data.sla.resolutionDueAt,
        })));
      case 'ComplaintPriorityChanged':
        return change((doc) => withComplaint(doc, e.data.complaintId, (c) => ({
          ...c, priority: e.data.priority, firstResponseDueAt: e.data.sla.firstResponseDueAt, resolutionDueAt: e.data.sla.resolutionDueAt,
        })));
      default:
        return [];
    }
}

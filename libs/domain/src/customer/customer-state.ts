import type { Channel, ContactPurpose, CustomerKind } from '../shared/types';
import type { CustomerEvent } from './customer-events';

export type ContactPreferences = {
  /** null: the contact policy's default applies. */
  maxContactsPer7Days: number | null;
  doNotContact: boolean;
  /** Empty: every channel is permitted. */
  channels: readonly Channel[];
};

export const DEFAULT_CONTACT_PREFERENCES: ContactPreferences = {
  maxContactsPer7Days: null,
  doNotContact: false,
  channels: [],
};

/**
 * What the contact policy counts. All outbound contacts are kept, not only recent ones: a contact
 * may be logged with a past `occurredAt`, so any earlier contact can fall into its window.
 */
export type OutboundContact = { occurredAt: string; purpose: ContactPurpose };

export type FollowUpStatus = 'open' | 'completed' | 'cancelled';

export type FollowUp = {
  followUpId: string;
  status: FollowUpStatus;
  dueAt: string;
  ownerId: string;
  complaintId?: string;
};

export type UnregisteredCustomer = { exists: false };

export type RegisteredCustomer = {
  exists: true;
  customerId: string;
  kind: CustomerKind;
  name: string;
  email: string | null;
  phone: string | null;
  ownerId: string | null;
  externalRef: string | null;
  preferences: ContactPreferences;
  outboundContacts: readonly OutboundContact[];
  followUps: Readonly<Record<string, FollowUp>>;
  /** Set by CustomerErased: no command may add to this customer's history any more. */
  erasedAt?: string;
  /** Merged into this survivor: commands addressed here are refused with `customer-merged` (docs/decisions.md). */
  mergedInto?: string;
  /** Duplicates merged into this customer and not unmerged, in merge order. */
  duplicates?: readonly string[];
};

export type CustomerState = UnregisteredCustomer | RegisteredCustomer;

export function initialCustomerState(): CustomerState {
  return { exists: false };
}

export function evolveCustomer(state: CustomerState, event: CustomerEvent): CustomerState {
  if (event.type === 'CustomerRegistered') {
    const { data } = event;
    return {
      exists: true,
      customerId: data.customerId,
      kind: data.kind,
      name: data.name,
      email: data.email ?? null,
      phone: data.phone ?? null,
      ownerId: data.ownerId ?? null,
      externalRef: data.externalRef ?? null,
      preferences: DEFAULT_CONTACT_PREFERENCES,
      outboundContacts: [],
      followUps: {},
    };
  }
  // A stream always starts with CustomerRegistered; anything else before it is ignored.
  if (!state.exists) return state;

  switch (event.type) {
    case 'CustomerErased':
      return { ...state, name: '', email: null, phone: null, erasedAt: event.data.erasedAt };
    case 'CustomerMergedInto':
      return { ...state, mergedInto: event.data.survivorId };
    case 'CustomerUnmergedFrom': {
      const { mergedInto: _gone, ...rest } = state;
      return rest;
    }
    case 'CustomerMerged':
      return { ...state, duplicates: [...(state.duplicates ?? []), event.data.duplicateId] };
    case 'CustomerUnmerged': {
      const duplicates = (state.duplicates ?? []).filter((d) => d !== event.data.duplicateId);
      const { duplicates: _gone, ...rest } = state;
      return duplicates.length > 0 ? { ...rest, duplicates } : rest;
    }
    case 'CustomerProfileChanged': {
      const { changes } = event.data;
      return {
        ...state,
        name: changes.name ?? state.name,
        email: changes.email === undefined ? state.email : changes.email,
        phone: changes.phone === undefined ? state.phone : changes.phone,
      };
    }
    case 'ProspectConverted':
      return { ...state, kind: 'customer' };
    case 'CustomerOwnerAssigned':
      return { ...state, ownerId: event.data.ownerId };
    case 'ContactPreferencesSet': {
      const { maxContactsPer7Days, doNotContact, channels } = event.data;
      return { ...state, preferences: { maxContactsPer7Days, doNotContact, channels: [...channels] } };
    }
    case 'ContactLogged': {
      const { direction, occurredAt, purpose } = event.data;
      if (direction !== 'outbound') return state;
      return { ...state, outboundContacts: [...state.outboundContacts, { occurredAt, purpose }] };
    }
    case 'FollowUpScheduled': {
      const { followUpId, dueAt, ownerId, complaintId } = event.data;
      const followUp: FollowUp = { followUpId, status: 'open', dueAt, ownerId };
      if (complaintId !== undefined) followUp.complaintId = complaintId;
      return { ...state, followUps: { ...state.followUps, [followUpId]: followUp } };
    }
    case 'FollowUpCompleted':
      return withFollowUpStatus(state, event.data.followUpId, 'completed');
    case 'FollowUpCancelled':
      return withFollowUpStatus(state, event.data.followUpId, 'cancelled');
    case 'FollowUpReassigned': {
      const followUp = state.followUps[event.data.followUpId];
      if (followUp === undefined) return state;
      return { ...state, followUps: { ...state.followUps, [followUp.followUpId]: { ...followUp, ownerId: event.data.ownerId } } };
    }
  }
}

function withFollowUpStatus(state: RegisteredCustomer, followUpId: string, status: FollowUpStatus): CustomerState {
  const followUp = state.followUps[followUpId];
  if (followUp === undefined) return state;
  return { ...state, followUps: { ...state.followUps, [followUpId]: { ...followUp, status } } };
}

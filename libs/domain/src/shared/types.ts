/** Value sets of docs/event-catalogue.md. Arrays are for validation at the edge and in tests. */

export const CHANNELS = ['visit', 'phone', 'letter', 'email', 'video', 'chat', 'social', 'self-service'] as const;
export type Channel = (typeof CHANNELS)[number];

export const DIRECTIONS = ['inbound', 'outbound'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const CONTACT_PURPOSES = ['sales', 'support', 'follow-up', 'marketing', 'complaint'] as const;
export type ContactPurpose = (typeof CONTACT_PURPOSES)[number];

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const CUSTOMER_KINDS = ['prospect', 'customer'] as const;
export type CustomerKind = (typeof CUSTOMER_KINDS)[number];

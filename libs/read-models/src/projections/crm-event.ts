import type { ComplaintEvent, CustomerEvent, OrderEvent } from '@crm/domain';
import type { ProjectedEvent } from '../projection/projection';

export type CrmEvent = CustomerEvent | ComplaintEvent | OrderEvent;

/** The log stores plain JSON written by the deciders; projections read it back through the domain's event types. */
export function asCrmEvent(event: ProjectedEvent): CrmEvent {
  return { type: event.type, data: event.data } as CrmEvent;
}

/** Lower case, no diacritics, single spaces: "Zoë  Ångström" → "zoe angstrom", so staff find callers by ear. */
export function normalizeForSearch(value: string): string {
  return value.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function digitsOnly(value: string): string {
  return value.replace(/\D/g, '');
}

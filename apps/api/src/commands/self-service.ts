import type { Principal } from '../auth/principal';
import { problems } from '../http/problem';

/**
 * A `customer` principal may act only for its own customer id. Any other id answers 404, exactly as an unknown
 * id does, so ids cannot be probed.
 */
export function assertMayActFor(principal: Principal, customerId: string): void {
  if (principal.role === 'customer' && principal.customerId !== customerId) {
    throw problems.notFound('customer-not-found', `Customer ${customerId} not found`);
  }
}

/**
 * Fields only staff may set on a command a customer may also send: the complaint's id, its business time
 * (`occurredAt`: a customer's facts happen when they are recorded, so a customer cannot backdate a complaint into
 * breached SLAs) and `resolvedAtFirstContact` (a customer cannot file its complaint as already resolved). Refused,
 * not ignored, so a client learns its request was not carried out as sent.
 */
export function refuseStaffOnlyFields(principal: Principal, body: object, fields: readonly string[]): void {
  if (principal.role !== 'customer') return;
  const given = fields.filter((field) => (body as Record<string, unknown>)[field] !== undefined);
  if (given.length > 0) throw problems.fieldNotAllowed('customer', given);
}

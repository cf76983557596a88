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

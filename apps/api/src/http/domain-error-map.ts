import type { DomainErrorCode } from '@crm/domain';

/**
 * Every domain error code → HTTP status and title. A `Record` over the union: adding a code to the domain
 * fails compilation here until it is mapped. The problem `type` is the code itself.
 */
export const DOMAIN_ERROR_HTTP: Record<DomainErrorCode, { status: number; title: string }> = {
  'customer-not-found': { status: 404, title: 'Customer not found' },
  'complaint-not-found': { status: 404, title: 'Complaint not found' },
  'order-not-found': { status: 404, title: 'Order not found' },
  'follow-up-not-found': { status: 404, title: 'Follow-up not found' },
  'customer-already-exists': { status: 409, title: 'Customer already exists' },
  'customer-erased': { status: 410, title: 'Customer was erased' },
  'complaint-already-exists': { status: 409, title: 'Complaint already exists' },
  'order-already-exists': { status: 409, title: 'Order already exists' },
  'already-a-customer': { status: 422, title: 'Already a customer' },
  'owner-unchanged': { status: 422, title: 'Owner unchanged' },
  'no-change': { status: 422, title: 'Nothing to change' },
  'contact-cap-exceeded': { status: 422, title: 'Contact refused by the contact policy' },
  'follow-up-closed': { status: 422, title: 'Follow-up already completed or cancelled' },
  'complaint-closed': { status: 422, title: 'Complaint is closed' },
  'complaint-not-resolved': { status: 422, title: 'Complaint is not resolved' },
  'complaint-already-resolved': { status: 422, title: 'Complaint is already resolved' },
  'complaint-not-reopenable': { status: 422, title: 'Complaint cannot be reopened' },
  'complaint-not-of-customer': { status: 422, title: 'Complaint belongs to another customer' },
  'complaint-not-pausable': { status: 409, title: 'Complaint is resolved or closed: it cannot wait for the customer' },
  'complaint-already-paused': { status: 409, title: 'Complaint is already waiting for the customer' },
  'complaint-not-paused': { status: 409, title: 'Complaint is not waiting for the customer' },
  'priority-unchanged': { status: 422, title: 'Priority unchanged' },
  'return-exceeds-purchase': { status: 422, title: 'Return exceeds what was bought' },
  'invalid-money': { status: 422, title: 'Invalid money amount' },
  'policy-version-exists': { status: 409, title: 'Policy version exists already' },
};

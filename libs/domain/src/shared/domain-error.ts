/**
 * Every business refusal the domain can make. The strings are the stable codes of the
 * "Rules" table in docs/event-catalogue.md; the HTTP edge maps each one to a status and a
 * problem type, so adding a code here must fail compilation there until it is mapped.
 */
export const DOMAIN_ERROR_CODES = [
  'customer-not-found',
  'complaint-not-found',
  'order-not-found',
  'follow-up-not-found',
  'customer-already-exists',
  'customer-erased',
  'order-already-exists',
  'complaint-already-exists',
  'already-a-customer',
  'owner-unchanged',
  'no-change',
  'contact-cap-exceeded',
  'follow-up-closed',
  'complaint-closed',
  'complaint-not-resolved',
  'complaint-already-resolved',
  'complaint-not-reopenable',
  'complaint-not-of-customer',
  'complaint-not-pausable',
  'complaint-already-paused',
  'complaint-not-paused',
  'priority-unchanged',
  'return-exceeds-purchase',
  'invalid-money',
  'policy-version-exists',
] as const;

export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export function isDomainErrorCode(value: string): value is DomainErrorCode {
  return (DOMAIN_ERROR_CODES as readonly string[]).includes(value);
}

/** A command refused by a business rule. `details` is plain JSON meant for the problem response. */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

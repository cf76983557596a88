import { expect } from '@jest/globals';
import { DomainError } from '../src/shared/domain-error';
import type { DomainErrorCode } from '../src/shared/domain-error';

/** Runs `action` and asserts it throws a DomainError with `code` (and details containing `details`). */
export function expectDomainError(action: () => unknown, code: DomainErrorCode, details?: Record<string, unknown>): DomainError {
  let result: unknown;
  try {
    result = action();
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(DomainError);
    const domainError = error as DomainError;
    expect(domainError.code).toBe(code);
    if (details !== undefined) expect(domainError.details).toMatchObject(details);
    return domainError;
  }
  throw new Error(`expected DomainError '${code}', got ${JSON.stringify(result)}`);
}

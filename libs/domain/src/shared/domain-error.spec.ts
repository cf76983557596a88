import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMAIN_ERROR_CODES, DomainError, isDomainErrorCode } from './domain-error';

/** The first cell of each row of the catalogue's "Rules" table lists its codes in backticks. */
function codesInCatalogue(): string[] {
  const catalogue = readFileSync(join(__dirname, '../../../../docs/event-catalogue.md'), 'utf8');
  const rules = catalogue.split('## Rules')[1]?.split('###')[0] ?? '';
  return rules
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([a-z-]+)`/g)].map((match) => match[1] ?? ''));
}

describe('DomainError', () => {
  it('has exactly the codes of the catalogue table', () => {
    expect([...DOMAIN_ERROR_CODES].sort()).toEqual(codesInCatalogue().sort());
  });

  it('carries its code, message and details', () => {
    const error = new DomainError('owner-unchanged', 'already owned', { ownerId: 'agent-ana' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DomainError');
    expect(error.code).toBe('owner-unchanged');
    expect(error.message).toBe('already owned');
    expect(error.details).toEqual({ ownerId: 'agent-ana' });
    expect(new DomainError('no-change', 'nothing').details).toEqual({});
  });

  it('recognises its codes', () => {
    expect(isDomainErrorCode('contact-cap-exceeded')).toBe(true);
    expect(isDomainErrorCode('ContactCapExceeded')).toBe(false);
  });
});

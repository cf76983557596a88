import { DOMAIN_ERROR_CODES } from '@crm/domain';
import { ApiProblem, problems } from './problem';
import { PROBLEM_TYPES, type ProblemType } from './problem-types';

/** The OpenAPI document lists PROBLEM_TYPES: every problem the edge makes must be there, with its status. */
describe('problem type registry', () => {
  it('lists every problems.* factory with the status it answers', () => {
    const made: ApiProblem[] = [
      problems.validation([]), problems.malformedJson('x'), problems.badRequest('x'), problems.badUrl(), problems.notHttp(),
      problems.uriTooLong(), problems.headerFieldsTooLarge(), problems.requestTimeout(), problems.unsupportedMediaType('x'),
      problems.payloadTooLarge(1), problems.unauthorized('x'), problems.forbidden('x'), problems.fieldNotAllowed('customer', ['id']),
      problems.routeNotFound('GET'), problems.preconditionFailed('x', 1), problems.concurrencyConflict('x'), problems.idempotencyKeyReused(),
      problems.idempotencyKeyInProgress(), problems.appendTooLarge(1), problems.appendRefused('x'), problems.storeUnavailable('x'),
      problems.internal(),
    ];
    const wrong = made.filter((p) => PROBLEM_TYPES[p.type as ProblemType]?.status !== p.status).map((p) => `${p.type} ${p.status}`);
    expect(wrong).toEqual([]);
  });

  it('lists every domain error code', () => {
    expect(DOMAIN_ERROR_CODES.filter((code) => !(code in PROBLEM_TYPES))).toEqual([]);
  });

  it('says Retry-After where the problem sends it', () => {
    const withRetry = [problems.idempotencyKeyInProgress(), problems.storeUnavailable('x')];
    expect(withRetry.filter((p) => p.headers['Retry-After'] === undefined || PROBLEM_TYPES[p.type as ProblemType].retryAfter !== true)).toEqual([]);
  });
});

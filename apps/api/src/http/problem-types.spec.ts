import { DOMAIN_ERROR_CODES } from '@crm/domain';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

  it('lists every type the API source raises by hand (new ApiProblem(status, type), problems.notFound(type))', () => {
    const root = join(__dirname, '..');
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    const raised: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const m of text.matchAll(/new ApiProblem\(\s*(\d{3}),\s*'([a-z-]+)'/g)) raised.push(`${m[2]} ${m[1]}`);
      for (const m of text.matchAll(/notFound\(\s*'([a-z-]+)'/g)) raised.push(`${m[1]} 404`);
    }
    expect(raised.length).toBeGreaterThan(20);
    const unlisted = [...new Set(raised)].filter((r) => {
      const [type, status] = r.split(' ');
      return PROBLEM_TYPES[type as ProblemType]?.status !== Number(status);
    });
    // Add each to EDGE_PROBLEMS in problem-types.ts, so that the OpenAPI document lists it.
    expect(unlisted).toEqual([]);
  });

  it('lists every domain error code', () => {
    expect(DOMAIN_ERROR_CODES.filter((code) => !(code in PROBLEM_TYPES))).toEqual([]);
  });

  it('says Retry-After where the problem sends it', () => {
    const withRetry = [problems.idempotencyKeyInProgress(), problems.storeUnavailable('x')];
    expect(withRetry.filter((p) => p.headers['Retry-After'] === undefined || PROBLEM_TYPES[p.type as ProblemType].retryAfter !== true)).toEqual([]);
  });
});

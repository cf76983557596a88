import { DOMAIN_ERROR_HTTP } from './domain-error-map';

interface ProblemTypeInfo {
  readonly status: number;
  readonly title: string;
  /** The answer carries `Retry-After` (the same request may succeed later). */
  readonly retryAfter?: boolean;
}

/**
 * Problems the edge raises itself (problem.ts, the read-model gate, health, operations). Kept beside the domain
 * codes so that the OpenAPI document lists every `type` a client can switch on; problem-types.spec.ts checks that
 * each `problems.*` factory answers a type listed here with the same status.
 */
const EDGE_PROBLEMS = {
  'validation-error': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The body is not valid JSON' },
  'bad-request': { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed for this role' },
  'field-not-allowed': { status: 403, title: 'A field this role may not set' },
  'route-not-found': { status: 404, title: 'No such route' },
  'not-found': { status: 404, title: 'Not found' },
  'stream-not-found': { status: 404, title: 'Not found' },
  'projection-not-found': { status: 404, title: 'Not found' },
  'request-timeout': { status: 408, title: 'The request took too long to arrive' },
  'concurrency-conflict': { status: 409, title: 'Concurrent change, try again' },
  'idempotency-key-in-progress': { status: 409, title: 'A request with this Idempotency-Key is still being processed', retryAfter: true },
  'projector-not-embedded': { status: 409, title: 'The projections run in another process' },
  'precondition-failed': { status: 412, title: 'The resource has changed' },
  'payload-too-large': { status: 413, title: 'The body is too large' },
  'append-too-large': { status: 413, title: 'The events are larger than the event store accepts' },
  'uri-too-long': { status: 414, title: 'The URI is too long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency key already used with another request' },
  'append-refused': { status: 422, title: 'The event store refused the events' },
  'header-fields-too-large': { status: 431, title: 'The request headers are too large' },
  'internal-error': { status: 500, title: 'Internal error' },
  'store-unavailable': { status: 503, title: 'A store is unavailable', retryAfter: true },
  'read-model-behind': { status: 503, title: 'The read model has not caught up yet', retryAfter: true },
  'not-ready': { status: 503, title: 'Not ready', retryAfter: true },
} as const satisfies Record<string, ProblemTypeInfo>;

export type ProblemType = keyof typeof EDGE_PROBLEMS | keyof typeof DOMAIN_ERROR_HTTP;

/** Every problem `type` this API answers, with its status: the edge's and the domain's (the code is the type). */
export const PROBLEM_TYPES: Readonly<Record<ProblemType, ProblemTypeInfo>> = { ...EDGE_PROBLEMS, ...DOMAIN_ERROR_HTTP };

export const ALL_PROBLEM_TYPES = Object.keys(PROBLEM_TYPES).sort() as ProblemType[];

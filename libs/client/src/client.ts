import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Problem = components['schemas']['Problem'];
export type ProblemType = components['schemas']['ProblemType'];
export type FieldError = NonNullable<Problem['errors']>[number];
export type CrmClient = Client<paths>;

const COMMAND_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance', 'errors']);

/**
 * An RFC 9457 problem the API answered, as an error: switch on `type` (stable), show `title` and `detail` to the
 * user. Members beyond the standard ones (`currentRevision`, `rule`, `minPosition`, …) are in `extensions`.
 * A failure that is not a problem document (a proxy's HTML 502) gets type `about:blank` and the status text.
 */
export class ProblemError extends Error {
  readonly type: ProblemType | 'about:blank';
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly errors?: FieldError[];
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(problem: Problem & Record<string, unknown>, readonly response?: Response) {
    super(`${problem.status} ${problem.type}: ${problem.detail}`);
    this.name = 'ProblemError';
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.instance = problem.instance;
    this.errors = problem.errors;
    this.extensions = Object.fromEntries(Object.entries(problem).filter(([key]) => !PROBLEM_MEMBERS.has(key)));
  }

  /** `Retry-After` in seconds, when the API said when to retry (503, 409 idempotency-key-in-progress). */
  get retryAfterSeconds(): number | undefined {
    const header = this.response?.headers.get('retry-after');
    const seconds = header === null || header === undefined ? Number.NaN : Number(header);
    return Number.isFinite(seconds) ? seconds : undefined;
  }
}

export interface CrmClientOptions {
  /** Where the API is, e.g. `https://crm.example.com` (no trailing path). */
  readonly baseUrl: string;
  /** The bearer token, or a function asked on every request (a token that changes on sign-in). */
  readonly token?: string | (() => string | undefined);
  /** Idempotency keys for commands sent without one (default: a random UUID). */
  readonly newIdempotencyKey?: () => string;
  /** A fetch implementation (default: the global one). */
  readonly fetch?: typeof globalThis.fetch;
}

/** `"3"`: a stream revision as the API's ETag, for `If-Match`. */
export const etag = (streamRevision: number): string => `"${streamRevision}"`;

/** The log position a query answer reflects (`X-Read-Model-Position`), or undefined for answers that are not a read model's. */
export function readModelPosition(response: Response): number | undefined {
  const header = response.headers.get('x-read-model-position');
  return header === null ? undefined : Number(header);
}

async function problemOf(response: Response): Promise<Problem & Record<string, unknown>> {
  const text = await response.clone().text();
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      const body = JSON.parse(text) as unknown;
      if (typeof body === 'object' && body !== null && typeof (body as { type?: unknown }).type === 'string') return body as Problem & Record<string, unknown>;
    } catch {
      // Not JSON after all: described below from the status.
    }
  }
  return { type: 'about:blank' as ProblemType, title: response.statusText || `HTTP ${response.status}`, status: response.status, detail: text.slice(0, 500) };
}

/**
 * The typed client: every path, parameter, body and answer of the API's OpenAPI document (libs/client/openapi.json),
 * through openapi-fetch. On top: the bearer token on every request; an `Idempotency-Key` on every command that has
 * none (pass `params: { header: { 'Idempotency-Key': key } }` to retry one safely with the same key); and any answer
 * that is not a success is thrown as a ProblemError, so `data` is the success body when the call returns.
 * `If-Match` is a typed header parameter of the commands on existing streams: `params: { header: { 'If-Match': etag(3) } }`.
 */
export function createCrmClient(options: CrmClientOptions): CrmClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  const newKey = options.newIdempotencyKey ?? (() => globalThis.crypto.randomUUID());
  const middleware: Middleware = {
    onRequest({ request }) {
      const token = typeof options.token === 'function' ? options.token() : options.token;
      if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
      if (COMMAND_METHODS.has(request.method) && !request.headers.has('idempotency-key')) request.headers.set('idempotency-key', newKey());
      return request;
    },
    async onResponse({ response }) {
      if (!response.ok) throw new ProblemError(await problemOf(response), response);
      return undefined;
    },
  };
  client.use(middleware);
  return client;
}

/**
 * The success body of a call, typed without `undefined`: a failure was already thrown as a ProblemError. For answers
 * with an empty body (none in this API today) it throws rather than return undefined as the body type.
 */
export async function ok<T>(call: Promise<{ data?: T; response: Response }>): Promise<T> {
  const { data, response } = await call;
  if (data === undefined) throw new ProblemError({ type: 'about:blank' as ProblemType, title: 'Empty answer', status: response.status, detail: 'The answer had no body' }, response);
  return data;
}

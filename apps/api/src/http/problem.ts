/**
 * RFC 9457 problem details. `type` is a stable, relative URI reference (e.g. `contact-cap-exceeded`) that clients
 * switch on; `title` is the same for every occurrence of a type; `detail` explains this occurrence.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export interface FieldError {
  field: string;
  messages: string[];
}

/** Thrown by the edge (guards, pipes, controllers) for failures that are not domain decisions. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  toBody(instance?: string): ProblemBody {
    return { ...this.extensions, type: this.type, title: this.title, status: this.status, detail: this.message, instance };
  }
}

export const problems = {
  validation: (errors: FieldError[]) =>
    new ApiProblem(400, 'validation-error', 'The request is not valid', `${errors.length} field(s) are not valid`, { errors }),
  malformedJson: (detail: string) => new ApiProblem(400, 'malformed-json', 'The body is not valid JSON', detail),
  badRequest: (detail: string) => new ApiProblem(400, 'bad-request', 'Bad request', detail),
  badUrl: () => new ApiProblem(400, 'bad-request', 'Bad request', 'The URL is not validly percent-encoded'),
  notHttp: () => new ApiProblem(400, 'bad-request', 'Bad request', 'The request could not be read as HTTP/1.1'),
  uriTooLong: () => new ApiProblem(414, 'uri-too-long', 'The URI is too long', 'A path segment of the URL is longer than this API accepts'),
  headerFieldsTooLarge: () =>
    new ApiProblem(431, 'header-fields-too-large', 'The request headers are too large', 'The request line and headers exceed the size this server accepts'),
  requestTimeout: () =>
    new ApiProblem(408, 'request-timeout', 'The request took too long to arrive', 'The request was not received within the time this server allows'),
  unsupportedMediaType: (detail: string) =>
    new ApiProblem(415, 'unsupported-media-type', 'Unsupported media type', detail),
  payloadTooLarge: (limit: number) =>
    new ApiProblem(413, 'payload-too-large', 'The body is too large', `The body exceeds the limit of ${limit} bytes`),
  unauthorized: (detail: string) =>
    new ApiProblem(401, 'unauthorized', 'Authentication required', detail, {}, { 'WWW-Authenticate': 'Bearer' }),
  forbidden: (detail: string) => new ApiProblem(403, 'forbidden', 'Not allowed for this role', detail),
  fieldNotAllowed: (role: string, fields: readonly string[]) =>
    new ApiProblem(403, 'field-not-allowed', 'A field this role may not set', `The ${role} role may not set ${fields.join(', ')}`, {
      errors: fields.map((field) => ({ field, messages: [`${field} may not be set by the ${role} role`] })),
    }),
  // The path is not repeated: an unknown route is whatever a client sent.
  routeNotFound: (method: string) =>
    new ApiProblem(404, 'route-not-found', 'No such route', `No route of this API answers ${method} on this path`),
  notFound: (type: string, detail: string) => new ApiProblem(404, type, 'Not found', detail),
  preconditionFailed: (detail: string, currentRevision: number) =>
    new ApiProblem(412, 'precondition-failed', 'The resource has changed', detail, { currentRevision }),
  concurrencyConflict: (detail: string) =>
    new ApiProblem(409, 'concurrency-conflict', 'Concurrent change, try again', detail),
  idempotencyKeyReused: () =>
    new ApiProblem(
      422,
      'idempotency-key-reused',
      'Idempotency key already used with another request',
      'This Idempotency-Key was used before with a different method, path or body',
    ),
  idempotencyKeyInProgress: () =>
    new ApiProblem(
      409,
      'idempotency-key-in-progress',
      'A request with this Idempotency-Key is still being processed',
      'Retry after the first request has finished',
      {},
      { 'Retry-After': '1' },
    ),
  // No Retry-After on these two: the store refuses the same append every time.
  appendTooLarge: (maxBytes: number | undefined) =>
    new ApiProblem(413, 'append-too-large', 'The events are larger than the event store accepts',
      `The events this command would append exceed the event store's maximum append size${maxBytes === undefined ? '' : ` of ${maxBytes} bytes`}; nothing was appended`,
      maxBytes === undefined ? {} : { maxAppendBytes: maxBytes }),
  appendRefused: (reason: string) =>
    new ApiProblem(422, 'append-refused', 'The event store refused the events', `The event store refused this command's events as invalid (${reason}); nothing was appended`),
  storeUnavailable: (detail: string) =>
    new ApiProblem(503, 'store-unavailable', 'A store is unavailable', detail, {}, { 'Retry-After': '5' }),
  internal: () => new ApiProblem(500, 'internal-error', 'Internal error', 'The error was logged; nothing was appended'),
};

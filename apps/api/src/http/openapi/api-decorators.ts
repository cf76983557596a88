import { applyDecorators, type Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ApiHeader, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { ProblemType } from '../problem-types';
import { CommandResultDto } from './common-responses.dto';

/** The problem types of a route handler (our own metadata: openapi-document.ts turns them into responses). */
const PROBLEM_TYPES_METADATA = 'crm:problemTypes';

function addProblemTypes(method: object, types: readonly ProblemType[]): void {
  const known = problemTypesOf(method);
  Reflect.defineMetadata(PROBLEM_TYPES_METADATA, [...new Set([...known, ...types])], method);
}

export function problemTypesOf(handler: object): ProblemType[] {
  return (Reflect.getMetadata(PROBLEM_TYPES_METADATA, handler) as ProblemType[] | undefined) ?? [];
}

/**
 * The problem types a route (or every route of a controller) can answer besides the ones every route can
 * (validation-error, bad-request, and unauthorized/forbidden unless public). Cumulative, unlike `ApiResponse`, so
 * `ApiCommand()` and a route's own `ApiProblems('contact-cap-exceeded')` add up; grouped by status when the document
 * is built, each as `application/problem+json` with the `Problem` schema and an example per type.
 */
export function ApiProblems(...types: ProblemType[]): MethodDecorator & ClassDecorator {
  return ((target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      addProblemTypes(descriptor.value as object, types);
      return descriptor;
    }
    // A class decorator runs after the method decorators: every route method is known by now.
    const prototype = (target as { prototype: object }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
      if (typeof method === 'function' && Reflect.hasMetadata(METHOD_METADATA, method)) addProblemTypes(method, types);
    }
    return target;
  }) as MethodDecorator & ClassDecorator;
}

const ID_EXAMPLE = '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f';

export const IDEMPOTENCY_KEY_HEADER = ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description: 'Any unique string up to 255 characters (a UUID). A retry with the same key and body replays the first answer and appends '
    + 'nothing; the same key with another body → 422 idempotency-key-reused; while the first is still running → 409 idempotency-key-in-progress. '
    + 'Keys are scoped to the token.',
  schema: { type: 'string', maxLength: 255, example: '3f2b9c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e' },
});

export const IF_MATCH_HEADER = ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'The stream revision the client last saw (the ETag of a command answer, or streamRevision of a query): '
    + 'when the stream has moved on → 412 precondition-failed with currentRevision, and nothing is appended.',
  schema: { type: 'string', example: '"3"' },
});

export const CORRELATION_ID_HEADER = ApiHeader({
  name: 'X-Correlation-Id',
  required: false,
  description: 'Recorded as the correlationId of the events this command appends (else a new one; ignored unless 1-128 of [A-Za-z0-9_.:@-])',
  schema: { type: 'string', maxLength: 128 },
});

const COMMAND_PROBLEMS: ProblemType[] = [
  'malformed-json', 'unsupported-media-type', 'payload-too-large', 'concurrency-conflict', 'idempotency-key-reused',
  'idempotency-key-in-progress', 'append-too-large', 'append-refused', 'store-unavailable',
];

export interface ApiCommandOptions {
  /** Success status (default 201). */
  readonly status?: number;
  /** Success body (default CommandResult: `{ id, streamRevision, position }` with ETag and Location). */
  readonly type?: Type<unknown>;
  /** The command acts on an existing stream, so If-Match applies (default true; false for commands that create one). */
  readonly ifMatch?: boolean;
  readonly description?: string;
  /** The answer carries ETag and Location although its body is not a CommandResult (default: only with CommandResult). */
  readonly etag?: boolean;
  /** Example of the Location header (default: a customer). */
  readonly location?: string;
}

/**
 * A command route: Idempotency-Key (and If-Match on an existing stream) in, 201 CommandResult with ETag and
 * Location out, and the problems every command can meet on the way to the log.
 */
export function ApiCommand(options: ApiCommandOptions = {}): MethodDecorator {
  const type = options.type ?? CommandResultDto;
  const commandResult = type === CommandResultDto;
  const decorators: Array<MethodDecorator & ClassDecorator> = [
    IDEMPOTENCY_KEY_HEADER,
    CORRELATION_ID_HEADER,
    ApiResponse({
      status: options.status ?? 201,
      type,
      description: options.description ?? (commandResult ? 'Appended: the stream revision (also the ETag) and the log position' : 'Done'),
      headers: options.etag ?? commandResult
        ? {
          ETag: { description: 'The stream revision after the command, quoted: send it as If-Match', schema: { type: 'string', example: '"3"' } },
          Location: { description: 'Where the entity is read', schema: { type: 'string', example: options.location ?? `/customers/${ID_EXAMPLE}` } },
        }
        : undefined,
    }),
    ApiProblems(...COMMAND_PROBLEMS, ...(options.ifMatch === false ? [] : ['precondition-failed' as const])),
  ];
  if (options.ifMatch !== false) decorators.push(IF_MATCH_HEADER);
  return applyDecorators(...decorators);
}

/**
 * A query answered from a read model: 200 with the body and `X-Read-Model-Position`, and read-your-writes through
 * `?minPosition=` or `X-Min-Position` (503 read-model-behind with Retry-After when the wait runs out).
 */
export function ApiReadModel(type: Type<unknown>, description = 'The answer, as of the log position in X-Read-Model-Position'): MethodDecorator {
  return applyDecorators(
    ApiResponse({
      status: 200,
      type,
      description,
      headers: {
        'X-Read-Model-Position': {
          description: 'The log position this answer reflects (also asOfPosition in the body)',
          schema: { type: 'integer', minimum: 0, example: 1042 },
        },
      },
    }),
    ApiQuery({
      name: 'minPosition',
      required: false,
      description: 'Read-your-writes: wait (bounded) until the read model has applied this log position (the `position` of a command answer)',
      schema: { type: 'integer', minimum: 0, example: 1042 },
    }),
    ApiHeader({
      name: 'X-Min-Position',
      required: false,
      description: 'The same as ?minPosition= (the query parameter wins when both are given)',
      schema: { type: 'integer', minimum: 0 },
    }),
    ApiProblems('read-model-behind', 'store-unavailable'),
  );
}

/** A 200 answer that is not a read model's (no position header). */
export function ApiOk(type: Type<unknown>, description = 'OK'): MethodDecorator {
  return ApiResponse({ status: 200, type, description });
}

// Query parameter schemas. The routes still parse them by hand (query-params.ts), so the schemas say what that parsing accepts.

export function ApiIntQuery(name: string, o: { min: number; max?: number; default?: number; description?: string }): MethodDecorator {
  const schema: SchemaObject = { type: 'integer', minimum: o.min };
  if (o.max !== undefined && o.max < Number.MAX_SAFE_INTEGER) schema.maximum = o.max;
  if (o.default !== undefined && o.default < Number.MAX_SAFE_INTEGER) schema.default = o.default;
  return ApiQuery({ name, required: false, description: o.description, schema });
}

/** A date (`2026-11-23`, midnight UTC) or a date-time with a zone. */
export function ApiInstantQuery(name: string, description?: string): MethodDecorator {
  return ApiQuery({
    name,
    required: false,
    description: `${description ? `${description}. ` : ''}A date (YYYY-MM-DD, midnight UTC) or an ISO-8601 date-time with a zone`,
    schema: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }], example: '2026-11-23T10:00:00Z' },
  });
}

export function ApiEnumQuery(name: string, values: readonly string[], o: { default?: string; description?: string } = {}): MethodDecorator {
  return ApiQuery({ name, required: false, description: o.description, schema: { type: 'string', enum: [...values], ...(o.default ? { default: o.default } : {}) } });
}

export function ApiStringQuery(name: string, o: { description?: string; required?: boolean; pattern?: string; maxLength?: number; example?: string } = {}): MethodDecorator {
  const schema: SchemaObject = { type: 'string' };
  if (o.pattern) schema.pattern = o.pattern;
  if (o.maxLength) schema.maxLength = o.maxLength;
  if (o.example) schema.example = o.example;
  return ApiQuery({ name, required: o.required ?? false, description: o.description, schema });
}

export function ApiBoolQuery(name: string, description?: string): MethodDecorator {
  return ApiQuery({ name, required: false, description, schema: { type: 'boolean' } });
}

/** An id filter (customer, owner): matched as given, not checked (an unknown id finds nothing). */
export function ApiIdQuery(name: string, description?: string, example = 'agent-ana'): MethodDecorator {
  return ApiStringQuery(name, { description, example });
}

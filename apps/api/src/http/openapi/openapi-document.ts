import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, ResponseObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ALLOWED_ROLES, DEFAULT_ROLES, IS_PUBLIC, type Role } from '../../auth/principal';
import { PROBLEM_TYPES, type ProblemType } from '../problem-types';
import { problemTypesOf } from './api-decorators';
import { CommandResultDto, ProblemDto } from './common-responses.dto';

/** Extensions written on each operation (`x-roles`) and each problem response (`x-problem-types`). */
export const ROLES_EXTENSION = 'x-roles';
export const PROBLEM_TYPES_EXTENSION = 'x-problem-types';

const PROBLEM_SCHEMA = { $ref: '#/components/schemas/Problem' };
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const TAGS: Array<{ name: string; description: string }> = [
  { name: 'customers', description: 'Register customers and prospects, log contacts, schedule follow-ups; profile and timeline' },
  { name: 'complaints', description: 'Complaint lifecycle and SLA: the board, breaches, follow-ups due' },
  { name: 'purchases', description: 'Orders and returns (money as exact decimal strings)' },
  { name: 'loyalty', description: 'Points, tier and RFM per customer; top customers' },
  { name: 'analytics', description: 'SLA performance, revenue, cross-sell; SLA what-if' },
  { name: 'history', description: 'The unprojected event log: stream events, customer trails, NDJSON export' },
  { name: 'privacy', description: 'Data portability and erasure (crypto-shredding)' },
  { name: 'operations', description: 'Health, metrics, projections' },
];

/**
 * The OpenAPI document served at /docs-json and committed as libs/client/openapi.json. Controllers describe their
 * own bodies, queries and problem types with the decorators of api-decorators.ts; what follows from the global guards
 * is added here for every operation alike, so a new route cannot forget it: its security (bearer, or none for
 * `@Public()`), its roles (`x-roles`, the guard's default when the route names none), and the problems every route
 * can answer (validation-error for a repeated query parameter, bad-request for a bad URL, 401/403 unless public).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Event-sourced CRM')
    .setDescription(
      'Commands append events and answer 201 `{ id, streamRevision, position }` with an ETag; queries read projections '
      + 'and say the log position they reflect (X-Read-Model-Position). Send `Idempotency-Key` on every command, `If-Match` '
      + 'to act only on the revision you saw, and `?minPosition=` to read your own write. Errors are application/problem+json '
      + '(RFC 9457) with a stable `type`. See docs/frontend.md.',
    )
    .setVersion('0.1.0')
    // Opaque tokens looked up by their SHA-256 digest (docs/security.md): not JWTs, so no bearerFormat.
    .addSecurity('bearer', { type: 'http', scheme: 'bearer', description: 'An opaque token from AUTH_TOKENS_FILE (or the embedded admin token)' })
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ProblemDto, CommandResultDto],
    operationIdFactory: operationId,
  });
  return completeDocument(document, routeFacts(app));
}

const operationId = (controller: string, method: string): string => `${controller}_${method}`;

/** What the guards and decorators say of a route, read from the same metadata they read. */
export interface RouteFacts {
  readonly isPublic: boolean;
  readonly roles: readonly Role[];
  readonly problemTypes: readonly ProblemType[];
}

/** By operation id: the guard's own metadata (handler over class, as Reflector.getAllAndOverride reads it). */
function routeFacts(app: INestApplication): Map<string, RouteFacts> {
  const facts = new Map<string, RouteFacts>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!controller) continue;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = Object.getOwnPropertyDescriptor(controller.prototype, name)?.value as unknown;
        if (typeof handler !== 'function' || name === 'constructor') continue;
        const read = <T>(key: string): T | undefined =>
          (Reflect.getMetadata(key, handler) as T | undefined) ?? (Reflect.getMetadata(key, controller) as T | undefined);
        facts.set(operationId(controller.name, name), {
          isPublic: read<boolean>(IS_PUBLIC) === true,
          roles: read<Role[]>(ALLOWED_ROLES) ?? DEFAULT_ROLES,
          problemTypes: problemTypesOf(handler),
        });
      }
    }
  }
  return facts;
}

const problemExampleName = (type: ProblemType): string => `problem-${type}`;

function problemExamples(): Record<string, { summary: string; value: Record<string, unknown> }> {
  return Object.fromEntries((Object.keys(PROBLEM_TYPES) as ProblemType[]).sort().map((type) => [problemExampleName(type), {
    summary: PROBLEM_TYPES[type].title,
    value: { type, title: PROBLEM_TYPES[type].title, status: PROBLEM_TYPES[type].status, detail: '…' },
  }]));
}

function problemResponse(types: readonly ProblemType[]): ResponseObject & Record<string, unknown> {
  const sorted = [...types].sort();
  const retryAfter = sorted.some((t) => PROBLEM_TYPES[t].retryAfter);
  const unauthorized = sorted.includes('unauthorized');
  const headers: NonNullable<ResponseObject['headers']> = {};
  if (retryAfter) headers['Retry-After'] = { description: 'Seconds to wait before retrying', schema: { type: 'integer', example: 1 } };
  if (unauthorized) headers['WWW-Authenticate'] = { description: 'Bearer', schema: { type: 'string', example: 'Bearer' } };
  return {
    description: sorted.map((t) => `\`${t}\`: ${PROBLEM_TYPES[t].title}`).join('; '),
    ...(Object.keys(headers).length ? { headers } : {}),
    content: {
      'application/problem+json': {
        schema: PROBLEM_SCHEMA,
        // By reference: the same few dozen examples serve every operation (components.examples).
        examples: Object.fromEntries(sorted.map((type) => [type, { $ref: `#/components/examples/${problemExampleName(type)}` }])),
      },
    },
    [PROBLEM_TYPES_EXTENSION]: sorted,
  };
}

function completeOperation(op: OperationObject & Record<string, unknown>, route: RouteFacts | undefined): void {
  // An operation whose handler is not found (another operationIdFactory) is described as the guard's default.
  const isPublic = route?.isPublic ?? false;
  const types = new Set<ProblemType>(route?.problemTypes ?? []);
  types.add('validation-error').add('bad-request');
  if (isPublic) {
    op.security = [];
  } else {
    op.security = [{ bearer: [] }];
    const roles = [...(route?.roles ?? DEFAULT_ROLES)];
    op[ROLES_EXTENSION] = roles;
    const line = `Roles: ${roles.join(', ')}.`;
    op.description = op.description ? `${op.description}\n\n${line}` : line;
    types.add('unauthorized').add('forbidden');
  }
  const byStatus = new Map<number, ProblemType[]>();
  for (const type of types) byStatus.set(PROBLEM_TYPES[type].status, [...(byStatus.get(PROBLEM_TYPES[type].status) ?? []), type]);
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) op.responses[String(status)] = problemResponse(byStatus.get(status) ?? []);
}

/**
 * A command whose body has no required field may be sent without a body (app.factory.ts reads a missing body as
 * `{}`): its request body is optional, so a generated client does not demand `body: {}` for `close` or `convert`.
 */
function optionalBodyWhenNothingRequired(op: OperationObject, document: OpenAPIObject): void {
  const body = op.requestBody;
  if (!body || '$ref' in body) return;
  const schema = body.content['application/json']?.schema;
  const name = schema && '$ref' in schema ? schema.$ref.replace('#/components/schemas/', '') : undefined;
  const target = name ? document.components?.schemas?.[name] : undefined;
  if (target && !('$ref' in target) && (target.required ?? []).length === 0) body.required = false;
}

export function completeDocument(document: OpenAPIObject, routes: ReadonlyMap<string, RouteFacts>): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const op = item[method] as (OperationObject & Record<string, unknown>) | undefined;
      if (!op) continue;
      completeOperation(op, op.operationId ? routes.get(op.operationId) : undefined);
      optionalBodyWhenNothingRequired(op, document);
    }
  }
  document.components = { ...document.components, examples: { ...document.components?.examples, ...problemExamples() } };
  const problem = document.components.schemas?.['Problem'];
  if (problem && !('$ref' in problem)) problem.additionalProperties = true;
  document.tags = TAGS;
  return document;
}

import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { RequestWithPrincipal } from '../auth/principal';
import { problems } from '../http/problem';
import { uuidv7, type Clock } from '@crm/runtime';
import { reservedKeyOf } from '../idempotency/idempotency.guard';
import { SAFE_ID } from '../http/request-id';
import type { CommandContext } from './command-executor';

const ETAG = /^(?:W\/)?"?(\d{1,15})"?$/;

export function parseIfMatch(header: unknown): number | undefined {
  if (header === undefined || header === '*') return undefined;
  if (typeof header !== 'string') throw problems.badRequest('If-Match must be a single value');
  const match = ETAG.exec(header.trim());
  if (!match?.[1]) throw problems.badRequest(`If-Match must be a stream revision such as "3", got ${header}`);
  return Number(match[1]);
}

/**
 * Principal, correlation id (X-Correlation-Id or a new one), causation id (this request), If-Match, and the reserved
 * Idempotency-Key. A keyed request's causation id is its request id, the same on every retry of it.
 */
export const Ctx = createParamDecorator((_: unknown, ctx: ExecutionContext): CommandContext => {
  const request = ctx.switchToHttp().getRequest<RequestWithPrincipal & { headers: Record<string, unknown> }>();
  if (!request.principal) throw problems.unauthorized('No principal');
  const idempotency = reservedKeyOf(request);
  const causationId = idempotency?.requestId ?? uuidv7();
  const header = request.headers['x-correlation-id'];
  const correlationId = typeof header === 'string' && SAFE_ID.test(header) ? header : causationId;
  return {
    principal: request.principal,
    correlationId,
    causationId,
    expectedRevision: parseIfMatch(request.headers['if-match']),
    idempotency,
  };
});

/**
 * Id of the entity a command creates when the client chose none: a keyed request's request id, so that a retry after
 * a lost answer targets the same stream and answers the same id; else a new UUIDv7 on the injected clock.
 */
export function newEntityId(context: CommandContext, clock: Clock): string {
  return context.idempotency?.requestId ?? uuidv7(clock.now().getTime());
}

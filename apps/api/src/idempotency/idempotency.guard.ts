import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestWithPrincipal } from '../auth/principal';
import { problems } from '../http/problem';
import { canonicalJson, CLOCK, type Clock } from '@crm/runtime';
import { IDEMPOTENCY_STORE, type IdempotencyStore, type StoredResponse } from './idempotency-store';

const MAX_KEY_LENGTH = 255;
/** Headers a remembered response keeps (what command and problem responses set). */
const KEPT_HEADERS = ['content-type', 'etag', 'location', 'retry-after'];

/** Thrown by the guard for a key already answered: the problem filter sends the remembered response. */
export class IdempotentReplay {
  constructor(readonly response: StoredResponse) {}
}

/** Set on a request whose key was reserved: called with the response the request got, once it is written. */
const COMPLETE = Symbol('idempotency.complete');
interface RequestWithKey {
  [COMPLETE]?: (status: number, headers: Record<string, unknown>, payload: unknown) => void;
}

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) on POST: the same key with the same request replays
 * the first response and appends nothing; with another request → 422; while the first is still running → 409. Keys
 * are scoped to the principal, so this runs after authentication (a guard on each command controller). Responses with
 * status ≥ 500 are not remembered, so the client may retry them.
 *
 * A guard and a Fastify `onSend` hook rather than a Nest interceptor: an interceptor costs every request an rxjs
 * pipeline and two `AsyncResource.bind`s even when it has nothing to do, which is nearly always (no key).
 */
@Injectable()
export class IdempotencyGuard implements CanActivate {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & RequestWithPrincipal & RequestWithKey>();
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || key === undefined) return true;
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw problems.badRequest(`Idempotency-Key must be 1..${MAX_KEY_LENGTH} characters`);
    }
    const scope = `${request.principal?.id ?? 'anonymous'}\n${key}`;
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`)
      .digest('hex');
    const reservation = this.store.reserve(scope, requestHash, this.clock.now().getTime());
    if (reservation.kind === 'in-progress') throw problems.idempotencyKeyInProgress();
    if (reservation.kind === 'completed') {
      if (reservation.requestHash !== requestHash) throw problems.idempotencyKeyReused();
      throw new IdempotentReplay(reservation.response);
    }
    request[COMPLETE] = (status, headers, payload) => {
      if (status >= 500) {
        this.store.release(scope);
        return;
      }
      const kept: Record<string, string> = {};
      for (const name of KEPT_HEADERS) if (headers[name] !== undefined) kept[name] = String(headers[name]);
      const body = typeof payload === 'string' && /json/.test(kept['content-type'] ?? '') ? (JSON.parse(payload) as unknown) : payload;
      this.store.complete(scope, requestHash, { status, headers: kept, body }, this.clock.now().getTime());
    };
    return true;
  }
}

/** Fastify `onSend` hook: remembers the response of a request whose key the guard reserved. */
export function rememberIdempotentResponse(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void {
  const complete = (request as FastifyRequest & RequestWithKey)[COMPLETE];
  if (complete) {
    (request as FastifyRequest & RequestWithKey)[COMPLETE] = undefined;
    complete(reply.statusCode, reply.getHeaders(), payload);
  }
  done(null, payload);
}

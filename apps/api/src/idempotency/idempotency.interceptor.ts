import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, from, map, mergeMap, type Observable, throwError } from 'rxjs';
import type { RequestWithPrincipal } from '../auth/principal';
import { CommandResponse } from '../http/command-response';
import { problems } from '../http/problem';
import { toProblem } from '../http/to-problem';
import { canonicalJson, CLOCK, type Clock } from '@crm/runtime';
import { IDEMPOTENCY_STORE, type IdempotencyStore, type StoredResponse } from './idempotency-store';

const MAX_KEY_LENGTH = 255;

/**
 * Writes command responses, and implements `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header):
 * the same key with the same request replays the first response and appends nothing; with another request → 422;
 * while the first is still running → 409. Keys are scoped to the principal. Responses with status ≥ 500 are not
 * remembered, so the client may retry them.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & RequestWithPrincipal>();
    const reply = http.getResponse<FastifyReply>();
    const write = (value: unknown): unknown => {
      if (!(value instanceof CommandResponse)) return value;
      void reply.status(value.status).headers(value.headers);
      return value.body;
    };
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || key === undefined) return next.handle().pipe(map(write));
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      return throwError(() => problems.badRequest(`Idempotency-Key must be 1..${MAX_KEY_LENGTH} characters`));
    }
    const scope = `${request.principal?.id ?? 'anonymous'}\n${key}`;
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`)
      .digest('hex');
    const reservation = this.store.reserve(scope, requestHash, this.clock.now().getTime());
    if (reservation.kind === 'in-progress') return throwError(() => problems.idempotencyKeyInProgress());
    if (reservation.kind === 'completed') {
      if (reservation.requestHash !== requestHash) return throwError(() => problems.idempotencyKeyReused());
      const stored = reservation.response;
      void reply.header('idempotent-replayed', 'true');
      return from([new CommandResponse(stored.status, stored.headers, stored.body)]).pipe(map(write));
    }
    const remember = (response: StoredResponse): void => {
      if (response.status >= 500) this.store.release(scope);
      else this.store.complete(scope, requestHash, response, this.clock.now().getTime());
    };
    return next.handle().pipe(
      mergeMap(async (value: unknown) => {
        if (value instanceof CommandResponse) remember({ status: value.status, headers: value.headers, body: value.body });
        else this.store.release(scope);
        return value;
      }),
      map(write),
      catchError((error: unknown) => {
        const problem = toProblem(error);
        remember({ status: problem.status, headers: { ...problem.headers, 'content-type': 'application/problem+json' }, body: problem.toBody(request.url) });
        return throwError(() => error);
      }),
    );
  }
}

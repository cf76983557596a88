import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestWithPrincipal } from '../auth/principal';
import { problems } from '../http/problem';
import { StoreUnavailable } from '@crm/event-store';
import { canonicalJson, CLOCK, uuidv7, type Clock } from '@crm/runtime';
import {
  IDEMPOTENCY_STORE, idempotencyScopeHash, type IdempotencyStore, type Reservation, type StoredResponse,
} from './idempotency-store';

const MAX_KEY_LENGTH = 255;
/** Headers a remembered response keeps (what command and problem responses set). */
const KEPT_HEADERS = ['content-type', 'etag', 'location', 'retry-after'];

/** Thrown by the guard for a key already answered: the problem filter sends the remembered response. */
export class IdempotentReplay {
  constructor(readonly response: StoredResponse) {}
}

/** What the command path needs of a reserved key (read into the CommandContext). */
export interface ReservedKey {
  /** Hash of (principal, key): carried by the events the request appends, so a recovered retry can find them. */
  readonly key: string;
  /** Minted when the key was first reserved; reused as the new entity's id and the causation id on every retry. */
  readonly requestId: string;
  /** An earlier attempt ended without an answer: it may have appended. */
  readonly recovered: boolean;
}

/** Set on a request whose key was reserved: called with the response the request got, once it is written. */
const COMPLETE = Symbol('idempotency.complete');
const RESERVED = Symbol('idempotency.reserved');
interface RequestWithKey {
  [COMPLETE]?: (status: number, headers: Record<string, unknown>, payload: unknown) => Promise<void>;
  [RESERVED]?: ReservedKey;
}

export function reservedKeyOf(request: object): ReservedKey | undefined {
  return (request as RequestWithKey)[RESERVED];
}

const logger = new Logger('idempotency');

/** The idempotency store failed (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY, …): the client may retry later. */
function isStoreFailure(error: unknown): boolean {
  if (error instanceof StoreUnavailable) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) on POST: the same key with the same request replays
 * the first response and appends nothing; with another request → 422; while the first is still running → 409. Keys
 * are scoped to the principal, so this runs after authentication (a guard on each command controller). Responses with
 * status ≥ 500 are not remembered, so the client may retry them. A key whose request ended without a remembered answer
 * (5xx, a crash, a failure to record it) is recovered by the next attempt: same request id, and the command path looks
 * in the stream for what the earlier attempt appended (docs/decisions.md, "Idempotency-Key survives a crash").
 * A failing idempotency store answers 503 store-unavailable, never 500.
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

  /** Unkeyed requests (nearly all) are answered synchronously: no promise, no microtask. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & RequestWithPrincipal & RequestWithKey>();
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || key === undefined) return true;
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw problems.badRequest(`Idempotency-Key must be 1..${MAX_KEY_LENGTH} characters`);
    }
    return this.reserve(request, key);
  }

  private async reserve(request: FastifyRequest & RequestWithPrincipal & RequestWithKey, key: string): Promise<boolean> {
    const scope = `${request.principal?.id ?? 'anonymous'}\n${key}`;
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`)
      .digest('hex');
    const now = this.clock.now().getTime();
    let reservation: Reservation;
    try {
      reservation = await this.store.reserve(scope, requestHash, now, uuidv7(now));
    } catch (error) {
      if (!isStoreFailure(error)) throw error;
      logger.error({ msg: 'idempotency store failed; request refused', error: String(error) });
      throw problems.storeUnavailable('The idempotency store is unavailable; retry later');
    }
    if (reservation.kind === 'in-progress') throw problems.idempotencyKeyInProgress();
    if (reservation.kind === 'reused') throw problems.idempotencyKeyReused();
    if (reservation.kind === 'completed') {
      if (reservation.requestHash !== requestHash) throw problems.idempotencyKeyReused();
      throw new IdempotentReplay(reservation.response);
    }
    request[RESERVED] = {
      key: idempotencyScopeHash(scope),
      requestId: reservation.requestId,
      recovered: reservation.recovered,
    };
    // Never rejects (release logs its own failure): a failure to record is logged and the reservation released.
    request[COMPLETE] = async (status, headers, payload) => {
      if (status >= 500) {
        await this.release(scope);
        return;
      }
      try {
        const kept: Record<string, string> = {};
        for (const name of KEPT_HEADERS) if (headers[name] !== undefined) kept[name] = String(headers[name]);
        const body = typeof payload === 'string' && /json/.test(kept['content-type'] ?? '') ? (JSON.parse(payload) as unknown) : payload;
        await this.store.complete(scope, requestHash, { status, headers: kept, body }, this.clock.now().getTime());
      } catch (error) {
        // The answer stands (its events are in the log); the key stays pending and a retry recovers it from the stream.
        // The answer does not wait for the release: a store that just failed may take its timeout to fail again.
        void this.release(scope);
        logger.error({ msg: 'idempotency outcome not recorded; a retry will recover it', status, error: String(error) });
      }
    };
    return true;
  }

  private async release(scope: string): Promise<void> {
    try {
      await this.store.release(scope);
    } catch (error) {
      logger.error({ msg: 'idempotency key not released', error: String(error) });
    }
  }
}

/**
 * Fastify `onSend` hook: remembers the response of a request whose key the guard reserved. Every answer (a thrown
 * exception is answered by the problem filter) passes here; `releaseUnansweredIdempotencyKey` covers the rest. The
 * answer waits for the record, so a retry that follows it at once (on any replica) gets a replay, not a 409.
 */
export function rememberIdempotentResponse(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void {
  const complete = (request as FastifyRequest & RequestWithKey)[COMPLETE];
  if (!complete) {
    done(null, payload);
    return;
  }
  (request as FastifyRequest & RequestWithKey)[COMPLETE] = undefined;
  complete(reply.statusCode, reply.getHeaders(), payload).then(
    () => done(null, payload),
    (error: unknown) => { // a defect: complete catches what it expects; the answer still goes out
      logger.error({ msg: 'idempotency outcome not recorded', error: String(error) });
      done(null, payload);
    },
  );
}

/**
 * Fastify `onResponse` hook, a backstop: a reserved request that ended without passing `onSend` (its connection broke)
 * must not keep its key "in progress"; a retry recovers it from the stream.
 */
export function releaseUnansweredIdempotencyKey(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const complete = (request as FastifyRequest & RequestWithKey)[COMPLETE];
  if (complete) {
    (request as FastifyRequest & RequestWithKey)[COMPLETE] = undefined;
    complete(500, {}, undefined).catch((error: unknown) => logger.error({ msg: 'idempotency key not released', error: String(error) }));
  }
  done();
}

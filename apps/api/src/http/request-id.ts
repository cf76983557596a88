import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { uuidv7 } from '@crm/runtime';

/**
 * What a client may send as an id we echo and log (X-Request-Id, X-Correlation-Id): short, and nothing that could
 * split a log line, forge a header or smuggle markup into a log viewer.
 */
export const SAFE_ID = /^[\w.:@-]{1,128}$/;

/**
 * Fastify's `genReqId`: the balancer's or client's `X-Request-Id` when it is safe, so one id follows a request
 * through the proxy and every replica's logs; otherwise (absent, repeated, or unsafe) a new UUIDv7.
 */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  return typeof given === 'string' && SAFE_ID.test(given) ? given : uuidv7();
}

/**
 * One access-log line per answered request. The path without its query: a search (`?q=`) carries names, which are
 * personal data and must not outlive an erasure in log files (docs/privacy.md).
 */
export function logCompleted(logger: Logger, request: FastifyRequest, status: number, startedAt: bigint): void {
  const principal = (request as FastifyRequest & { principal?: { id: string } }).principal;
  logger.info(
    {
      reqId: request.id,
      method: request.method,
      route: request.routeOptions.url ?? null,
      path: request.url.split('?', 1)[0],
      status,
      durationMs: Math.round(Number(process.hrtime.bigint() - startedAt) / 1e4) / 100,
      actor: principal?.id,
    },
    'request completed',
  );
}
